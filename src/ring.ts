/**
 * The message channel under Queue, JoinableQueue, SimpleQueue and Pipe: a ring buffer of bytes in a
 * growable SharedArrayBuffer, guarded by a futex mutex, with two futex sequence words ("not empty",
 * "not full") that blocked getters and putters sleep on.
 *
 * Why one mutex rather than a lock-free MPMC ring: messages have variable length, may wrap, and the
 * ring must grow in place for a large value; a short critical section (a memcpy) keeps all of that
 * simple and provably exact (nothing lost or duplicated), and an uncontended futex costs two CAS.
 *
 * Values are serialised outside the lock: numbers, strings, booleans, null and undefined with a
 * one-byte tag (the common small messages, much cheaper than a full serialiser), anything else with
 * `v8.serialize` (structured-clone semantics, as postMessage). A message is
 * `[u32 length][u8 tag][payload]`.
 */
import { deserialize, serialize } from 'node:v8';

import { EOFError, Empty, Full } from './errors.js';
import { outOfRange } from './validate.js';
import { Deadline, FOREVER, SPIN_SYNC, lockWordSteps, runSync, unlockWord, type Waiting } from './waiting.js';

// ctrl words
const MUTEX = 0;
const COUNT = 1;
const HEAD = 2;
const TAIL = 3;
const USED = 4;
const NE_SEQ = 5;
const NE_WAITERS = 6;
const NF_SEQ = 7;
const NF_WAITERS = 8;
const UNFINISHED = 9;
const JOIN_SEQ = 10;
const MAXSIZE = 11;
const WRITER_CLOSED = 12;
const READER_CLOSED = 13;
const CTRL_WORDS = 16;

const INITIAL_BYTES = 16 * 1024;
/** Bytes of messages waiting in one queue at most; a single message may not exceed it. */
export const MAX_RING_BYTES = 256 * 1024 * 1024;
const HEADER = 5;

const enum Tag {
  V8 = 0,
  Number = 1,
  String = 2,
  Undefined = 3,
  Null = 4,
  True = 5,
  False = 6,
  Bytes = 7,
}

// Per-thread scratch buffers. Encoding and decoding finish synchronously, so one of each suffices
// as long as an async caller copies its encoded message before it waits (see Ring.putAsync).
let out = new Uint8Array(4096);
let outView = new DataView(out.buffer);
let inBuf = new Uint8Array(4096);
let inView = new DataView(inBuf.buffer);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function ensureOut(n: number): void {
  if (n <= out.length) return;
  let size = out.length;
  while (size < n) size *= 2;
  out = new Uint8Array(size);
  outView = new DataView(out.buffer);
}

function ensureIn(n: number): void {
  if (n <= inBuf.length) return;
  let size = inBuf.length;
  while (size < n) size *= 2;
  inBuf = new Uint8Array(size);
  inView = new DataView(inBuf.buffer);
}

function checkSize(total: number): void {
  if (total > MAX_RING_BYTES) {
    throw outOfRange('message', `at most ${MAX_RING_BYTES} bytes once serialised`, `${total} bytes`);
  }
}

/** Encodes `value` into the scratch buffer; returns the whole message (a view on the scratch). */
export function encodeValue(value: unknown): Uint8Array {
  let total: number;
  switch (typeof value) {
    case 'number':
      total = HEADER + 8;
      outView.setFloat64(HEADER, value, true);
      out[4] = Tag.Number;
      break;
    case 'string': {
      ensureOut(HEADER + value.length * 3);
      total = HEADER + encoder.encodeInto(value, out.subarray(HEADER)).written;
      out[4] = Tag.String;
      break;
    }
    case 'boolean':
      total = HEADER;
      out[4] = value ? Tag.True : Tag.False;
      break;
    case 'undefined':
      total = HEADER;
      out[4] = Tag.Undefined;
      break;
    default: {
      if (value === null) {
        total = HEADER;
        out[4] = Tag.Null;
        break;
      }
      const bytes = serialize(value);
      total = HEADER + bytes.length;
      checkSize(total);
      ensureOut(total);
      out.set(bytes, HEADER);
      out[4] = Tag.V8;
    }
  }
  checkSize(total);
  outView.setUint32(0, total - 4, true);
  return out.subarray(0, total);
}

