// A worker thread blocked in a synchronous wait on memory shared between processes sleeps in the
// addon's futex wait, where Worker.terminate() does not reach it: a pool's terminate(), a thread
// Process's terminate() and Node's own exit must still end such a thread. Run on the built package
// in a child Node: under tsx these waits happened to take another path, and a hung exit is only
// seen from outside.
import anyTest from 'ava';

import { processShared } from '../../src/shm/memory.js';
import { runNode } from '../helpers/node.js';

// Without native segments the waits are Atomics.wait, which terminate() always ended.
const test = processShared ? anyTest : anyTest.skip;

const built = JSON.stringify(new URL('../../dist/index.js', import.meta.url).href);
const settle = 'await new Promise((resolve) => setTimeout(resolve, 500));';

test('thread Pool and thread Process: terminate() ends a worker blocked in getSync() or Event.waitSync()', async (t) => {
  const script = `
import { Event, Pool, Process, Queue } from ${built};
const pool = new Pool({ processes: 1 });
const task = pool.apply((queue) => queue.getSync(), [new Queue()]).catch((error) => error.name);
${settle}
await pool.terminate();
const p = new Process({ target: (event) => event.waitSync(), args: [new Event()] });
p.start();
${settle}
p.terminate();
await p.join();
console.log(JSON.stringify({ task: await task, exitCode: p.exitCode }));
`;
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script], { timeoutMs: 60_000 });
  t.is(stderr, '');
  t.is(code, 0);
  const out = JSON.parse(stdout) as { task: string; exitCode: number };
  t.is(out.task, 'PoolTerminatedError');
  t.not(out.exitCode, 0);
});

test('process.exit() on the main thread ends Node while a worker is blocked in getSync()', async (t) => {
  const script = `
import { Pool, Queue } from ${built};
const pool = new Pool({ processes: 1 });
void pool.apply((queue) => queue.getSync(), [new Queue()]);
${settle}
console.log('exiting');
process.exit(7);
`;
  const { code, stdout, stderr } = await runNode(['--input-type=module', '-e', script], { timeoutMs: 60_000 });
  t.is(stderr, '');
  t.is(stdout.trim(), 'exiting');
  t.is(code, 7);
});
