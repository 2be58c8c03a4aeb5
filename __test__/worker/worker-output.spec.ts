// What workers print reaches the parent's stdout and stderr before join() returns.
import test from 'ava';

import { fixturePath, runNode } from '../helpers/node.js';

// The loss this guards against showed in most runs of the thread pool; one run each of the rest.
const runs = (what: string, backend: string) => (what === 'pool' && backend === 'thread' ? 3 : 1);

function count(text: string, prefix: string): number {
  return text.split('\n').filter((line) => line.startsWith(prefix)).length;
}

for (const what of ['pool', 'process'] as const) {
  for (const backend of ['thread', 'process'] as const) {
    test(`${backend} ${what}: every console line of the workers is out before join() returns`, async (t) => {
      for (let run = 0; run < runs(what, backend); run++) {
        const { code, stdout, stderr } = await runNode(['--import=tsx', fixturePath('console-lines.ts'), what, backend]);
        t.is(code, 0, stderr.slice(-2000));
        for (const [name, text, prefix] of [
          ['stdout', stdout, 'out '],
          ['stderr', stderr, 'err '],
        ] as const) {
          t.is(count(text, prefix), 1000, `${name} lines in run ${run}`);
          t.true(text.endsWith('JOINED\n'), `${name} has lines after join() returned in run ${run}`);
        }
      }
    });
  }
}

test('a pool of many threads closes and joins without a word on stderr', async (t) => {
  const entry = new URL('../../index.ts', import.meta.url).href;
  const script = `import { Pool } from ${JSON.stringify(entry)};
const pool = new Pool({ processes: 16 });
await pool.map((x) => x, Array.from({ length: 64 }, (_, i) => i), 1);
pool.close();
await pool.join();
console.log('joined');`;
  const { code, stdout, stderr } = await runNode(['--import=tsx', '--input-type=module', '-e', script]);
  t.is(stderr, '');
  t.is(code, 0);
  t.is(stdout, 'joined\n');
});
