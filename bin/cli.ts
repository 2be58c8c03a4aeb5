/**
 * `napi-multiprocessing bench`: the comparative benchmark, as a command. The benny suites live in
 * `benchmark/`; this file reads the flags, runs the suites with a progress bar on stderr, prints
 * the tables on stdout and writes the JSON and SVG files asked for.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { native } from '../index.js';
import {
  type BenchOptions,
  type BenchRecord,
  describeMachine,
  type Machine,
  SEED_N,
  SEED_STEP,
  type Workload,
} from '../benchmark/common.js';
import { detectPython } from '../benchmark/engines.js';
import type { SuiteContext } from '../benchmark/measure.js';
import { runOverhead, overheadSteps } from '../benchmark/overhead.js';
import { Progress } from '../benchmark/progress.js';
import { type BenchDocument, renderTables } from '../benchmark/report.js';
import { cpuCount, runScaling, scalingSteps } from '../benchmark/scaling.js';
import { MEMORY_PROBE_ENV, runMemoryProbe } from '../benchmark/memory.js';
import { runSeed, seedEngines, seedSteps } from '../benchmark/seed.js';
import { clusterSteps, runCluster } from '../benchmark/cluster.js';
import { managersChart, managersSteps, runManagers } from '../benchmark/managers.js';
import { overheadChart, scalingChart, seedChart } from '../benchmark/svg.js';
import { runWorkerCommand } from '../src/backends/cluster/cli.js';

const HELP = `Usage: napi-multiprocessing bench [options]
       napi-multiprocessing worker --connection URL --tasks MODULE...   (see worker --help)

Runs the comparative benchmark: the seed workload (sumPrimes over 200 inputs, checksum
31007039440) on a JS single thread, our Pool backends, the native kernel, piscina, tinypool,
workerpool and CPython; prints a table on stdout and progress on stderr.

Options:
  --workload W   seed | overhead | scaling | all | cluster | managers (default: seed)
                 seed:     every engine on the seed workload
                 overhead: trivial tasks (100,000 submissions, a 1,000,000-item map),
                           tasks per second, and native.isPrime calls per second
                 scaling:  the seed workload on our backends with 1 … cpuCount() workers
                 cluster:  a local redis-server and 2 worker commands: the seed workload and
                           10,000 trivial tasks, against the thread pool and BullMQ used
                           directly (one job per task); needs redis-server, bullmq and ioredis
                           (not part of 'all')
                 managers: await d.set(i, i) then await d.get(i) on a manager dict from
                           the main thread, a thread worker and a process worker (also with
                           100 calls in flight), calls per second over CPython's
                           Manager().dict() measured in the same run (not part of 'all')
  --quick        a small variant for CI and smoke tests (n = 20000, 3 runs, small overhead sizes)
  --n N          inputs are 0, step, 2·step, … below N                (default: ${SEED_N})
  --step S       distance between inputs                               (default: ${SEED_STEP})
  --threads T    workers of every pool, the same for all               (default: cpuCount())
  --runs R       measured runs per engine, after one warm-up run       (default: 5, quick: 3)
  --json FILE    write the results as JSON (one record per engine and workload)
  --chart FILE   write an SVG bar chart of the speedups; with several workloads the first one
                 charted goes to FILE and the others next to it, as NAME-<workload>.svg
  -h, --help     show this help

Rows for an engine that is not built yet, not installed, or skipped (no python3) stay in the
table with their status. The exit code is 1 when an engine fails or returns a wrong checksum.`;

class UsageError extends Error {}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`--${flag} must be a whole number, got '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export interface CliPlan {
  workloads: Workload[];
  options: BenchOptions;
  json?: string;
  chart?: string;
}

export function parseCli(argv: string[]): CliPlan | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        workload: { type: 'string' },
        quick: { type: 'boolean' },
        n: { type: 'string' },
        step: { type: 'string' },
        threads: { type: 'string' },
        runs: { type: 'string' },
        json: { type: 'string' },
        chart: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('missing command: `bench` or `worker`');
  if (positionals[0] !== 'bench')
    throw new UsageError(`unknown command '${positionals[0]}': the commands are \`bench\` and \`worker\``);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);

  const workload = values.workload ?? 'seed';
  const all: Workload[] = ['seed', 'overhead', 'scaling'];
  if (workload !== 'all' && workload !== 'cluster' && workload !== 'managers' && !all.includes(workload as Workload)) {
    throw new UsageError(`--workload must be one of seed, overhead, scaling, all, cluster, managers; got '${workload}'`);
  }
  const quick = values.quick ?? false;
  const n = integer(values.n, 'n', 1, 5_000_000) ?? (quick ? 20_000 : SEED_N);
  const step = integer(values.step, 'step', 1, 5_000_000) ?? SEED_STEP;
  if (step > n) throw new UsageError(`--step (${step}) must not exceed --n (${n})`);
  const threads = integer(values.threads, 'threads', 1, 256) ?? cpuCount();
  const runs = integer(values.runs, 'runs', 1, 100) ?? (quick ? 3 : 5);
  for (const flag of ['json', 'chart'] as const) {
    if (values[flag] !== undefined && values[flag]!.trim() === '') throw new UsageError(`--${flag} needs a file name`);
  }
  if (values.chart !== undefined && !/\.svg$/i.test(values.chart)) {
    throw new UsageError(`--chart writes SVG: the file name must end in .svg, got '${values.chart}'`);
  }
  return {
    workloads: workload === 'all' ? all : [workload as Workload],
    options: { quick, n, step, threads, runs },
    json: values.json,
    chart: values.chart,
  };
}

function chartPath(base: string, workload: Workload, first: boolean): string {
  return first ? base : base.replace(/\.svg$/i, `-${workload}.svg`);
}

function write(file: string, text: string): string {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Runs the planned workloads one after another, with one progress display over all of them. */
async function runWorkloads(workloads: Workload[], options: BenchOptions, machine: Machine): Promise<BenchRecord[]> {
  const steps =
    (workloads.includes('seed') ? seedSteps(options.threads, options.runs) : 0) +
    (workloads.includes('overhead') ? overheadSteps(options.threads, options.runs, options.quick) : 0) +
    (workloads.includes('scaling') ? scalingSteps(options.runs) : 0) +
    (workloads.includes('cluster') ? clusterSteps(options.runs) : 0) +
    (workloads.includes('managers') ? managersSteps(options.runs) : 0);
  const progress = new Progress(steps);
  const ctx: SuiteContext = { options, progress, machine };
  const records: BenchRecord[] = [];
  try {
    for (const workload of workloads) {
      if (workload === 'seed') records.push(...(await runSeed(ctx)));
      if (workload === 'overhead') records.push(...(await runOverhead(ctx)));
      if (workload === 'scaling') records.push(...(await runScaling(ctx)));
      if (workload === 'cluster') records.push(...(await runCluster(ctx)));
      if (workload === 'managers') records.push(...(await runManagers(ctx)));
    }
  } finally {
    progress.finish();
  }
  return records;
}

