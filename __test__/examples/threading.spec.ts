// examples/threading.ts against what the seed's Python threading tutorial prints.
import test from 'ava';

import { runExample, starting } from './run.js';

test('examples/threading.ts: Threads with targets, a Thread subclass, MainThread and a locked counter', async (t) => {
  const lines = await runExample(t, 'threading.ts');
  t.is(lines[0], 'MainThread');
  // The two threads interleave as Python's do: each line twice, from the thread that owns it.
  t.deepEqual(starting(lines, 'I was listening'), [
    'I was listening to a song. (Thread-1)',
    'I was listening to a song. (Thread-1)',
  ]);
  t.deepEqual(starting(lines, 'I was at'), ['I was at the movies! (Thread-2)', 'I was at the movies! (Thread-2)']);
  t.deepEqual(lines.slice(5), ['all over: Thread-1, Thread-2', 'MyThread run n=3 in Thread-3', 'counter: 40000']);
});
