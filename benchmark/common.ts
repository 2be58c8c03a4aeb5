/**
 * What every benchmark suite shares: the result record (the JSON shape), the machine description,
 * the seed inputs and their checksum, and the benny wrapper that times one engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import b from 'benny';

import { native, type SimdPath } from '../index.js';
import { sumPrimesNumber } from '../src/native/fallback.js';

export const SEED_N = 100_000;
export const SEED_STEP = 500;
/** The seed workload's known total: sumPrimes(n) for n = 0, 500, …, 99500. */
export const SEED_CHECKSUM = 31007039440;

export type Workload = 'seed' | 'overhead' | 'scaling' | 'cluster' | 'managers';

/**
 * Why a row has no timing. Rows are never dropped: a user must see that an engine was not
 * compared, and why.
 */
export type Status = 'ok' | 'not built yet' | 'not installed' | 'skipped' | 'error';

export type EngineKind = 'baseline' | 'ours' | 'library' | 'external';

export interface Machine {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  arch: string;
  nativeAvailable: boolean;
  /** `native.simd`: how the native kernels divide on this CPU ('scalar' in the pure-TS fallback). */
  simd: SimdPath;
  python: string | null;
}

/** One record per engine and workload: the documented JSON shape (see docs/benchmark.md). */
export interface BenchRecord {
  workload: Workload;
  name: string;
  kind: EngineKind;
  /** The engine family a scaling row belongs to (one chart series per family). */
  series?: string;
  status: Status;
  /** Why the row is not 'ok', or what to know about it (e.g. "external reference"). */
  note?: string;
  /** Workers (threads or processes) the engine ran with; 1 for single-thread engines. */
  threads: number;
  /** Measured runs behind the median (after the warm-up). */
  runs: number;
  /** Median wall time of one run, ms (the figure to compare); `wallMs` is the same number. */
  medianMs: number | null;
  wallMs: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** Pool start-up (spawn until every worker answered a trivial task), ms; null without a pool. */
  startupMs: number | null;
  /**
   * Seed workload: the RSS the engine's pool adds once started and warmed by one run, measured in a
   * fresh process per engine (its child processes included on Linux); bytes. Null without a pool.
   */
  memoryBytes?: number | null;
  /** JS single thread median / this median, same workload and inputs. */
  speedup: number | null;
  /** For the overhead workload: tasks (or calls) per second at the median. */
  opsPerSecond?: number | null;
  /** Items one run processes (tasks, calls). */
  items: number;
  checksum: number | null;
  expectedChecksum: number;
  checksumOk: boolean | null;
  machine: Machine;
}

export interface BenchOptions {
  quick: boolean;
  n: number;
  step: number;
  threads: number;
  /** Measured runs per engine (each after one warm-up run). */
  runs: number;
}

export function seedInputs(n: number, step: number): number[] {
  const inputs: number[] = [];
  for (let x = 0; x < n; x += step) inputs.push(x);
  return inputs;
}

const checksumCache = new Map<string, number>();

/**
 * The total every engine must reach. The default one is the known constant; any other n/step is
 * computed once with the JS kernel, itself checked against the constant by the test suite.
 */
export function expectedSeedChecksum(n: number, step: number): number {
  if (n === SEED_N && step === SEED_STEP) return SEED_CHECKSUM;
  const key = `${n}/${step}`;
  let value = checksumCache.get(key);
  if (value === undefined) {
    value = seedInputs(n, step).reduce((sum, x) => sum + sumPrimesNumber(x), 0);
    checksumCache.set(key, value);
  }
  return value;
}

export const sum = (values: readonly number[]): number => values.reduce((a, v) => a + v, 0);

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, c) => a - c);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The package root, found from this file whether it runs as TypeScript source or bundled in dist/. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'napi-multiprocessing') return dir;
      } catch {
        // not ours; keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('napi-multiprocessing bench: cannot find the package root');
    dir = parent;
  }
})();

export const tasksModule = pathToFileURL(join(packageRoot, 'benchmark', 'tasks', 'primes.mjs'));
export const workerpoolScript = join(packageRoot, 'benchmark', 'tasks', 'workerpool-worker.mjs');
export const pythonScript = join(packageRoot, 'benchmark', 'python', 'seed.py');

export function describeMachine(nativeAvailable: boolean, python: string | null, simd: SimdPath = native.simd): Machine {
  const cpu = cpus()[0];
  return {
    cpuModel: cpu?.model.trim() || 'unknown',
    cores: availableParallelism(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    nativeAvailable,
    simd,
    python,
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** Rejects after `ms` so a stuck engine becomes an error row instead of a hung benchmark. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Timed {
  runs: number;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Every distinct value the runs returned (one, the checksum, when the engine is right). */
  values: number[];
}

/**
 * Times `run` with benny: one warm-up run first (`options.warmup`, or `run` itself), then at least `runs` measured runs; the sample
 * statistics come from benchmark.js (its per-run times, of which we report median/min/max).
 *
 * Three things about benny shape this wrapper:
 * - benny calls an async case once while preparing, before the suite runs and without awaiting it;
 *   the `armed` flag turns that call into a no-op, so no run overlaps another.
 * - a rejected case would leave benchmark.js waiting forever (benny resolves the deferred only on
 *   success), so every run catches its own error, and later runs return at once.
 * - benny logs "Running … suite" to stdout, where our table goes; it is muted while the suite runs.
 */
export async function timeWithBenny(
  suiteName: string,
  caseName: string,
  runs: number,
  run: () => Promise<number>,
  options: { onRun?: () => void; timeoutMs: number; warmup?: () => Promise<number> },
): Promise<Timed> {
  const values = new Set<number>();
  let failure: unknown;
  let armed = false;
  const guarded = async (): Promise<void> => {
    values.add(await withTimeout(run(), options.timeoutMs, caseName));
  };

  // The warm-up: JIT, worker module caches, lazily started workers. A smaller one may be given
  // where a full-size run takes many seconds and warms nothing more.
  if (options.warmup) await withTimeout(options.warmup(), options.timeoutMs, `${caseName} (warm-up)`);
  else await guarded();
  options.onRun?.();

  const body = async (): Promise<void> => {
    if (!armed || failure !== undefined) return;
    try {
      await guarded();
      options.onRun?.();
    } catch (error) {
      failure = error;
    }
  };

  const log = console.log;
  console.log = () => {};
  let summary: Awaited<ReturnType<typeof b.suite>>;
  try {
    summary = await b.suite(
      suiteName,
      b.add(caseName, body, {
        minSamples: runs,
        // Stop at minSamples: the runs are long and the machine is shared; a median of a few
        // runs is what we report anyway.
        maxTime: 0,
        delay: 0,
        onStart: () => {
          armed = true;
        },
      } as never),
      b.cycle(() => {}),
      b.complete(() => {}),
    );
  } finally {
    console.log = log;
  }
  if (failure !== undefined) throw failure;
  const result = summary.results[0];
  if (!result) throw new Error(`${caseName}: benny returned no result`);
  const samplesMs = result.details.sampleResults.map((s) => s * 1000);
  return {
    runs: samplesMs.length,
    samplesMs,
    medianMs: result.details.median * 1000,
    minMs: result.details.min * 1000,
    maxMs: result.details.max * 1000,
    values: [...values],
  };
}
