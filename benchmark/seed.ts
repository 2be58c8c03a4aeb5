/**
 * The seed experiment: sumPrimes(n) for n = 0, 500, …, 99500 (200 tasks), run by each engine, each
 * checked against the checksum 31007039440. benny (benchmark.js) times the runs; the speedups are
 * ratios measured side by side in this one run, which is what to compare on a noisy machine.
 */
import b from 'benny';

import { native, Pool } from '../index.js';
import { sumPrimesNumber } from '../src/kernels.js';

const SEED_CHECKSUM = 31007039440;
const inputs = Array.from({ length: 200 }, (_, i) => i * 500);
const threads = Number(process.env.BENCH_THREADS ?? 2);

function check(engine: string, total: number): void {
  if (total !== SEED_CHECKSUM) throw new Error(`${engine}: checksum ${total}, expected ${SEED_CHECKSUM}`);
}

const sum = (xs: number[]) => xs.reduce((a, v) => a + v, 0);

export async function runSeedSuite(): Promise<Record<string, number>> {
  const pool = new Pool({ backend: 'native', processes: threads });
  const hz: Record<string, number> = {};
  await b.suite(
    `seed: sumPrimes(0..99500 step 500), checksum ${SEED_CHECKSUM}, ${threads} threads`,
    b.add('JS single thread', () => check('JS single thread', sum(inputs.map(sumPrimesNumber)))),
    b.add('native single thread', () => check('native single thread', sum(inputs.map(native.sumPrimes)))),
    b.add(`native Pool (${threads} rayon threads)`, async () => check('native Pool', sum(await pool.map(native.sumPrimes, inputs)))),
    b.cycle((result) => {
      hz[result.name] = result.ops;
      process.stdout.write(`  ${result.name}: ${(1000 / result.ops).toFixed(1)} ms per run (±${result.margin}%)\n`);
    }),
    b.complete(),
  );
  await pool.terminate();
  return hz;
}

function callsPerSecond(): number {
  // napi call overhead: a tight loop of isPrime(97), best of five 1-million-call rounds.
  let best = 0;
  let found = 0;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) if (native.isPrime(97)) found++;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, 1_000_000 / seconds);
  }
  if (found !== 5_000_000) throw new Error('isPrime(97) must be true');
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`native binary loaded: ${native.available}`);
  const hz = await runSeedSuite();
  const js = hz['JS single thread']!;
  const single = hz['native single thread']!;
  const pooled = Object.entries(hz).find(([name]) => name.startsWith('native Pool'))![1];
  console.log(`\nchecksum ${SEED_CHECKSUM} matched by every engine`);
  console.log(`native single vs JS single:   ${(single / js).toFixed(2)}x`);
  console.log(`native Pool vs native single: ${(pooled / single).toFixed(2)}x (limit ${threads}.0x)`);
  console.log(`native Pool vs JS single:     ${(pooled / js).toFixed(2)}x`);
  console.log(`native.isPrime(97):           ${(callsPerSecond() / 1e6).toFixed(1)} million calls/s`);
}
