/**
 * Starting one worker, as a worker_thread or as a child process, behind one small interface
 * (as tinypool does), so the pool and Process never care which kind they drive.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';

// Nothing used: the worker program joins the public entry's graph, so the bundle puts it in the
// shared file the CommonJS start loads alone (start.cts).
import './entry.js';
import { workerExecArgv, workerNodeOptions } from './exec_argv.js';
import { canRequireEsm } from './require_esm.js';
import type { FromWorker, ToWorker } from './protocol.js';

export type WorkerKind = 'thread' | 'process';

export interface WorkerHandle {
  readonly kind: WorkerKind;
  /** OS process id (a thread worker shares its parent's). */
  readonly pid: number | undefined;
  /** worker_threads id, for thread workers. */
  readonly threadId: number | undefined;
  /** Throws (DataCloneError) synchronously when the message cannot be cloned. */
  post(message: ToWorker, transfer?: TransferListItem[]): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called exactly once. `error`: an uncaught error that ended the worker, if any. */
  onExit(listener: (exitCode: number | null, signal: NodeJS.Signals | null, error?: unknown) => void): void;
  /** Graceful stop of an idle worker. */
  stop(): void;
  /** Ends the worker now (SIGTERM for a process). */
  terminate(): void;
  /** Ends the worker now (SIGKILL for a process). */
  kill(): void;
  ref(): void;
  unref(): void;
  readonly exited: Promise<void>;
}

export interface SpawnOptions {
  resourceLimits?: ResourceLimits;
}

/** Running from TypeScript sources (tests, tsx users) rather than the built `dist/`. */
const fromSource = import.meta.url.endsWith('.ts');

/** The worker program: the TS source next to this file, or `worker.js` next to the bundle. */
const entryUrl = fromSource ? new URL('./main.ts', import.meta.url) : new URL('./worker.js', import.meta.url);

/**
 * The file a worker with these flags starts from: the built worker through its CommonJS start on
 * Node 20, whose ES module loader would start its asynchronous machinery. Node 22.23 and 24 load an
 * ES module entry without it, and there the CommonJS start measured slower (benchmark/startup.ts).
 */
function startUrl(execArgv: readonly string[]): URL {
  const esmLoaderIsAsync = process.versions.node.startsWith('20.');
  return !fromSource && esmLoaderIsAsync && canRequireEsm(execArgv) ? new URL('./worker-start.cjs', import.meta.url) : entryUrl;
}

function parentUsesTsx(): boolean {
  return process.execArgv.some((arg) => arg.includes('tsx'));
}

let tsxApi: string | null | undefined;

/**
 * tsx's `register()` entry point, when the parent runs under tsx (so TypeScript task modules load
 * in workers too). Found next to the loader the parent was started with, else from here or cwd.
 */
function findTsxApi(): string | null {
  if (tsxApi !== undefined) return tsxApi;
  tsxApi = null;
  if (!fromSource && !parentUsesTsx()) return tsxApi;
  const bases = [
    ...process.execArgv.filter((arg) => arg.includes('tsx') && (arg.includes('/') || arg.startsWith('file:'))),
    import.meta.url,
    pathToFileURL(`${process.cwd()}/`).href,
  ];
  for (const base of bases) {
    try {
      const from = base.replace(/^--(import|loader|require)=/, '');
      // `require` resolution finds the CommonJS build; the ESM one (same folder) is what registers hooks.
      tsxApi = pathToFileURL(
        createRequire(from)
          .resolve('tsx/esm/api')
          .replace(/\.cjs$/, '.mjs'),
      ).href;
      break;
    } catch {
      // try the next base
    }
  }
  return tsxApi;
}

// An eval'd bootstrap, because on Node 20 tsx's --import hooks do not reach worker_threads:
// register tsx first (when needed), then load the real entry. Only dynamic import(): eval'd code
// is CommonJS by default but ESM under --input-type=module, which a worker inherits.
const BOOTSTRAP = `
import('node:worker_threads')
  .then(async ({ workerData }) => {
    if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
    await import(workerData.entry);
  })
  .catch((error) => setImmediate(() => { throw error; }));
`;

function withoutTsx(execArgv: readonly string[]): string[] {
  return execArgv.filter(
    (arg, i, all) => !arg.includes('tsx') && !(all[i + 1]?.includes('tsx') && /^--(import|loader|require)$/.test(arg)),
  );
}

