/**
 * The memory column: the RSS an engine's pool adds, measured the same way for every engine, each in
 * a fresh process so that no engine inherits another's heap, allocator arenas or loaded code.
 *
 * The probe is this same CLI started again with MEMORY_PROBE_ENV set. It loads every pool library
 * first (so code size is not charged to one engine), reads the RSS, starts the pool, runs the seed
 * workload once through it (the pool is then warm: workers started, modules loaded, heaps grown),
 * and reads the RSS again. On Linux the RSS is that of the probe and all its descendants, so a
 * pool of child processes is charged for its children; elsewhere only the probe process counts.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import { type BenchOptions, errorMessage, seedInputs } from './common.js';
import type { Engine } from './engines.js';

/** Set (to a JSON ProbeRequest) in the probe process. */
export const MEMORY_PROBE_ENV = 'NAPI_MULTIPROCESSING_BENCH_MEMORY';

interface ProbeRequest {
  engine: string;
  threads: number;
  n: number;
  step: number;
}

export interface MemoryOutcome {
  /** RSS after minus RSS before, bytes; null when the probe failed (see `error`). */
  addedBytes: number | null;
  error?: string;
}

/** VmRSS of one process in bytes, 0 if it is gone. */
function processRss(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids below `root` in the process tree (Linux: from /proc/<pid>/stat). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The name field may hold spaces and parentheses: the parent pid is the 2nd field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) for (const child of children.get(queue.pop()!) ?? []) found.push(child), queue.push(child);
  return found;
}

/** RSS of this process and, on Linux, of every process it started (bytes). */
export function treeRss(): number {
  if (process.platform !== 'linux') return process.memoryUsage.rss();
  return [process.pid, ...descendants(process.pid)].reduce((total, pid) => total + processRss(pid), 0);
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) gc?.();
}

/** Loads the libraries the engines import, so that their code is in the baseline of every probe. */
async function preloadLibraries(): Promise<void> {
  for (const name of ['piscina', 'tinypool', 'workerpool']) {
    try {
      await import(name);
    } catch {
      // not installed: that engine's probe fails the same way its timing did
    }
  }
}

/** The probe process's work (the CLI calls this when MEMORY_PROBE_ENV is set); prints JSON. */
export async function runMemoryProbe(request: string, engines: (threads: number) => Engine[]): Promise<void> {
  let outcome: MemoryOutcome;
  try {
    const { engine: name, threads, n, step } = JSON.parse(request) as ProbeRequest;
    const engine = engines(threads).find((e) => e.name === name);
    if (!engine) throw new Error(`no engine named ${name}`);
    await preloadLibraries();
    collectGarbage();
    const before = treeRss();
    const runner = await engine.start();
    try {
      await runner.map('sumPrimes', seedInputs(n, step));
      collectGarbage();
      outcome = { addedBytes: treeRss() - before };
    } finally {
      await runner.close();
    }
  } catch (error) {
    outcome = { addedBytes: null, error: errorMessage(error) };
  }
  process.stdout.write(JSON.stringify(outcome));
}

/** Runs the probe for `engine` in a fresh process (this CLI again, with the same Node flags). */
export function probeMemory(engine: Engine, options: BenchOptions, timeoutMs: number): Promise<MemoryOutcome> {
  const request: ProbeRequest = { engine: engine.name, threads: options.threads, n: options.n, step: options.step };
  // A debugger flag would make the probe fight the bench for the inspector port.
  const flags = process.execArgv.filter((flag) => !flag.startsWith('--inspect'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, '--expose-gc', process.argv[1]!], {
      env: { ...process.env, [MEMORY_PROBE_ENV]: JSON.stringify(request) },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => resolve({ addedBytes: null, error: error.message }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as MemoryOutcome);
      } catch {
        resolve({ addedBytes: null, error: `the memory probe exited with ${signal ?? code} and printed no result` });
      }
    });
  });
}
