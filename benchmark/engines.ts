/**
 * The engines the benchmark compares. Each one starts (a pool, if it has one), runs a batch of
 * inputs through a named function of `benchmark/tasks/primes.mjs` (or the native kernel), and
 * closes. Starting is where "not built yet" and "not installed" are found out, so those rows are
 * reported rather than left out.
 */
import { spawn } from 'node:child_process';

import { native, Pool, task } from '../index.js';
import { isPrimeNumber, sumPrimesNumber } from '../src/native/fallback.js';
import { errorMessage, type EngineKind, type Status, sum, tasksModule, workerpoolScript } from './common.js';

/** The functions of benchmark/tasks/primes.mjs the pools run. */
export type TaskName = 'sumPrimes' | 'noop' | 'isPrime';

/** An engine that cannot run here; its status and note become the row. */
export class Unavailable extends Error {
  constructor(
    readonly status: Exclude<Status, 'ok' | 'error'>,
    message: string,
  ) {
    super(message);
    this.name = 'Unavailable';
  }
}

export interface Runner {
  /** Pool start-up in ms (until every worker answered a trivial call); null without a pool. */
  readonly startupMs: number | null;
  /** One call per input, results summed (the checksum). */
  map(fn: TaskName, inputs: number[]): Promise<number>;
  /** One separate submission per input (Python's apply_async, piscina's run): results summed. */
  each(fn: TaskName, inputs: number[]): Promise<number>;
  /** Releases every worker; called in `finally`, also after a failure. */
  close(): Promise<void>;
}

export interface Engine {
  readonly name: string;
  readonly kind: EngineKind;
  readonly threads: number;
  readonly pooled: boolean;
  readonly note?: string;
  start(): Promise<Runner>;
}

/** From `begin` (before the pool's constructor) until `threads` concurrent trivial calls answered. */
async function startup(begin: number, threads: number, call: () => Promise<unknown>): Promise<number> {
  await Promise.all(Array.from({ length: threads }, call));
  return performance.now() - begin;
}

/** Pool.map and friends chunk with Python's formula; the libraries' map stand-in uses the same chunks. */
export function defaultChunksize(items: number, threads: number): number {
  return Math.max(1, Math.ceil(items / (threads * 4)));
}

function chunks(inputs: number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < inputs.length; i += size) out.push(inputs.slice(i, i + size));
  return out;
}

export const jsSingle: Engine = {
  name: 'JS single thread',
  kind: 'baseline',
  threads: 1,
  pooled: false,
  note: 'the baseline: the seed algorithm in TypeScript on the main thread',
  async start() {
    const fns: Record<TaskName, (x: number) => number> = {
      sumPrimes: sumPrimesNumber,
      noop: (x) => x,
      isPrime: (x) => (isPrimeNumber(x) ? 1 : 0),
    };
    const map = async (fn: TaskName, inputs: number[]) => sum(inputs.map(fns[fn]));
    return { startupMs: null, map, each: map, close: async () => {} };
  },
};

export const nativeSingle: Engine = {
  name: 'native single thread',
  kind: 'ours',
  threads: 1,
  pooled: false,
  note: native.available
    ? 'Rust kernel via napi-rs, called on the main thread'
    : 'no native binary loaded: the pure-TS fallback ran',
  async start() {
    const map = async (fn: TaskName, inputs: number[]) =>
      fn === 'sumPrimes'
        ? inputs.reduce((total, x) => total + native.sumPrimes(x), 0)
        : fn === 'isPrime'
          ? inputs.reduce((total, x) => total + (native.isPrime(x) ? 1 : 0), 0)
          : sum(inputs);
    return { startupMs: null, map, each: map, close: async () => {} };
  },
};

/**
 * Our Pool. The thread and process backends run the same JS module as piscina & co. (a `task()`
 * handle); the native backend runs the Rust kernel, which is what it is for.
 */
export function ourPool(backend: 'thread' | 'process' | 'native', threads: number): Engine {
  const label = { thread: 'worker threads', process: 'child processes', native: 'rayon threads' }[backend];
  return {
    name: `Pool ${backend} backend`,
    kind: 'ours',
    threads,
    pooled: true,
    note:
      backend === 'native'
        ? `pool.map(native.sumPrimes, xs) on ${threads} ${label}`
        : `pool.map(task(primes.mjs, 'sumPrimes'), xs) on ${threads} ${label}`,
    async start() {
      const begin = performance.now();
      let pool: Pool;
      try {
        pool = new Pool({ backend, processes: threads });
      } catch (error) {
        // The backends land one issue at a time; until then the constructor says it is missing.
        if (/not available|not implemented|not built/i.test(errorMessage(error))) {
          throw new Unavailable('not built yet', `new Pool({ backend: '${backend}' }) says: ${errorMessage(error)}`);
        }
        throw error;
      }
      try {
        const fns: Record<TaskName, unknown> = {
          isPrime: backend === 'native' ? native.isPrime : task(tasksModule, 'isPrime'),
          sumPrimes: backend === 'native' ? native.sumPrimes : task(tasksModule, 'sumPrimes'),
          noop: task(tasksModule, 'noop'),
        };
        await Promise.all(Array.from({ length: threads }, () => pool.apply(fns.sumPrimes as never, [0] as never)));
        const startupMs = performance.now() - begin;
        return {
          startupMs,
          // Default arguments everywhere: with no chunksize the pool sizes the chunks from the
          // task's measured cost (SPEC), so the seed's uneven tasks balance as piscina's one task
          // per item does, and trivial maps travel in large slices.
          map: async (fn, inputs) => sum((await pool.map(fns[fn] as never, inputs as never)) as number[]),
          each: async (fn, inputs) =>
            sum((await Promise.all(inputs.map((x) => pool.applyAsync(fns[fn] as never, [x] as never).get()))) as number[]),
          close: () => pool.terminate(),
        };
      } catch (error) {
        await pool.terminate();
        throw error;
      }
    },
  };
}

