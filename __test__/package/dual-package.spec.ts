import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

const root = fileURLToPath(new URL('../..', import.meta.url));

// A program that loads both builds (ESM `import` and CJS `require`, e.g. through two dependencies).
const script = `
import { createRequire } from 'node:module';
import { Pool, Value } from './dist/index.js';
const cjs = createRequire(import.meta.url)('./dist/index.cjs');
const pool = new Pool({ processes: 1 });
const a = new Value('i', 1);
const b = new cjs.Value('i', 2);
const seen = await pool.apply((x, y) => [x.value, y.value], [a, b]);
await pool.apply((y) => { y.value = 42; }, [b]);
await pool.terminate();
// An error of one build is an instance of the other build's class too.
const { PoolTerminatedError, TimeoutError, WorkerCrashedError } = await import('./dist/index.js');
const crossed = [
  new cjs.PoolTerminatedError() instanceof PoolTerminatedError,
  new PoolTerminatedError() instanceof cjs.PoolTerminatedError,
  new cjs.WorkerCrashedError('gone', { exitCode: 1 }) instanceof WorkerCrashedError,
  new cjs.PoolTerminatedError() instanceof TimeoutError,
];
console.log(JSON.stringify({ seen, a: a.value, b: b.value, crossed }));
`;

test('with both builds loaded: a Value from each stays its own object in a worker, and error classes match across builds', async (t) => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  t.deepEqual(JSON.parse(stdout), { seen: [1, 2], a: 1, b: 42, crossed: [true, true, true, false] });
});
