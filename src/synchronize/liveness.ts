/**
 * Which threads of this process have ended, so that shared primitives need not wait forever for a
 * thread that died holding something (a Condition's lock) or while waiting (a Condition slot).
 *
 * One bit per `threadId` (ids are never reused within a process), in a growable
 * SharedArrayBuffer that every thread reaches through worker_threads' environment data: a worker
 * inherits it from the thread that created it, provided the package was loaded there first (as it
 * is wherever a Pool or Process starts one). Two sources set a thread's bit:
 * - the thread itself, on its way out (`process.exit`, an uncaught error, its end): synchronous,
 *   so it holds even while the thread that created it is blocked;
 * - the thread that created it, when the Worker's 'exit' event arrives: this also covers
 *   `terminate()` and running out of memory, where the dying thread runs no more JavaScript.
 * A thread created where the package was not loaded is never seen to end: it counts as alive, and
 * waiting on it behaves as it did before this existed.
 */
import { getEnvironmentData, isMainThread, setEnvironmentData, threadId, type Worker } from 'node:worker_threads';

const KEY = 'napi-multiprocessing.endedThreads';
/** Room for 2^27 thread ids; only what is used is committed. */
const MAX_BYTES = 2 ** 24;

/** A SharedArrayBuffer that can grow in place up to `maxBytes` (ES2024; not in Node 20's TS lib yet). */
export type GrowableBuffer = SharedArrayBuffer & { grow(byteLength: number): void };

export function growableSharedBuffer(bytes: number, maxBytes: number): GrowableBuffer {
  const Growable = SharedArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => GrowableBuffer;
  return new Growable(bytes, { maxByteLength: maxBytes });
}

function table(): Int32Array {
  let buffer = getEnvironmentData(KEY) as GrowableBuffer | undefined;
  if (!(buffer instanceof SharedArrayBuffer)) {
    buffer = growableSharedBuffer(64, MAX_BYTES);
    setEnvironmentData(KEY, buffer);
  }
  // Length-tracking: sees the table grow whichever thread grew it.
  return new Int32Array(buffer);
}

const bits = table();

function markEnded(id: number): void {
  const word = id >>> 5;
  if (word >= bits.length) grow((word + 1) * 4);
  // Beyond what the table can hold, the thread just stays "alive".
  if (word < bits.length) Atomics.or(bits, word, 1 << (id & 31));
}

function grow(bytes: number): void {
  const buffer = bits.buffer as GrowableBuffer;
  try {
    buffer.grow(Math.min(MAX_BYTES, Math.max(buffer.byteLength * 2, bytes)));
  } catch {
    // Grown further by another thread meanwhile (a grow never shrinks), or at its maximum.
  }
}

/** True once thread `id` (a worker_threads `threadId`) is known to have ended. */
export function threadEnded(id: number): boolean {
  const word = id >>> 5;
  return word < bits.length && (Atomics.load(bits, word) & (1 << (id & 31))) !== 0;
}

// Once per thread, even when both the ESM and the CommonJS build of the package are loaded.
const installed = Symbol.for('napi-multiprocessing.livenessInstalled');
const marks = globalThis as { [installed]?: true };
if (!marks[installed]) {
  marks[installed] = true;
  if (!isMainThread) process.on('exit', () => markEnded(threadId));
  process.on('worker', (worker: Worker) => {
    const id = worker.threadId;
    worker.once('exit', () => markEnded(id));
  });
}
