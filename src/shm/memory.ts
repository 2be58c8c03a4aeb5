/**
 * Where shared objects keep their memory, and how it crosses to another thread or process.
 *
 * With the native addon on Linux, every Value, SharedArray, lock, queue and pipe lives in a
 * segment the Rust core shares between processes (an anonymous memfd, mapped by each process that
 * receives an object: see crates/core/src/shm.rs). JS sees such memory as a SharedArrayBuffer
 * where Node can make one over outside memory, else as an external ArrayBuffer (`sharedBufferKind`).
 * Atomics load/store/add/compareExchange work on either. Atomics.wait and notify work on the first
 * only, and wake threads of this process only: waiting.ts sends waits and wake-ups on segments to
 * the kernel's futexes instead, whichever the kind, so that they reach other processes. Without the addon (or on another platform),
 * objects keep plain SharedArrayBuffers, which threads share and processes cannot.
 *
 * Small objects are carved out of 64 KiB slabs (a Lock takes 16 bytes, a memfd at least a page);
 * a slab is unmapped once the last object in it has been collected in every process.
 */
import { binding } from '../native/binding.js';

/** Memory of a shared object: a SharedArrayBuffer, or an ArrayBuffer over a native segment. */
export type SharedMemory = SharedArrayBuffer | ArrayBuffer;

/** What a native segment's part is named by in another process (see crates/binding/src/shm.rs). */
export interface SegmentHandle {
  originPid: number;
  serial: number;
  pid: number;
  fd: number;
  size: number;
  offset: number;
  length: number;
}

/** How a shared object's memory travels inside its transfer state. */
export type WiredMemory = SharedArrayBuffer | { shm: SegmentHandle };

type NativeShm = Required<Pick<NonNullable<typeof binding>, 'shmCreate' | 'shmSlice' | 'shmDescribe' | 'shmOpen'>>;

function probe(): NativeShm | null {
  if (binding === null || typeof binding.shmCreate !== 'function') return null;
  try {
    // memfd_create may be refused (seccomp, an old kernel): then threads share as before.
    binding.shmCreate(8);
    return binding;
  } catch {
    return null;
  }
}

const shm = probe();

/** True when shared objects live in memory that other processes can map. */
export const processShared = shm !== null;

/**
 * What JS sees native segments as: SharedArrayBuffers where the running Node has
 * `node_api_create_external_sharedarraybuffer` (22.23.3+, 24.16+, 26.1+), external ArrayBuffers
 * elsewhere; null without native segments (objects then live in plain SharedArrayBuffers).
 */
export const sharedBufferKind: 'SharedArrayBuffer' | 'ArrayBuffer' | null =
  shm === null ? null : shm.shmCreate(8) instanceof SharedArrayBuffer ? 'SharedArrayBuffer' : 'ArrayBuffer';

/** Why memory cannot be shared with another process here (for the TypeError that says so). */
export function whyNotProcessShared(): string {
  if (binding === null) return 'the native addon is not loaded (NAPI_MULTIPROCESSING_NO_NATIVE, or no binary for this platform)';
  if (process.platform !== 'linux')
    return `sharing memory between processes is implemented on Linux only, not ${process.platform}`;
  return 'the system refused to create a shared memory segment (memfd_create)';
}

/**
 * The error a process worker gives for a shared object when its memory cannot be shared with
 * another process (without the native addon, or off Linux).
 */
export function refuseForProcess(type: string): TypeError {
  // "An Event", "An RLock" (said "ar-lock"), but "A RawValue", "A Queue".
  const article = /^[AEIOU]|^[FHLMNRSX][A-Z]/.test(type) ? 'An' : 'A';
  const error = new TypeError(
    `${article} ${type} cannot be sent to a 'process' worker: it lives in memory shared between threads of one process, ` +
      `because ${whyNotProcessShared()}. Use backend 'thread' (the default) to share it, or send plain values.`,
  ) as TypeError & { code: string };
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/**
 * What `encode` is given for a process worker: nothing to refuse where a process of this machine
 * maps the memory itself (the native core shares it), else `refuseForProcess`. Decided here rather
 * than in transfer.ts, so that a worker can encode and decode without loading this module (and the
 * addon it probes).
 */
export const processRefusal: ((type: string) => TypeError) | undefined = processShared ? undefined : refuseForProcess;

const SLAB = 64 * 1024;
/** Larger objects get a segment of their own (a queue's 64 KiB ring, big arrays). */
const OWN_SEGMENT = SLAB / 4;
/** Offsets stay 16-byte aligned (BigInt64Array and Float64Array views need 8). */
const ALIGN = 16;

let slab: { buffer: SharedMemory; used: number } | null = null;

/**
 * Every buffer over a native segment this thread made or mapped: on Node versions where they are
 * SharedArrayBuffers, this is what tells them from plain ones. One set per thread even when the
 * package is loaded twice (its ESM and CJS builds), since objects of one copy may meet the other's.
 */
const segments = ((globalThis as Record<symbol, unknown>)[Symbol.for('napi-multiprocessing.segments')] ??=
  new WeakSet<ArrayBufferLike>()) as WeakSet<ArrayBufferLike>;

function tracked(buffer: SharedMemory): SharedMemory {
  segments.add(buffer);
  return buffer;
}

/** New zero-filled shared memory of `bytes` bytes (at least 1). */
export function allocateShared(bytes: number): SharedMemory {
  if (shm === null) return new SharedArrayBuffer(bytes);
  const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
  if (size > OWN_SEGMENT) return tracked(shm.shmCreate(bytes));
  if (slab === null || slab.used + size > SLAB) {
    // Parts start past the first 64 bytes: no part shares its first address with the slab's own
    // view, which V8 may track by address.
    slab = { buffer: shm.shmCreate(SLAB), used: 64 };
  }
  const part = shm.shmSlice(slab.buffer, slab.used, bytes);
  slab.used += size;
  return tracked(part);
}

/** True for memory that another process can map (a native segment). */
export function isProcessShared(memory: ArrayBufferLike): boolean {
  return segments.has(memory);
}

/** The form of `memory` that goes into a transfer state. */
export function wire(memory: SharedMemory): WiredMemory {
  if (memory instanceof SharedArrayBuffer && !segments.has(memory)) return memory;
  const handle = shm?.shmDescribe(memory);
  if (!handle)
    throw new TypeError('napi-multiprocessing: shared memory that is neither a SharedArrayBuffer nor a native segment');
  return { shm: handle };
}

/** The memory a transfer state names, mapped into this process on first use. */
export function unwire(wired: WiredMemory): SharedMemory {
  if (wired instanceof SharedArrayBuffer) return wired;
  if (shm === null)
    throw new TypeError(`napi-multiprocessing: cannot map shared memory from another process: ${whyNotProcessShared()}`);
  return tracked(shm.shmOpen(wired.shm));
}
