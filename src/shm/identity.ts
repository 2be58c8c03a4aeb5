/**
 * Who holds a lock or waits on a Condition: one Int32 per thread, unique across every process
 * that shares memory, so that owner words keep their one-word compare-and-swap.
 *
 * Between threads of one process that is `threadId + 1`. When memory is shared between processes
 * (memory.ts), thread ids repeat from one process to the next (every main thread is 0), so the
 * first process that loads the package makes an identity table in shared memory and names it to
 * its descendants through the environment (`NAPI_MULTIPROCESSING_IDENTITIES`): each thread of the
 * tree takes the next number there, and records its pid and threadId, which is how a waiter tells
 * whether a holder in another process has died (`holderEnded`).
 */
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

import { threadEnded } from '../synchronize/liveness.js';
import { allocateShared, isProcessShared, processShared, unwire, wire, type SegmentHandle } from './memory.js';

const ENV = 'NAPI_MULTIPROCESSING_IDENTITIES';
/** Identities a process tree can hand out; past it they wrap around (see `takeIdentity`). */
const CAPACITY = 2 ** 20;
const NEXT = 0;
const pidOf = (id: number) => 2 * id;
const tidOf = (id: number) => 2 * id + 1;

function openTable(): Int32Array | null {
  if (!processShared) return null;
  const named = process.env[ENV];
  let memory: ArrayBufferLike | undefined;
  if (named) {
    try {
      memory = unwire({ shm: JSON.parse(named) as SegmentHandle });
    } catch {
      // The process that named it is gone: start a table of our own (and for our descendants).
    }
  }
  memory ??= allocateShared(8 * CAPACITY);
  // Named by this process from now on: a child maps it through us, even if our parent ends.
  if (isProcessShared(memory)) process.env[ENV] = JSON.stringify((wire(memory) as { shm: SegmentHandle }).shm);
  return new Int32Array(memory);
}

const table = openTable();

function takeIdentity(): number {
  if (table === null) return threadId + 1;
  // Numbers 1..CAPACITY-1; wrapping reuses those of long-gone threads first.
  const id = 1 + ((Atomics.add(table, NEXT, 1) >>> 0) % (CAPACITY - 1));
  Atomics.store(table, tidOf(id), threadId);
  Atomics.store(table, pidOf(id), process.pid);
  return id;
}

// One identity per thread, even when the package is loaded twice (its ESM and CJS builds).
const slot = Symbol.for('napi-multiprocessing.identity');
const holder = globalThis as { [slot]?: number };

/** This thread's identity in owner words: never 0, which means "nobody". */
export const ME: number = (holder[slot] ??= takeIdentity());

/** True once the process is known to have ended (a zombie, dead but not yet reaped, included). */
function processEnded(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // "pid (name) S ...": the state letter follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** True once the thread with identity `id` is known to have ended (or its whole process). */
export function holderEnded(id: number): boolean {
  if (table === null) return threadEnded(id - 1);
  if (id <= 0 || id >= CAPACITY) return false;
  const pid = Atomics.load(table, pidOf(id));
  // Not recorded yet: its thread is starting, hence alive.
  if (pid === 0) return false;
  return pid === process.pid ? threadEnded(Atomics.load(table, tidOf(id))) : processEnded(pid);
}
