/**
 * Runs one engine on one workload and turns whatever happens (numbers, a missing backend, a
 * missing library, a wrong checksum, a crash) into exactly one record.
 */
import {
  type BenchOptions,
  type BenchRecord,
  type EngineKind,
  errorMessage,
  type Machine,
  type Status,
  timeWithBenny,
  type Workload,
} from './common.js';
import { type Engine, type Runner, Unavailable } from './engines.js';
import type { Progress } from './progress.js';

export interface SuiteContext {
  options: BenchOptions;
  progress: Progress;
  machine: Machine;
}

export function emptyRecord(
  workload: Workload,
  fields: { name: string; kind: EngineKind; threads: number; items: number; expectedChecksum: number },
  machine: Machine,
): BenchRecord {
  return {
    workload,
    ...fields,
    status: 'error',
    runs: 0,
    medianMs: null,
    wallMs: null,
    minMs: null,
    maxMs: null,
    startupMs: null,
    speedup: null,
    checksum: null,
    checksumOk: null,
    machine,
  };
}

/** Progress steps one engine takes: start-up (pools), warm-up, measured runs. */
export function engineSteps(engine: { pooled: boolean }, runs: number): number {
  return (engine.pooled ? 1 : 0) + 1 + runs;
}

export function outcomeText(record: BenchRecord): string {
  if (record.status === 'ok') {
    const startup = record.startupMs === null ? '' : `, start-up ${record.startupMs.toFixed(0)} ms`;
    return `${record.medianMs!.toFixed(1)} ms median of ${record.runs} run${record.runs === 1 ? '' : 's'}${startup}`;
  }
  return `${record.status}${record.note ? ` (${record.note})` : ''}`;
}

/**
 * Starts `engine`, times `work` with benny (warm-up, then `runs` runs), checks every run's result
 * against `expected`, and always closes the engine's pool.
 */
export async function measureEngine(
  ctx: SuiteContext,
  workload: Workload,
  engine: Engine,
  work: (runner: Runner) => Promise<number>,
  expected: number,
  items: number,
  timeoutMs: number,
  label = engine.name,
  warmup?: (runner: Runner) => Promise<number>,
): Promise<BenchRecord> {
  const { progress, options } = ctx;
  const record = emptyRecord(
    workload,
    { name: label, kind: engine.kind, threads: engine.threads, items, expectedChecksum: expected },
    ctx.machine,
  );
  if (engine.note) record.note = engine.note;
  const phase = progress.phase(engineSteps(engine, options.runs));
  progress.begin(`${workload}: ${label}`);
  let runner: Runner | undefined;
  try {
    runner = await withStartTimeout(engine.start(), timeoutMs, label);
    record.startupMs = runner.startupMs;
    if (engine.pooled) phase.tick();
    const active = runner;
    const timed = await timeWithBenny(workload, label, options.runs, () => work(active), {
      onRun: phase.tick,
      timeoutMs,
      warmup: warmup && (() => warmup(active)),
    });
    record.runs = timed.runs;
    record.medianMs = record.wallMs = timed.medianMs;
    record.minMs = timed.minMs;
    record.maxMs = timed.maxMs;
    const wrong = timed.values.find((value) => value !== expected);
    record.checksum = wrong ?? timed.values[0] ?? null;
    record.checksumOk = wrong === undefined;
    record.status = wrong === undefined ? 'ok' : 'error';
    if (wrong !== undefined) record.note = `checksum ${wrong}, expected ${expected}`;
  } catch (error) {
    record.status = error instanceof Unavailable ? error.status : ('error' satisfies Status);
    record.note = errorMessage(error);
  } finally {
    try {
      await runner?.close();
    } catch (error) {
      if (record.status === 'ok') {
        record.status = 'error';
        record.note = `closing the pool failed: ${errorMessage(error)}`;
      }
    }
    phase.done();
    progress.end(outcomeText(record));
  }
  return record;
}

async function withStartTimeout(start: Promise<Runner>, ms: number, label: string): Promise<Runner> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not start within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([start, timeout]);
  } catch (error) {
    // A start that finishes after its timeout still owns workers: close them when it does.
    void start.then((late) => late.close()).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Fills in `speedup` against the JS single-thread row of the same workload. */
export function applySpeedups(records: BenchRecord[], baselineName: string): void {
  const baseline = records.find((r) => r.name === baselineName && r.status === 'ok');
  for (const r of records) {
    r.speedup = baseline?.medianMs && r.status === 'ok' && r.medianMs ? baseline.medianMs / r.medianMs : null;
  }
}