/** Encodes raw bytes (Connection.sendBytes) into the scratch buffer. */
export function encodeBytes(bytes: Uint8Array): Uint8Array {
  const total = HEADER + bytes.length;
  checkSize(total);
  ensureOut(total);
  out.set(bytes, HEADER);
  out[4] = Tag.Bytes;
  outView.setUint32(0, total - 4, true);
  return out.subarray(0, total);
}

/** Decodes the message the last `take` left in the input scratch (`length` = tag + payload). */
export function decodeValue(length: number): unknown {
  const end = 4 + length;
  switch (inBuf[4] as Tag) {
    case Tag.Number:
      return inView.getFloat64(HEADER, true);
    case Tag.String:
      return decoder.decode(inBuf.subarray(HEADER, end));
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Undefined:
      return undefined;
    case Tag.Null:
      return null;
    case Tag.Bytes:
      return Buffer.from(inBuf.subarray(HEADER, end));
    default:
      return deserialize(inBuf.subarray(HEADER, end));
  }
}

/** The payload of the last message taken, as bytes (Connection.recvBytes). */
export function decodeBytes(length: number): Buffer {
  if (inBuf[4] === Tag.Bytes) return Buffer.from(inBuf.subarray(HEADER, 4 + length));
  // A message sent with send(): hand back its serialised form, as Python hands back the pickle.
  return serialize(decodeValue(length));
}

// Growable SharedArrayBuffers are in Node 20 (V8 11) but not in the ES2023 lib this project compiles with.
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  grow(newLength: number): void;
}
type GrowableSharedArrayBufferConstructor = new (length: number, options: { maxByteLength: number }) => GrowableSharedArrayBuffer;

export interface RingState {
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

type PutOutcome = 0 | 1;
const PUT_OK: PutOutcome = 0;
const PUT_NO_ROOM: PutOutcome = 1;

export class Ring {
  readonly ctrl: Int32Array;
  readonly #data: SharedArrayBuffer;
  /** Length-tracking view: it follows the buffer when any thread grows it. */
  readonly #bytes: Uint8Array;

  constructor(state?: RingState, maxsize = 0) {
    if (state) {
      this.ctrl = new Int32Array(state.ctrl);
      this.#data = state.data;
    } else {
      this.ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
      this.ctrl[MAXSIZE] = maxsize;
      this.#data = new (SharedArrayBuffer as unknown as GrowableSharedArrayBufferConstructor)(INITIAL_BYTES, { maxByteLength: MAX_RING_BYTES });
    }
    this.#bytes = new Uint8Array(this.#data);
  }

  get state(): RingState {
    return { ctrl: this.ctrl.buffer as SharedArrayBuffer, data: this.#data };
  }

  get maxsize(): number {
    return this.ctrl[MAXSIZE]!;
  }

  count(): number {
    return Atomics.load(this.ctrl, COUNT);
  }

  full(): boolean {
    const max = this.ctrl[MAXSIZE]!;
    return max > 0 && Atomics.load(this.ctrl, COUNT) >= max;
  }

  // --- under the mutex ---

  /** Makes room for `n` more bytes, growing the buffer if needed; false when it cannot. */
  #room(n: number): boolean {
    const c = this.ctrl;
    const capacity = this.#bytes.length;
    const used = c[USED]!;
    if (capacity - used >= n) return true;
    if (used + n > MAX_RING_BYTES) return false;
    let size = capacity * 2;
    while (size < used + n) size *= 2;
    size = Math.min(size, MAX_RING_BYTES);
    (this.#data as GrowableSharedArrayBuffer).grow(size);
    // Unwrap: the bytes that wrapped to the start move right after the old end. The new capacity is
    // at least twice the old, so they always fit there.
    const head = c[HEAD]!;
    const tail = c[TAIL]!;
    if (used > 0 && tail <= head) {
      this.#bytes.copyWithin(capacity, 0, tail);
      c[TAIL] = capacity + tail;
    } else if (used === 0) {
      c[HEAD] = 0;
      c[TAIL] = 0;
    }
    return true;
  }

  #tryPut(msg: Uint8Array, joinable: boolean): PutOutcome {
    const c = this.ctrl;
    const max = c[MAXSIZE]!;
    if (max > 0 && c[COUNT]! >= max) return PUT_NO_ROOM;
    const n = msg.length;
    if (!this.#room(n)) return PUT_NO_ROOM;
    const bytes = this.#bytes;
    const capacity = bytes.length;
    const tail = c[TAIL]!;
    const first = Math.min(n, capacity - tail);
    bytes.set(first === n ? msg : msg.subarray(0, first), tail);
    if (first < n) bytes.set(msg.subarray(first), 0);
    c[TAIL] = (tail + n) % capacity;
    c[USED]! += n;
    if (joinable) c[UNFINISHED]!++;
    Atomics.add(c, COUNT, 1);
    return PUT_OK;
  }

  #readInto(offset: number, target: Uint8Array, start: number, n: number): number {
    const bytes = this.#bytes;
    const capacity = bytes.length;
    const first = Math.min(n, capacity - offset);
    target.set(bytes.subarray(offset, offset + first), start);
    if (first < n) target.set(bytes.subarray(0, n - first), start + first);
    return (offset + n) % capacity;
  }