function newThread(options: SpawnOptions): Worker {
  const api = findTsxApi();
  if (!api) {
    // The built entry loads as a file, straight away, with no eval'd bootstrap to compile and run
    // first. Its flags are listed: inherited, a parent's --input-type would refuse a file.
    try {
      const execArgv = workerExecArgv('thread', process.execArgv);
      return new Worker(startUrl(execArgv), {
        execArgv,
        resourceLimits: options.resourceLimits,
      });
    } catch (error) {
      // A flag a Worker cannot list (see below): the bootstrap, which inherits every flag, runs.
      if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    }
  }
  const base = { eval: true, workerData: { entry: entryUrl.href, tsxApi: api }, resourceLimits: options.resourceLimits };
  if (api) {
    try {
      // tsx is registered by the bootstrap; its flags in execArgv do nothing in a worker on Node 20.
      return new Worker(BOOTSTRAP, { ...base, execArgv: workerExecArgv('thread', withoutTsx(process.execArgv)) });
    } catch (error) {
      // V8 and per-process flags (--expose-gc, --stack-size…) can be inherited but not listed:
      // then inherit every flag, tsx's included.
      if ((error as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    }
  }
  return new Worker(BOOTSTRAP, base);
}

/**
 * Resolves once what an ended thread wrote has gone into our stdout and stderr, in order. Its
 * output reaches us through streams piped into ours, which hold it while ours cannot take more;
 * the thread counts as ended only then, so nothing written after join() overtakes it.
 */
function outputDrained(worker: Worker): Promise<unknown> {
  return Promise.all([drained(worker.stdout, process.stdout), drained(worker.stderr, process.stderr)]);
}

function drained(from: NodeJS.ReadableStream & { readableEnded: boolean }, into: NodeJS.WriteStream): Promise<void> | undefined {
  if (from.readableEnded || into.destroyed) return undefined;
  return new Promise((resolve) => {
    // Ours may be closed meanwhile (a reader gone), and then what is held never ends. A listener
    // on our stream per worker would trip Node's leak warning with a dozen workers, so look.
    const look = setInterval(() => into.destroyed && done(), 100);
    const done = () => {
      clearInterval(look);
      from.off('end', done);
      resolve();
    };
    from.once('end', done);
  });
}

function spawnThread(options: SpawnOptions): WorkerHandle {
  const worker = newThread(options);
  let uncaught: unknown;
  worker.on('error', (error) => {
    uncaught = error;
  });
  const ended = new Promise<number>((resolve) =>
    worker.once('exit', (code) => void outputDrained(worker).then(() => resolve(code))),
  );
  const exited = ended.then(() => undefined);
  return {
    kind: 'thread',
    pid: process.pid,
    threadId: worker.threadId,
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => worker.on('message', listener),
    onExit: (listener) => void ended.then((code) => listener(code, null, uncaught)),
    // Ref first: whoever stops a worker awaits its exit, which must keep Node alive until then.
    // The worker ends itself, after its stdout and stderr have reached ours.
    stop: () => {
      worker.ref();
      worker.postMessage({ t: 'stop' } satisfies ToWorker);
    },
    terminate: () => {
      worker.ref();
      void worker.terminate();
    },
    kill: () => {
      worker.ref();
      void worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    exited,
  };
}

function spawnProcess(options: SpawnOptions): WorkerHandle {
  // A child's heap limit is a V8 flag rather than a worker option.
  const heap = options.resourceLimits?.maxOldGenerationSizeMb;
  // The parent's flags that apply to a child (tsx among them, so TS task modules load there too).
  const execArgv = workerExecArgv('process', process.execArgv);
  const child: ChildProcess = fork(fileURLToPath(startUrl(execArgv)), [], {
    serialization: 'advanced',
    execArgv: heap ? [...execArgv, `--max-old-space-size=${heap}`] : execArgv,
    env: { ...process.env, NODE_OPTIONS: workerNodeOptions(process.env.NODE_OPTIONS), NAPI_MULTIPROCESSING_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: unknown;
  child.on('error', (error) => {
    spawnError = error;
  });
  return {
    kind: 'process',
    get pid() {
      return child.pid;
    },
    threadId: undefined,
    post: (message) => {
      if (!child.connected) throw new Error('The worker process is no longer connected');
      child.send(message);
    },
    onMessage: (listener) => child.on('message', listener as (m: unknown) => void),
    // 'exit' can come before the last messages the child wrote are read from the channel; the
    // channel's end ('disconnect') comes after them, so the pool learns the results first.
    onExit: (listener) =>
      child.once('exit', (code, signal) => {
        const fire = () => listener(code, signal, spawnError);
        if (!child.connected) return fire();
        const fallback = setTimeout(fire, 2000);
        child.once('disconnect', () => {
          clearTimeout(fallback);
          fire();
        });
      }),
    // Ref first: whoever stops a child awaits its exit, which must keep Node alive until then.
    // Asked by message, the child hands over what its tasks put and is not delivered yet, then
    // exits; a disconnect means that its parent is gone, and it exits with no more ado.
    stop: () => {
      child.ref();
      if (!child.connected) child.kill('SIGTERM');
      else child.send({ t: 'stop' } satisfies ToWorker, (error) => error && child.kill('SIGTERM'));
    },
    terminate: () => {
      child.ref();
      child.kill('SIGTERM');
    },
    kill: () => {
      child.ref();
      child.kill('SIGKILL');
    },
    ref: () => {
      child.ref();
      (child.channel as { ref?: () => void } | undefined)?.ref?.();
    },
    unref: () => {
      child.unref();
      (child.channel as { unref?: () => void } | undefined)?.unref?.();
    },
    exited,
  };
}

export function spawnWorker(kind: WorkerKind, options: SpawnOptions = {}): WorkerHandle {
  return kind === 'thread' ? spawnThread(options) : spawnProcess(options);
}
