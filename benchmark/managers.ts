/**
 * Managers benchmark: a manager dict used from the main thread, a thread worker and a process
 * worker, against CPython's `multiprocessing.Manager().dict()` used from a child process, all in
 * this one run. Each iteration is `await d.set(i, i)` then `await d.get(i)` (two calls); the
 * figures are calls per second, each the best of five rounds (three with BENCH_QUICK), and the
 * ratios compare figures of this run (rounds interleave the engines, so load hits them alike).
 *
 *   npx tsx benchmark/managers.ts            (BENCH_QUICK=1 for a short run)
 *
 * The bar (issue 12): process worker, sequential >= 1.5x CPython; main thread >= 10x; 100 calls
 * in flight from a process worker >= 10x CPython's sequential loop.
 */
import { fileURLToPath } from 'node:url';

import { Manager, Pool, task } from '../index.js';
import { detectPython, runPython } from './engines.js';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = quick ? 3 : 5;
const WORKER_N = quick ? 2_000 : 20_000;
const MAIN_N = quick ? 20_000 : 200_000;
const PYTHON_N = quick ? 2_000 : 20_000;

const pythonScript = fileURLToPath(new URL('./python/managers.py', import.meta.url));
const loop = task<(d: unknown, n: number, inflight?: number) => Promise<{ ms: number; checksum: number }>>(
  new URL('./tasks/managers.mjs', import.meta.url),
  'setGetLoop',
);

function expected(n: number): number {
  return (n * (n - 1)) / 2;
}

async function mainThread(manager: InstanceType<typeof Manager>): Promise<number> {
  const d = await manager.dict<number, number>();
  let sum = 0;
  const start = performance.now();
  for (let i = 0; i < MAIN_N; i++) {
    await d.set(i, i);
    sum += (await d.get(i))!;
  }
  const ms = performance.now() - start;
  if (sum !== expected(MAIN_N)) throw new Error(`main thread: checksum ${sum}`);
  return (2 * MAIN_N) / (ms / 1000);
}

async function inWorker(pool: Pool, manager: InstanceType<typeof Manager>, inflight: number): Promise<number> {
  const d = await manager.dict<number, number>();
  const { ms, checksum } = await pool.apply(loop, [d, WORKER_N, inflight]);
  if (checksum !== expected(WORKER_N)) throw new Error(`worker: checksum ${checksum}`);
  return (2 * WORKER_N) / (ms / 1000);
}

async function python(): Promise<number | null> {
  if (!(await detectPython())) return null;
  const outcome = await runPython(pythonScript, ['--n', String(PYTHON_N), '--runs', '1', '--warmup', '1'], 600_000);
  const run = outcome as unknown as { runsMs: number[]; opsPerRun: number; checksums: number[] };
  if (run.checksums[0] !== expected(PYTHON_N)) throw new Error(`python: checksum ${run.checksums[0]}`);
  return run.opsPerRun / (Math.min(...run.runsMs) / 1000);
}

function show(label: string, rate: number | null, reference: number | null): void {
  const ratio = rate !== null && reference ? `  (${(rate / reference).toFixed(1)}x CPython)` : '';
  console.log(`  ${label.padEnd(44)} ${rate === null ? 'skipped' : `${Math.round(rate).toLocaleString('en-US')} calls/s`}${ratio}`);
}

async function main(): Promise<void> {
  await using manager = new Manager();
  await using threads = new Pool({ processes: 1, backend: 'thread' });
  await using processes = new Pool({ processes: 1, backend: 'process' });
  const best = { python: null as number | null, main: 0, thread: 0, process: 0, inflight: 0 };
  // Rounds interleave the engines, so that a change in the machine's load hits them all.
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`round ${round + 1} of ${ROUNDS}…`);
    const figures = {
      python: await python(),
      main: await mainThread(manager),
      thread: await inWorker(threads, manager, 1),
      process: await inWorker(processes, manager, 1),
      inflight: await inWorker(processes, manager, 100),
    };
    // Each round on stderr, so that the spread behind the best figures can be seen.
    console.error(`  ${Object.entries(figures).map(([name, rate]) => `${name} ${rate === null ? '-' : Math.round(rate)}`).join(', ')}`);
    if (figures.python !== null) best.python = Math.max(best.python ?? 0, figures.python);
    best.main = Math.max(best.main, figures.main);
    best.thread = Math.max(best.thread, figures.thread);
    best.process = Math.max(best.process, figures.process);
    best.inflight = Math.max(best.inflight, figures.inflight);
  }
  console.log(`managers: d.set(i, i) then d.get(i), calls per second (best of ${ROUNDS})`);
  show("CPython Manager().dict(), from a Process", best.python, null);
  show('main thread (the manager serves it directly)', best.main, best.python);
  show('thread worker, sequential', best.thread, best.python);
  show('process worker, sequential', best.process, best.python);
  show('process worker, 100 calls in flight', best.inflight, best.python);
}

await main();
