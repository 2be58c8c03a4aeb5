/**
 * Workload `managers` (`napi-multiprocessing bench --workload managers`, not part of 'all'): a
 * manager dict used from the main thread, a thread worker and a process worker, against CPython's
 * `multiprocessing.Manager().dict()` used from a child process (benchmark/python/managers.py), all
 * in this one run. Each iteration is `await d.set(i, i)` then `await d.get(i)`, two calls; the
 * figure of a row is calls per second at its median run, and its ratio is over CPython's median.
 * Rounds interleave the engines (CPython included), so that a change in the machine's load hits
 * them alike; each engine warms up in one round that is not counted.
 *
 * The bar (issue 12): process worker, sequential >= 1.5x CPython; main thread >= 10x; 100 calls
 * in flight from a process worker >= 10x CPython's sequential loop.
 *
 * One more row shows the floor under calls over a socket: the same process worker doing the same
 * number of round trips with a bare echo server over a Unix socket, no manager protocol at all
 * (both event loops' wake-ups and system calls are most of its cost): see benchmark/managers.md.
 *
 * Workers reach the manager over the shared-memory link (src/managers/link.ts) by default; one row
 * keeps a process worker on its socket (NAPI_MULTIPROCESSING_MANAGER_LINK=0, set for its pool).
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Manager, Pool, task } from '../index.js';
import { LINK_ENV } from '../src/managers/link.js';
import { type BenchRecord, type EngineKind, errorMessage, median, packageRoot, withTimeout } from './common.js';
import { detectPython, runPython } from './engines.js';
import type { SuiteContext } from './measure.js';
import { emptyRecord } from './measure.js';
import { formatMs, formatRate, KIND_COLORS, renderBarChart } from './svg.js';

export const PYTHON_ROW = 'CPython Manager().dict(), from a Process';
const INFLIGHT = 100;
const ROUND_TIMEOUT_MS = 600_000;

export const SOCKET_ROW = 'process worker, bare socket round trips (no manager)';
export const SOCKET_ONLY_ROW = 'process worker, sequential, socket only (NAPI_MULTIPROCESSING_MANAGER_LINK=0)';
const TASKS = pathToFileURL(join(packageRoot, 'benchmark', 'tasks', 'managers.mjs'));
const loop = task<(d: unknown, n: number, inflight?: number) => Promise<{ ms: number; checksum: number }>>(TASKS, 'setGetLoop');
const roundTrips = task<(path: string, n: number) => Promise<{ ms: number; checksum: number }>>(TASKS, 'socketRoundTrips');

/** Iterations (each a set and a get) of one run: the main thread is fast enough for ten times more. */
export function managersIterations(quick: boolean): { worker: number; main: number } {
  return quick ? { worker: 2_000, main: 20_000 } : { worker: 20_000, main: 200_000 };
}

const expected = (n: number) => (n * (n - 1)) / 2;

/** One run of a case: its wall time and the sum of the values read back. */
type Run = (n: number) => Promise<{ ms: number; checksum: number }>;

interface Case {
  name: string;
  kind: EngineKind;
  n: number;
  run: Run;
}

interface Env {
  manager: InstanceType<typeof Manager>;
  threads: Pool;
  processes: Pool;
  /** A process worker kept on its socket (no shared-memory link). */
  socketOnly: Pool;
  /** The echo server of the transport-alone row. */
  echoPath: string;
}

/**
 * A Unix socket that sends back every byte it receives, served on this thread as the manager is:
 * what a manager call costs at the least, with the same processes, socket and event loops.
 */
