/**
 * What the cluster workload (and the cluster tests) run against: a real redis-server on a free
 * loopback port with no persistence, and `napi-multiprocessing worker` processes started through
 * the CLI, as a user starts them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { packageRoot } from './common.js';

/**
 * Every redis-server and worker started here, killed when this process exits even if nobody
 * stopped them (a test that timed out, a benchmark interrupted), so none is left behind.
 */
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** True when redis-server is on PATH (CI installs it; see .ci/run). */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with the first output line matching `pattern`; rejects when the process ends first or after `ms`. */
export function waitForLine(child: ChildProcess, pattern: RegExp, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) finish(() => resolve(line));
    };
    const onExit = (code: number | null) =>
      finish(() => reject(new Error(`${what} exited (${code}) before it was ready:\n${seen}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`${what} not ready within ${ms} ms:\n${seen}`))), ms);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitForLine(child, /Ready to accept connections/, 15_000, 'redis-server');
    } catch (error) {
      child.kill('SIGKILL');
      if (attempt < 3) continue; // the port was taken in between: try another
      throw error;
    }
    return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopChild(child, 'SIGKILL') };
  }
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  exited: Promise<number | null>;
}

/** The CLI as this code runs: the built bin next to a bundle, else the TypeScript source through tsx. */
function cliCommand(): string[] {
  return import.meta.url.endsWith('.ts')
    ? ['--import', 'tsx', join(packageRoot, 'bin', 'cli.ts')]
    : [join(packageRoot, 'dist', 'cli.js')];
}

/** Starts a node process running `args` from the package root; resolves once it printed a 'ready' line. */
export async function startReady(args: string[], what: string): Promise<WorkerProcess> {
  const child = track(spawn(process.execPath, args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForLine(child, /^ready$/, 60_000, what);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, output: () => output, exited };
}

/** `napi-multiprocessing worker …`, once it printed 'ready'. */
export function startWorker(args: string[]): Promise<WorkerProcess> {
  return startReady([...cliCommand(), 'worker', ...args], 'the worker');
}
