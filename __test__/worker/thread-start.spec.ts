// The built package starts a thread worker from its file (no eval'd bootstrap to compile and run
// first), with the parent's flags that apply to it; a flag a Worker cannot be given in a list
// still works, through the bootstrap that inherits every flag.
import test from 'ava';

import { runNode } from '../helpers/node.js';

const built = new URL('../../dist/index.js', import.meta.url).href;
const script = `
import { Pool } from ${JSON.stringify(built)};
const pool = new Pool({ processes: 1 });
// An eval'd bootstrap is given its entry in workerData; a worker started from a file has none.
const how = await pool.apply(async () => ((await import('node:worker_threads')).workerData ? 'eval' : 'file'), []);
const doubled = await pool.apply((x) => x * 2, [21]);
await pool.terminate();
console.log(JSON.stringify({ how, doubled }));
`;

for (const [flags, how] of [
  [[], 'file'],
  [['--expose-gc'], 'eval'],
] as const) {
  test(`a built thread pool under ${flags.join(' ') || 'no flags'} and --input-type=module starts its workers from ${how === 'file' ? 'a file' : "the eval'd bootstrap"}`, async (t) => {
    const { code, stdout, stderr } = await runNode([...flags, '--input-type=module', '-e', script], { timeoutMs: 100_000 });
    t.is(stderr, '');
    t.is(code, 0);
    t.deepEqual(JSON.parse(stdout), { how, doubled: 42 });
  });
}