async function echoServer(): Promise<{ path: string } & AsyncDisposable> {
  const path = join(tmpdir(), `nmp-bench-echo-${process.pid}.sock`);
  rmSync(path, { force: true });
  const server = createServer((socket) => socket.on('data', (chunk) => socket.write(chunk)).on('error', () => {}));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return {
    path,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function mainThread(manager: InstanceType<typeof Manager>, n: number): Promise<{ ms: number; checksum: number }> {
  const d = await manager.dict<number, number>();
  let checksum = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await d.set(i, i);
    checksum += (await d.get(i))!;
  }
  return { ms: performance.now() - start, checksum };
}

async function inWorker(env: Env, pool: Pool, n: number, inflight: number): Promise<{ ms: number; checksum: number }> {
  const d = await env.manager.dict<number, number>();
  return pool.apply(loop, [d, n, inflight]);
}

/** A process pool whose worker was started with links turned off (and has called once). */
async function socketOnlyPool(manager: InstanceType<typeof Manager>): Promise<Pool> {
  const previous = process.env[LINK_ENV];
  process.env[LINK_ENV] = '0';
  const pool = new Pool({ processes: 1, backend: 'process' });
  try {
    await pool.apply(loop, [await manager.dict(), 1, 1]);
  } finally {
    if (previous === undefined) delete process.env[LINK_ENV];
    else process.env[LINK_ENV] = previous;
  }
  return pool;
}

async function python(n: number): Promise<{ ms: number; checksum: number }> {
  const script = join(packageRoot, 'benchmark', 'python', 'managers.py');
  const outcome = await runPython(script, ['--n', String(n), '--runs', '1', '--warmup', '1'], ROUND_TIMEOUT_MS);
  return { ms: outcome.runsMs[0]!, checksum: outcome.checksums[0]! };
}

function cases(env: Env, quick: boolean, withPython: boolean): Case[] {
  const { worker, main } = managersIterations(quick);
  const list: Case[] = [
    { name: 'main thread (the manager serves it directly)', kind: 'ours', n: main, run: (n) => mainThread(env.manager, n) },
    { name: 'thread worker, sequential', kind: 'ours', n: worker, run: (n) => inWorker(env, env.threads, n, 1) },
    { name: 'process worker, sequential', kind: 'ours', n: worker, run: (n) => inWorker(env, env.processes, n, 1) },
    { name: SOCKET_ONLY_ROW, kind: 'ours', n: worker, run: (n) => inWorker(env, env.socketOnly, n, 1) },
    {
      name: `process worker, ${INFLIGHT} calls in flight`,
      kind: 'ours',
      n: worker,
      run: (n) => inWorker(env, env.processes, n, INFLIGHT),
    },
    { name: SOCKET_ROW, kind: 'baseline', n: worker, run: (n) => env.processes.apply(roundTrips, [env.echoPath, n]) },
  ];
  return withPython ? [{ name: PYTHON_ROW, kind: 'external', n: worker, run: python }, ...list] : list;
}

/** The rows of a round, CPython's included. */
const ROWS = 7;

/** Progress steps: the pools' start, then a warm-up round and `runs` rounds of every case. */
export function managersSteps(runs: number): number {
  return 1 + (runs + 1) * ROWS;
}

export async function runManagers(ctx: SuiteContext): Promise<BenchRecord[]> {
  const { options, progress } = ctx;
  const withPython = (await detectPython()) !== null;
  progress.begin('managers: starting the manager and the pools');
  await using manager = new Manager();
  await using threads = new Pool({ processes: 1, backend: 'thread' });
  await using processes = new Pool({ processes: 1, backend: 'process' });
  await using socketOnly = await socketOnlyPool(manager);
  await using echo = await echoServer();
  progress.step();
  const list = cases({ manager, threads, processes, socketOnly, echoPath: echo.path }, options.quick, withPython);
  const samples = list.map(() => [] as number[]);
  const failures = new Map<number, string>();
  for (let round = 0; round <= options.runs; round++) {
    progress.begin(round === 0 ? 'managers: warm-up round' : `managers: round ${round} of ${options.runs}`);
    const figures = await runRound(list, failures);
    if (round > 0) for (const [i, ms] of figures) samples[i]!.push(ms);
    progress.step(ROWS);
    // Each round's figures, so that the spread behind the medians can be seen.
    progress.end(
      [...figures].map(([i, ms]) => `${list[i]!.name.split(' (')[0]} ${formatRate((2 * list[i]!.n * 1000) / ms)}/s`).join(', '),
    );
  }
  const records = list.map((c, i) => toRecord(ctx, c, samples[i]!, failures.get(i)));
  if (!withPython)
    records.unshift({
      ...emptyRecord('managers', { name: PYTHON_ROW, kind: 'external', threads: 1, items: 1, expectedChecksum: 0 }, ctx.machine),
      status: 'skipped',
      note: 'no python3 here',
    });
  const reference = records.find((r) => r.name === PYTHON_ROW && r.status === 'ok')?.opsPerSecond;
  for (const r of records) r.speedup = reference && r.opsPerSecond ? r.opsPerSecond / reference : null;
  return records;
}

/** One run of every case still standing; a case that fails once is out (its error is its row's note). */
async function runRound(list: Case[], failures: Map<number, string>): Promise<Map<number, number>> {
  const figures = new Map<number, number>();
  for (const [i, c] of list.entries()) {
    if (failures.has(i)) continue;
    try {
      const { ms, checksum } = await withTimeout(c.run(c.n), ROUND_TIMEOUT_MS, c.name);
      if (checksum !== expected(c.n)) throw new Error(`checksum ${checksum}, expected ${expected(c.n)}`);
      figures.set(i, ms);
    } catch (error) {
      failures.set(i, errorMessage(error));
    }
  }
  return figures;
}

function toRecord(ctx: SuiteContext, c: Case, samples: number[], failure: string | undefined): BenchRecord {
  const record = emptyRecord(
    'managers',
    { name: c.name, kind: c.kind, threads: 1, items: 2 * c.n, expectedChecksum: expected(c.n) },
    ctx.machine,
  );
  if (failure !== undefined || samples.length === 0) return { ...record, note: failure ?? 'no run completed' };
  const mid = median(samples);
  return {
    ...record,
    status: 'ok',
    runs: samples.length,
    medianMs: mid,
    wallMs: mid,
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    opsPerSecond: (2 * c.n * 1000) / mid,
    checksum: expected(c.n),
    checksumOk: true,
  };
}

export const MANAGERS_TITLE = `managers: await d.set(i, i) then await d.get(i) on a manager dict, calls per second; bar: process worker sequential >= 1.5× CPython, ${INFLIGHT} in flight >= 10×, main thread >= 10×`;

/** The rows of the table: calls per second at the median, and the ratio over CPython's. */
export function managersRows(records: BenchRecord[]): { header: string[]; rows: string[][]; right: Set<number> } {
  const header = ['Case', 'Calls', 'Median', 'Min – max', 'Calls/s', 'vs CPython', 'Checksum', 'Status'];
  const rows = records.map((r) => [
    r.name,
    String(r.items),
    r.medianMs === null ? '—' : formatMs(r.medianMs),
    r.minMs === null || r.maxMs === null ? '—' : `${formatMs(r.minMs)} – ${formatMs(r.maxMs)}`,
    r.opsPerSecond ? `${formatRate(r.opsPerSecond)}/s` : '—',
    r.speedup === null ? '—' : `${r.speedup.toFixed(2)}×`,
    r.checksum === null ? '—' : `${r.checksum}${r.checksumOk ? ' ✓' : ' ✗'}`,
    r.status === 'ok' && r.kind === 'external' ? 'ok (reference)' : r.status,
  ]);
  return { header, rows, right: new Set([1, 2, 4, 5]) };
}

export function managersChart(records: BenchRecord[]): string {
  return renderBarChart({
    title: 'Manager dict calls per second, over CPython’s Manager().dict()',
    subtitle: 'await d.set(i, i) then await d.get(i); median of the rounds; higher is faster',
    axisLabel: 'calls per second over CPython (1× = dashed line)',
    reference: 1,
    rows: records.map((r) => ({
      label: r.name,
      value: r.speedup,
      text: r.opsPerSecond ? `${formatRate(r.opsPerSecond)}/s${r.speedup ? ` (${r.speedup.toFixed(2)}×)` : ''}` : r.status,
      color: KIND_COLORS[r.kind],
    })),
    legend: [
      { label: 'napi-multiprocessing', color: KIND_COLORS.ours },
      { label: 'the transport alone (no manager)', color: KIND_COLORS.baseline },
      { label: 'CPython (reference)', color: KIND_COLORS.external },
    ],
  });
}
