/**
 * Workload `overhead`: what a pool costs per task when the task does nothing. 100,000 separate
 * submissions (applyAsync; run()/exec() for the libraries) and one 1,000,000-item map, on our
 * thread pool and on piscina, tinypool and workerpool with the same threads; plus the cost of one
 * call across the napi boundary (`native.isPrime`) next to the same call in JS.
 */
import { isPrimeNumber } from '../src/native/fallback.js';
import { native } from '../index.js';
import type { BenchRecord } from './common.js';
import { type Engine, type Runner, ourPool, piscina, tinypool, workerpool } from './engines.js';
import { engineSteps, measureEngine, type SuiteContext } from './measure.js';
import { runTimeoutMs } from './seed.js';

export interface OverheadSizes {
  submissions: number;
  mapItems: number;
  calls: number;
}

export function overheadSizes(quick: boolean): OverheadSizes {
  return quick
    ? { submissions: 2_000, mapItems: 20_000, calls: 100_000 }
    : { submissions: 100_000, mapItems: 1_000_000, calls: 1_000_000 };
}

/** Full-size runs of 100,000 round trips take seconds each on 2 cores: three runs are plenty. */
export const overheadRuns = (quick: boolean, runs: number) => (quick ? runs : Math.min(runs, 3));

function overheadEngines(threads: number): Engine[] {
  return [ourPool('thread', threads), piscina(threads), tinypool(threads), workerpool(threads)];
}

const callEngines = (): Engine[] => [
  { name: 'JS isPrime(97)', kind: 'baseline', threads: 1, pooled: false, start: callRunner(isPrimeNumber) },
  {
    name: 'native.isPrime(97)',
    kind: 'ours',
    threads: 1,
    pooled: false,
    note: native.available ? 'one napi call each' : 'no native binary loaded: the pure-TS fallback ran',
    start: callRunner((x) => native.isPrime(x)),
  },
];

function callRunner(isPrime: (x: number) => boolean) {
  return async () => {
    const calls = async (_fn: string, inputs: number[]) => {
      let found = 0;
      for (let i = 0; i < inputs.length; i++) if (isPrime(97)) found++;
      return found;
    };
    return { startupMs: null, map: calls, each: calls, close: async () => {} };
  };
}

export function overheadSteps(threads: number, runs: number, quick: boolean): number {
  const r = overheadRuns(quick, runs);
  return (
    overheadEngines(threads).reduce((total, e) => total + 2 * engineSteps(e, r), 0) +
    callEngines().reduce((total, e) => total + engineSteps(e, r), 0)
  );
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * A tenth of a run warms a pool's message path as well as a whole one does, and the slowest
 * libraries take over ten seconds per 100,000 round trips on 2 cores.
 */
const warmupSize = (items: number) => Math.max(100, Math.ceil(items / 10));

export async function runOverhead(ctx: SuiteContext): Promise<BenchRecord[]> {
  const { threads, quick } = ctx.options;
  const sizes = overheadSizes(quick);
  const sub = { ...ctx, options: { ...ctx.options, runs: overheadRuns(quick, ctx.options.runs) } };
  const timeoutMs = runTimeoutMs(null);
  const records: BenchRecord[] = [];
  const range = (count: number) => Array.from({ length: count }, (_, i) => i);
  const triangle = (count: number) => (count * (count - 1)) / 2;

  /** Times `run` over all of `items` (noops: the checksum is the sum of the items), warmed up on a tenth. */
  const noops = (engine: Engine, items: number[], label: string, run: (r: Runner, items: number[]) => Promise<number>) =>
    measureEngine(
      sub,
      'overhead',
      engine,
      (r) => run(r, items),
      triangle(items.length),
      items.length,
      timeoutMs,
      label,
      (r) => run(r, items.slice(0, warmupSize(items.length))),
    );

  const submissions = range(sizes.submissions);
  const mapItems = range(sizes.mapItems);
  for (const engine of overheadEngines(threads)) {
    const ours = engine.kind === 'ours';
    const submit = ours ? 'applyAsync' : engine.name === 'workerpool' ? 'exec' : 'run';
    records.push(
      await noops(engine, submissions, `${engine.name}: ${fmt(submissions.length)} × ${submit}`, (r, items) =>
        r.each('noop', items),
      ),
    );
    const chunked = ours ? '' : ' (chunked like Pool.map)';
    records.push(
      await noops(engine, mapItems, `${engine.name}: map of ${fmt(mapItems.length)}${chunked}`, (r, items) =>
        r.map('noop', items),
      ),
    );
  }
  const calls = range(sizes.calls);
  for (const engine of callEngines()) {
    records.push(
      await measureEngine(
        sub,
        'overhead',
        engine,
        (r) => r.map('isPrime', calls),
        calls.length,
        calls.length,
        timeoutMs,
        `${engine.name} × ${fmt(calls.length)}`,
      ),
    );
  }
  for (const r of records) r.opsPerSecond = r.status === 'ok' && r.medianMs ? (r.items * 1000) / r.medianMs : null;
  return records;
}
