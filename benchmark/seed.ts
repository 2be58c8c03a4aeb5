/**
 * Workload `seed`: the seed experiment, sumPrimes(n) for n = 0, 500, …, 99500 (200 tasks; --n and
 * --step scale it), run by every engine and checked against the checksum (31007039440 by default).
 * Each engine is a benny suite of its own, so only one pool is alive at a time and no engine's
 * workers steal the cores another is being timed on.
 */
import { type BenchRecord, expectedSeedChecksum, median, pythonScript, seedInputs, type Workload } from './common.js';
import {
  detectPython,
  type Engine,
  jsSingle,
  nativeSingle,
  ourPool,
  piscina,
  pythonCommand,
  runPython,
  tinypool,
  workerpool,
} from './engines.js';
import { applySpeedups, emptyRecord, engineSteps, measureEngine, outcomeText, type SuiteContext } from './measure.js';
import { probeMemory } from './memory.js';

export const BASELINE = jsSingle.name;

/** In the order of the issue: our engines, then the libraries; CPython comes last, as the reference. */
export function seedEngines(threads: number): Engine[] {
  return [
    jsSingle,
    ourPool('thread', threads),
    ourPool('process', threads),
    nativeSingle,
    ourPool('native', threads),
    piscina(threads),
    tinypool(threads),
    workerpool(threads),
  ];
}

/**
 * CPython runs some 25x longer than V8 here, and it has no JIT to warm up (the pool's start-up is
 * measured on its own): no warm-up run and at most three runs keep the whole seed workload within
 * its three-minute budget on a 2-core machine.
 */
const pythonRuns = (runs: number) => Math.min(runs, 3);

export function seedSteps(threads: number, runs: number): number {
  // A pooled engine takes one more step: its memory probe.
  return seedEngines(threads).reduce((total, e) => total + engineSteps(e, runs) + (e.pooled ? 1 : 0), 0) + 2;
}

/** A generous per-run limit from the baseline: a stuck engine becomes an error row, not a hang. */
export function runTimeoutMs(baselineMs: number | null | undefined): number {
  return Math.max(60_000, 30 * (baselineMs ?? 10_000));
}

export async function runSeed(ctx: SuiteContext, workload: Workload = 'seed'): Promise<BenchRecord[]> {
  const { n, step, threads } = ctx.options;
  const inputs = seedInputs(n, step);
  const expected = expectedSeedChecksum(n, step);
  const records: BenchRecord[] = [];
  let timeoutMs = runTimeoutMs(null);
  for (const engine of seedEngines(threads)) {
    const record = await measureEngine(
      ctx,
      workload,
      engine,
      (r) => r.map('sumPrimes', inputs),
      expected,
      inputs.length,
      timeoutMs,
    );
    if (engine === jsSingle && record.status === 'ok') timeoutMs = runTimeoutMs(record.medianMs);
    if (engine.pooled && record.status === 'ok') await addMemory(ctx, engine, record, timeoutMs);
    records.push(record);
  }
  records.push(await runCPython(ctx, 'single', inputs.length, expected, timeoutMs));
  records.push(await runCPython(ctx, 'pool', inputs.length, expected, timeoutMs));
  applySpeedups(records, BASELINE);
  return records;
}

/** Fills in `memoryBytes` from a probe process; a failed probe leaves it null and says why. */
async function addMemory(ctx: SuiteContext, engine: Engine, record: BenchRecord, timeoutMs: number): Promise<void> {
  ctx.progress.begin(`seed: ${engine.name} (memory)`);
  const memory = await probeMemory(engine, ctx.options, timeoutMs);
  record.memoryBytes = memory.addedBytes;
  if (memory.error) record.note = `${record.note ? `${record.note}; ` : ''}memory probe failed: ${memory.error}`;
  ctx.progress.step();
  ctx.progress.end(memory.addedBytes === null ? 'memory: —' : `memory: ${(memory.addedBytes / 2 ** 20).toFixed(1)} MiB added`);
}

async function runCPython(
  ctx: SuiteContext,
  mode: 'single' | 'pool',
  items: number,
  expected: number,
  runTimeout: number,
): Promise<BenchRecord> {
  const { n, step, threads, runs } = ctx.options;
  const name = mode === 'single' ? 'CPython single thread' : 'CPython multiprocessing.Pool';
  const record = emptyRecord(
    'seed',
    { name, kind: 'external', threads: mode === 'single' ? 1 : threads, items, expectedChecksum: expected },
    ctx.machine,
  );
  ctx.progress.begin(`seed: ${name}`);
  try {
    const python = await detectPython();
    if (!python) {
      record.status = 'skipped';
      record.note = `external reference skipped: ${pythonCommand} not found (set $PYTHON to use another interpreter)`;
      return record;
    }
    const [major = 0, minor = 0] = (python.split(' ')[1] ?? '').split('.').map(Number);
    if (major < 3 || (major === 3 && minor < 8)) {
      // seed.py uses math.isqrt (3.8+); an older interpreter is not a failure of ours.
      record.status = 'skipped';
      record.note = `external reference skipped: ${python} is older than Python 3.8`;
      return record;
    }
    const measured = pythonRuns(runs);
    const warmup = 0;
    // CPython is some 20x slower than V8 on this loop: its limit scales with the runs it makes.
    const timeoutMs = runTimeout * (measured + warmup) * 3;
    const out = await runPython(
      pythonScript,
      [
        '--mode',
        mode,
        '--n',
        String(n),
        '--step',
        String(step),
        '--processes',
        String(threads),
        '--runs',
        String(measured),
        '--warmup',
        String(warmup),
      ],
      timeoutMs,
    );
    record.runs = out.runsMs.length;
    record.medianMs = record.wallMs = median(out.runsMs);
    record.minMs = Math.min(...out.runsMs);
    record.maxMs = Math.max(...out.runsMs);
    record.startupMs = out.startupMs;
    const wrong = out.checksums.find((c) => c !== expected);
    record.checksum = wrong ?? out.checksums[0] ?? null;
    record.checksumOk = wrong === undefined;
    record.status = wrong === undefined ? 'ok' : 'error';
    record.note =
      wrong === undefined
        ? `external reference: ${out.python}, no warm-up run (no JIT)${mode === 'pool' ? `, start method ${out.startMethod}` : ''}`
        : `checksum ${wrong}, expected ${expected}`;
  } catch (error) {
    record.status = 'error';
    record.note = error instanceof Error ? error.message : String(error);
  } finally {
    ctx.progress.step();
    ctx.progress.end(outcomeText(record));
  }
  return record;
}