/** Loads an optional devDependency; a missing one makes a "not installed" row. */
async function optional<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Unavailable('not installed', `npm i -D ${name} to compare with it`);
    }
    throw error;
  }
}

/**
 * A library that runs one task per `run()` call. `each` is its recommended usage; it has no map,
 * so `map` sends the same chunks Pool.map would (one run per chunk of a chunk-mapping task),
 * which is what a user would write to batch a large map.
 */
function perCallLibrary(
  begin: number,
  threads: number,
  submit: (fn: string, arg: unknown) => Promise<unknown>,
  close: () => Promise<unknown>,
): Promise<Runner> {
  return (async () => {
    try {
      const startupMs = await startup(begin, threads, () => submit('sumPrimes', 0));
      const runner: Runner = {
        startupMs,
        each: async (fn, inputs) => sum((await Promise.all(inputs.map((x) => submit(fn, x)))) as number[]),
        map: async (fn, inputs) => {
          if (fn === 'sumPrimes') return runner.each(fn, inputs);
          const parts = chunks(inputs, defaultChunksize(inputs.length, threads));
          const results = (await Promise.all(parts.map((part) => submit('noopChunk', part)))) as number[][];
          return results.reduce((total, part) => total + sum(part), 0);
        },
        close: async () => {
          await close();
        },
      };
      return runner;
    } catch (error) {
      await close();
      throw error;
    }
  })();
}

/** What Piscina and Tinypool (a fork of it) share: the same options, run() and destroy(). */
type PiscinaLike = new (options: {
  filename: string;
  minThreads: number;
  maxThreads: number;
}) => {
  run(arg: unknown, options: { name: string }): Promise<unknown>;
  destroy(): Promise<unknown>;
};

function piscinaLike(name: string, className: string, threads: number, load: () => Promise<PiscinaLike>): Engine {
  return {
    name,
    kind: 'library',
    threads,
    pooled: true,
    note: `new ${className}({ filename, minThreads: ${threads}, maxThreads: ${threads} }).run(x, { name })`,
    async start() {
      const Pool = await optional(name, load);
      const begin = performance.now();
      const pool = new Pool({ filename: tasksModule.href, minThreads: threads, maxThreads: threads });
      return perCallLibrary(
        begin,
        threads,
        (task, arg) => pool.run(arg, { name: task }),
        () => pool.destroy(),
      );
    },
  };
}

export function piscina(threads: number): Engine {
  return piscinaLike('piscina', 'Piscina', threads, async () => (await import('piscina')).Piscina);
}

export function tinypool(threads: number): Engine {
  return piscinaLike('tinypool', 'Tinypool', threads, async () => (await import('tinypool')).default);
}

export function workerpool(threads: number): Engine {
  return {
    name: 'workerpool',
    kind: 'library',
    threads,
    pooled: true,
    note: `workerpool.pool(script, { minWorkers: ${threads}, maxWorkers: ${threads}, workerType: 'thread' }).exec(name, [x])`,
    async start() {
      const { default: wp } = await optional('workerpool', () => import('workerpool'));
      const begin = performance.now();
      const pool = wp.pool(workerpoolScript, { minWorkers: threads, maxWorkers: threads, workerType: 'thread' });
      return perCallLibrary(
        begin,
        threads,
        (name, arg) => pool.exec(name, [arg]) as unknown as Promise<unknown>,
        async () => {
          await pool.terminate();
        },
      );
    },
  };
}

export interface PythonOutcome {
  runsMs: number[];
  startupMs: number | null;
  checksums: number[];
  python: string;
  startMethod: string;
}

let pythonVersion: Promise<string | null> | undefined;

/** The interpreter the reference rows use: `$PYTHON`, else `python3`. */
export const pythonCommand = process.env.PYTHON || 'python3';

/** "CPython 3.11.7" or null when no python3 runs here. */
export function detectPython(): Promise<string | null> {
  pythonVersion ??= new Promise((resolve) => {
    const child = spawn(
      pythonCommand,
      ['-c', 'import platform; print(platform.python_implementation(), platform.python_version())'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 && out.trim() ? out.trim() : null));
  });
  return pythonVersion;
}

/** Runs benchmark/python/seed.py; the script times itself and prints JSON. */
export function runPython(script: string, args: string[], timeoutMs: number): Promise<PythonOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonCommand, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`python exited with ${signal ?? code}: ${err.trim().split('\n').pop() ?? ''}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as PythonOutcome);
      } catch {
        reject(new Error(`python printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}
