/**
 * Workload `scaling`: the seed workload on each of our backends with 1, 2, … cpuCount() workers,
 * to show how the time falls (or does not) as cores are added. Speedups are over the JS single
 * thread, measured in the same invocation.
 */

import { cpuCount } from '../index.js';
import { type BenchRecord, expectedSeedChecksum, seedInputs } from './common.js';
import { type Engine, jsSingle, ourPool } from './engines.js';
import { applySpeedups, engineSteps, measureEngine, type SuiteContext } from './measure.js';
import { BASELINE, runTimeoutMs } from './seed.js';

export const SCALING_BACKENDS = ['thread', 'process', 'native'] as const;

export { cpuCount };

export const scalingRuns = (runs: number) => Math.min(runs, 3);

export function scalingSteps(runs: number): number {
  const r = scalingRuns(runs);
  return SCALING_BACKENDS.length * cpuCount() * engineSteps({ pooled: true }, r) + engineSteps(jsSingle, r);
}

/**
 * The JS single-thread baseline is measured again here rather than taken from the seed workload:
 * on a shared machine the load a minute earlier is not the load now, and a ratio is only fair
 * between runs made close together.
 */
export async function runScaling(ctx: SuiteContext): Promise<BenchRecord[]> {
  const { n, step } = ctx.options;
  const sub = { ...ctx, options: { ...ctx.options, runs: scalingRuns(ctx.options.runs) } };
  const inputs = seedInputs(n, step);
  const expected = expectedSeedChecksum(n, step);
  const records: BenchRecord[] = [];
  const measure = (engine: Engine, timeoutMs: number, label?: string) =>
    measureEngine(sub, 'scaling', engine, (r) => r.map('sumPrimes', inputs), expected, inputs.length, timeoutMs, label);
  const base = await measure(jsSingle, runTimeoutMs(null));
  base.series = 'JS single thread';
  records.push(base);
  const timeoutMs = runTimeoutMs(base.medianMs);
  for (const backend of SCALING_BACKENDS) {
    for (let workers = 1; workers <= cpuCount(); workers++) {
      const engine = ourPool(backend, workers);
      const label = `${engine.name}, ${workers} worker${workers === 1 ? '' : 's'}`;
      const record = await measure(engine, timeoutMs, label);
      record.series = engine.name;
      records.push(record);
    }
  }
  applySpeedups(records, BASELINE);
  return records;
}
