// The seed's multiprocessing examples (examples/processes.ts, pool.ts, communication.ts,
// shared-value.ts) against what the Python originals print.
import test from 'ava';

import { runExample, starting } from './run.js';

const squares = '[\n   0,  1,  4,  9, 16,\n  25, 36, 49, 64, 81\n]';

test('examples/processes.ts: each child reports its own pid and the main program as its parent', async (t) => {
  const lines = await runExample(t, 'processes.ts');
  const [mainPid, childPid] = [lines[2], lines[7]].map((line) => Number(/^process id: (\d+)$/.exec(line!)![1]));
  t.deepEqual(lines.slice(0, 2), ['main line', `parent process: ${/^parent process: (\d+)$/.exec(lines[1]!)![1]}`]);
  t.deepEqual(lines.slice(3), [
    'hello bob',
    'Process-1 exit code 0',
    'function info',
    `parent process: ${mainPid}`,
    `process id: ${childPid}`,
    'Process-2 exit code 0',
    'MyProcess run n=3 in MyProcess-3',
    'MyProcess-3 exit code 0',
  ]);
  t.not(childPid, mainPid);
});

test('examples/pool.ts: map, applyAsync with a callback, imap, imapUnordered, close() and join()', async (t) => {
  const out = (await runExample(t, 'pool.ts')).join('\n');
  t.is(
    out,
    [
      squares,
      'callback 100',
      '100',
      squares,
      squares,
      'Waiting for all subprocesses done...',
      '0^2=0 1^2=1 2^2=4 3^2=9 4^2=16',
      'All subprocesses done.',
    ].join('\n'),
  );
});

for (const backend of ['thread', 'process'] as const) {
  const args = backend === 'thread' ? [] : [backend];

  test(`examples/communication.ts ${backend}: a Queue between two Processes, a Pipe to a child, prints under a Lock`, async (t) => {
    const lines = await runExample(t, 'communication.ts', args);
    t.deepEqual(starting(lines, 'Put '), ['Put A to queue...', 'Put B to queue...', 'Put C to queue...']);
    t.deepEqual(starting(lines, 'Get '), ['Get A from queue.', 'Get B from queue.', 'Get C from queue.']);
    t.is(lines[6], "[ 42, null, 'hello' ]");
    t.deepEqual(lines.slice(7).sort(), ['hello world 0', 'hello world 1', 'hello world 2', 'hello world 3', 'hello world 4']);
  });

  test(`examples/shared-value.ts ${backend}: a child Process changes a Value and a SharedArray`, async (t) => {
    const out = (await runExample(t, 'shared-value.ts', args)).join('\n');
    t.is(out, '3.1415927\n[\n   0, -1, -2, -3, -4,\n  -5, -6, -7, -8, -9\n]');
  });
}