/** One SVG per charted workload: the first at `base`, the others beside it. Returns the paths written. */
function writeCharts(base: string, workloads: Workload[], records: BenchRecord[], threads: number): string[] {
  const written: string[] = [];
  for (const workload of workloads) {
    const rows = records.filter((r) => r.workload === workload);
    if (rows.length === 0) continue;
    const svg =
      workload === 'seed' || workload === 'cluster'
        ? seedChart(rows, threads, `${workload} workload`)
        : workload === 'scaling'
          ? scalingChart(rows)
          : workload === 'managers'
            ? managersChart(rows)
            : overheadChart(rows);
    written.push(write(chartPath(base, workload, written.length === 0), svg));
  }
  return written;
}

/** The plan from argv, the help text (0) or a usage error (2). */
function planOrExit(argv: string[]): CliPlan | number {
  try {
    const plan = parseCli(argv);
    if (plan !== 'help') return plan;
    process.stdout.write(`${HELP}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`napi-multiprocessing: ${error.message}\nRun 'napi-multiprocessing --help' for the options.\n`);
    return 2;
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'worker') return runWorkerCommand(argv.slice(1));
  const probe = process.env[MEMORY_PROBE_ENV];
  if (probe) {
    // This process was started by the bench itself to measure one engine's memory.
    await runMemoryProbe(probe, seedEngines);
    return 0;
  }
  const plan = planOrExit(argv);
  if (typeof plan === 'number') return plan;
  const { workloads, options } = plan;
  const began = performance.now();
  const python = workloads.includes('seed') || workloads.includes('managers') ? await detectPython() : null;
  const machine = describeMachine(native.available, python);
  const records = await runWorkloads(workloads, options, machine);

  process.stdout.write(renderTables(records, options, machine));
  const written: string[] = [];
  if (plan.json) {
    const doc: BenchDocument = {
      schema: 'napi-multiprocessing-bench/1',
      date: new Date().toISOString(),
      command: ['napi-multiprocessing', ...argv].join(' '),
      options,
      machine,
      totalMs: performance.now() - began,
      results: records,
    };
    written.push(write(plan.json, `${JSON.stringify(doc, null, 2)}\n`));
  }
  if (plan.chart) written.push(...writeCharts(plan.chart, workloads, records, options.threads));
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  process.stderr.write(`\ndone in ${seconds} s${written.length ? `; wrote ${written.join(', ')}` : ''}\n`);
  const failed = records.filter((r) => r.status === 'error');
  if (failed.length) {
    process.stderr.write(`${failed.length} engine(s) failed: ${failed.map((r) => r.name).join(', ')}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Every pool was closed in `finally`; should a library still hold the event loop open, do not
    // leave the user's terminal (or CI job) hanging over it.
    setTimeout(() => {
      process.stderr.write('napi-multiprocessing: a handle kept the process alive after the command finished; exiting\n');
      process.exit(code);
    }, 5_000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`napi-multiprocessing: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
