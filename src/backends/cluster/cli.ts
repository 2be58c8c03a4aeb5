/**
 * `napi-multiprocessing worker`: serve cluster jobs from this machine until SIGTERM (or SIGINT),
 * which drains: the running jobs finish, then the command exits 0. A second signal exits at once.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

import { DEFAULT_QUEUE, checkQueueName } from './backend.js';
import { checkConnection } from './connection.js';
import { ClusterWorker, type ServeOptions } from './server.js';

export const WORKER_HELP = `Usage: napi-multiprocessing worker --connection URL [options] --tasks MODULE...

Takes jobs from a cluster Pool (new Pool({ backend: 'cluster', connection })) through Redis and
runs them on a local pool. Runs only the functions exported by the --tasks modules, and the
native kernels: nothing that arrives through Redis is ever run as code.

Options:
  --connection URL       redis://[user:password@]host:port[/db], rediss://… (TLS) or a socket path
  --queue NAME           the BullMQ queue to serve                        (default: ${DEFAULT_QUEUE})
  --processes N          local workers, and jobs run at a time            (default: cpu count)
  --backend B            thread | process | native                        (default: thread)
  --tasks MODULE...      modules whose exported functions this worker runs; each one is
                         FILE (a path, relative to the current directory), a package
                         specifier, or NAME=FILE to also serve it as task('cluster:NAME', …)
  --lock-duration MS     BullMQ lock: a job whose worker stops renewing it this long is
                         taken to be stalled and put back for another worker (default: 30000)
  --stalled-interval MS  how often this worker looks for stalled jobs     (default: 30000)
  --max-stalled N        a job that stalls more often than this fails     (default: 1)
  -h, --help             show this help

A task in a module inside a package with a name travels as '<package>/<path in the package>',
so workers on other machines serve it when they run the same package.`;

export class WorkerUsageError extends Error {}

function whole(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
    throw new WorkerUsageError(`--${flag} must be a whole number >= ${min}, got '${value}'`);
  }
  return Number(value);
}

const WORKER_FLAGS = {
  connection: { type: 'string' },
  queue: { type: 'string' },
  processes: { type: 'string' },
  backend: { type: 'string' },
  tasks: { type: 'string', multiple: true },
  'lock-duration': { type: 'string' },
  'stalled-interval': { type: 'string' },
  'max-stalled': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The serve options from `worker`'s arguments; 'help' for -h. Throws WorkerUsageError. */
export function parseWorkerArgs(argv: string[]): ServeOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: WORKER_FLAGS });
  } catch (error) {
    throw new WorkerUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.connection === undefined)
    throw new WorkerUsageError('--connection is required (e.g. --connection redis://127.0.0.1:6379)');
  // `--tasks a.js b.js`: the modules after the first are positionals.
  const tasks = [...(values.tasks ?? []), ...positionals];
  if (positionals.length > 0 && values.tasks === undefined) {
    throw new WorkerUsageError(`unexpected argument '${positionals[0]}' (modules to serve follow --tasks)`);
  }
  const backend = values.backend ?? 'thread';
  if (backend !== 'thread' && backend !== 'process' && backend !== 'native') {
    throw new WorkerUsageError(`--backend must be one of thread, process, native; got '${backend}'`);
  }
  if (backend === 'native' && tasks.length > 0) {
    throw new WorkerUsageError('--backend native runs only native kernels: drop --tasks, or use --backend thread or process');
  }
  try {
    return {
      connection: checkConnection(values.connection, '--connection'),
      queue: checkQueueName(values.queue),
      processes: whole(values.processes, 'processes', 1) ?? availableParallelism(),
      backend,
      tasks,
      lockDuration: whole(values['lock-duration'], 'lock-duration', 1),
      stalledInterval: whole(values['stalled-interval'], 'stalled-interval', 1),
      maxStalledCount: whole(values['max-stalled'], 'max-stalled', 0),
    };
  } catch (error) {
    if (error instanceof WorkerUsageError) throw error;
    throw new WorkerUsageError((error as Error).message);
  }
}

/** Runs the command; resolves with the exit code once drained. */
export async function runWorkerCommand(argv: string[]): Promise<number> {
  let options: ServeOptions | 'help';
  try {
    options = parseWorkerArgs(argv);
  } catch (error) {
    if (!(error instanceof WorkerUsageError)) throw error;
    process.stderr.write(
      `napi-multiprocessing worker: ${error.message}\nRun 'napi-multiprocessing worker --help' for the options.\n`,
    );
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${WORKER_HELP}\n`);
    return 0;
  }
  let worker: ClusterWorker;
  try {
    worker = await ClusterWorker.start(options);
  } catch (error) {
    process.stderr.write(`napi-multiprocessing worker: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`${worker.describe(options)}\nready\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.stdout.write(`${signal}: finishing the running jobs, then exiting\n`);
      // A second signal: the user wants out now; the jobs still running go back to the queue.
      const now = () => process.exit(1);
      process.once('SIGTERM', now);
      process.once('SIGINT', now);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await worker.close();
  process.stdout.write('drained\n');
  return 0;
}
