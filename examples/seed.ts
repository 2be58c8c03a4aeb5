/**
 * The experiment the project grew from: sumPrimes(n) for n = 0, 500, …, 99500 on one thread,
 * on a thread Pool, on a process Pool, and native (one thread, then a rayon Pool). Every way
 * gives the checksum 31007039440; `npx napi-multiprocessing bench` measures them properly.
 *
 *   node --import tsx examples/seed.ts
 */
import { Pool, native, task } from 'napi-multiprocessing';

import { sumPrimes as sumPrimesHere } from './cluster/tasks.mjs';

const sumPrimes = task<typeof sumPrimesHere>(new URL('./cluster/tasks.mjs', import.meta.url), 'sumPrimes');
const xs = Array.from({ length: 200 }, (_, i) => i * 500);
const total = (sums: number[]) => sums.reduce((a, b) => a + b, 0);

async function timed(label: string, run: () => number[] | Promise<number[]>): Promise<void> {
  const start = performance.now();
  const sum = total(await run());
  console.log(`${label.padEnd(14)} ${sum}  ${Math.round(performance.now() - start)} ms`);
}

await timed('one thread', () => xs.map(sumPrimesHere));
for (const backend of ['thread', 'process'] as const) {
  await using pool = new Pool({ backend });
  await pool.map(sumPrimes, [0]); // start the workers first: time the work, not the start-up
  await timed(`${backend} pool`, () => pool.map(sumPrimes, xs, 1));
}
await timed('native', () => xs.map((x) => native.sumPrimes(x)));
await using rayon = new Pool({ backend: 'native' });
await timed('native pool', () => rayon.map(native.sumPrimes, xs));