  /** Moves the oldest message into the input scratch; returns its length (tag + payload). */
  #take(): number {
    const c = this.ctrl;
    let head = this.#readInto(c[HEAD]!, inBuf, 0, 4);
    const length = inView.getUint32(0, true);
    ensureIn(4 + length);
    head = this.#readInto(head, inBuf, 4, length);
    c[HEAD] = head;
    c[USED]! -= 4 + length;
    Atomics.sub(c, COUNT, 1);
    return length;
  }

  #lock(): boolean {
    return Atomics.compareExchange(this.ctrl, MUTEX, 0, 1) === 0;
  }

  #unlock(): void {
    unlockWord(this.ctrl, MUTEX);
  }

  #wake(seq: number, waiters: number): void {
    const c = this.ctrl;
    if (Atomics.load(c, waiters) > 0) {
      Atomics.add(c, seq, 1);
      Atomics.notify(c, seq, 1);
    }
  }

  #afterPut(): void {
    this.#wake(NE_SEQ, NE_WAITERS);
    // Room may be left for another blocked putter (bytes freed by several gets): pass it on.
    if (Atomics.load(this.ctrl, NF_WAITERS) > 0 && !this.full()) this.#wake(NF_SEQ, NF_WAITERS);
  }

  #afterTake(): void {
    this.#wake(NF_SEQ, NF_WAITERS);
    if (Atomics.load(this.ctrl, NE_WAITERS) > 0 && Atomics.load(this.ctrl, COUNT) > 0) this.#wake(NE_SEQ, NE_WAITERS);
  }

  // --- operations ---

  /** One attempt without waiting (except for the brief mutex): true if the message went in. */
  tryPut(msg: Uint8Array, joinable: boolean): boolean {
    if (!this.#lock()) this.#lockSlow();
    const outcome = this.#tryPut(msg, joinable);
    this.#unlock();
    if (outcome !== PUT_OK) return false;
    this.#afterPut();
    return true;
  }

  #lockSlow(): void {
    // Only the non-waiting calls (putNowait, getNowait…) come here. The mutex guards nothing longer
    // than a memcpy, so they wait for it synchronously rather than becoming async.
    runSync(lockWordSteps(this.ctrl, MUTEX, FOREVER, SPIN_SYNC));
  }

  /** Steps of a blocking put; throws Full when `deadline` passes (or at once if it is null). */
  *putSteps(msg: Uint8Array, joinable: boolean, deadline: Deadline | null): Waiting<void> {
    const c = this.ctrl;
    for (;;) {
      if (!this.#lock()) yield* lockWordSteps(c, MUTEX, FOREVER, SPIN_SYNC);
      if (Atomics.load(c, READER_CLOSED) === 1) {
        this.#unlock();
        throw brokenPipe();
      }
      if (this.#tryPut(msg, joinable) === PUT_OK) {
        this.#unlock();
        this.#afterPut();
        return;
      }
      const seq = Atomics.load(c, NF_SEQ);
      Atomics.add(c, NF_WAITERS, 1);
      this.#unlock();
      const left = deadline === null ? 0 : deadline.remaining();
      try {
        if (left <= 0) throw new Full();
        yield { array: c, index: NF_SEQ, value: seq, timeout: left };
      } finally {
        Atomics.sub(c, NF_WAITERS, 1);
      }
    }
  }

  /** One attempt: the length of the message now in the input scratch, or -1 when empty. */
  tryTake(): number {
    if (!this.#lock()) this.#lockSlow();
    if (this.ctrl[COUNT] === 0) {
      this.#unlock();
      return -1;
    }
    const length = this.#take();
    this.#unlock();
    this.#afterTake();
    return length;
  }

  /**
   * Steps of a blocking get: resolves with the length of the message left in the input scratch.
   * Throws Empty when `deadline` passes (at once if it is null), EOFError once the writer closed and
   * nothing is left (pipes only).
   */
  *takeSteps(deadline: Deadline | null): Waiting<number> {
    const c = this.ctrl;
    for (;;) {
      if (!this.#lock()) yield* lockWordSteps(c, MUTEX, FOREVER, SPIN_SYNC);
      if (c[COUNT]! > 0) {
        const length = this.#take();
        this.#unlock();
        this.#afterTake();
        return length;
      }
      if (Atomics.load(c, WRITER_CLOSED) === 1) {
        this.#unlock();
        throw new EOFError();
      }
      const seq = Atomics.load(c, NE_SEQ);
      Atomics.add(c, NE_WAITERS, 1);
      this.#unlock();
      const left = deadline === null ? 0 : deadline.remaining();
      try {
        if (left <= 0) throw new Empty();
        yield { array: c, index: NE_SEQ, value: seq, timeout: left };
      } finally {
        Atomics.sub(c, NE_WAITERS, 1);
      }
    }
  }

  /** Waits until a message (or EOF) is available without taking it; false on timeout. */
  *pollSteps(deadline: Deadline): Waiting<boolean> {
    const c = this.ctrl;
    for (;;) {
      const seq = Atomics.load(c, NE_SEQ);
      if (Atomics.load(c, COUNT) > 0 || Atomics.load(c, WRITER_CLOSED) === 1) return true;
      const left = deadline.remaining();
      if (left <= 0) return false;
      Atomics.add(c, NE_WAITERS, 1);
      try {
        // Re-check after registering: a put that saw no waiter did not bump the sequence.
        if (Atomics.load(c, COUNT) > 0 || Atomics.load(c, WRITER_CLOSED) === 1) return true;
        yield { array: c, index: NE_SEQ, value: seq, timeout: left };
      } finally {
        Atomics.sub(c, NE_WAITERS, 1);
      }
    }
  }

  // --- JoinableQueue ---

  taskDone(): boolean {
    const c = this.ctrl;
    let n = Atomics.load(c, UNFINISHED);
    for (;;) {
      if (n <= 0) return false;
      const seen = Atomics.compareExchange(c, UNFINISHED, n, n - 1);
      if (seen === n) break;
      n = seen;
    }
    if (n === 1) {
      Atomics.add(c, JOIN_SEQ, 1);
      Atomics.notify(c, JOIN_SEQ);
    }
    return true;
  }

  unfinished(): number {
    return Atomics.load(this.ctrl, UNFINISHED);
  }

  *joinSteps(deadline: Deadline): Waiting<boolean> {
    const c = this.ctrl;
    for (;;) {
      const seq = Atomics.load(c, JOIN_SEQ);
      if (Atomics.load(c, UNFINISHED) === 0) return true;
      const left = deadline.remaining();
      if (left <= 0) return false;
      yield { array: c, index: JOIN_SEQ, value: seq, timeout: left };
    }
  }

  // --- Pipe ends ---

  closeWriter(): void {
    Atomics.store(this.ctrl, WRITER_CLOSED, 1);
    Atomics.add(this.ctrl, NE_SEQ, 1);
    Atomics.notify(this.ctrl, NE_SEQ);
  }

  closeReader(): void {
    Atomics.store(this.ctrl, READER_CLOSED, 1);
    Atomics.add(this.ctrl, NF_SEQ, 1);
    Atomics.notify(this.ctrl, NF_SEQ);
  }

  readerClosed(): boolean {
    return Atomics.load(this.ctrl, READER_CLOSED) === 1;
  }
}

function brokenPipe(): Error {
  const error = new Error('The other end of the pipe is closed') as Error & { code: string };
  error.code = 'EPIPE';
  return error;
}
