/**
 * The message channel under Queue, JoinableQueue, SimpleQueue and Pipe: a byte ring buffer in a
 * SharedArrayBuffer, shared by any number of producer and consumer threads.
 *
 * Design (the one Python's Queue uses over a pipe, with shared memory for the pipe):
 * - producers take a writer mutex, consumers a reader mutex, so between the two sides the ring is
 *   single-producer/single-consumer: the writer only moves TAIL, the reader only moves HEAD, each
 *   on its own cache line, and a message crosses with no shared lock and no system call when both
 *   sides are busy;
 * - a message is `[u32 length][u8 tag][payload]`; one larger than the free space streams through in
 *   chunks, the writer and the reader each holding their mutex until the message is whole, so any
 *   size fits through a fixed 64 KiB ring;
 * - a side with nothing to do spins briefly (sync callers) and then sleeps on a futex sequence word
 *   that the other side bumps only when it sees a sleeper registered.
 * The ring has a fixed size on purpose: V8 (Node 20) compiles element access on growable
 * SharedArrayBuffers to a slow path, 4 to 17 times slower than on fixed ones. ACCEPTED (producers)
 * and GET_COUNT (the reader) count whole messages; their difference is `qsize()` and what
 * `maxsize` bounds, as Python's semaphore does.
 *
 * An async put (and putNowait, and Connection.send on the main thread) never waits for bytes,
 * only for `maxsize`: a message that does not fit yet goes to the handle's Outbox (outbox.ts),
 * which a background task on the same thread flushes as readers make room, the way Python's Queue
 * has a feeder thread. A worker's bounded putSync waits for room instead. There is one Outbox per
 * ring and thread, and a synchronous reader of that thread (getSync, getNowait, recvSync, pollSync)
 * pumps it into the ring as it reads: the event loop it is blocking cannot. A pool worker or
 * thread Process that ends, or is stopped, hands what its outboxes hold to its parent thread
 * (handover.ts), which goes on delivering it, a half-written message and its writer mutex included.
 *
 * Deadlines (nowait, timeout) bound everything up to the moment a message can be delivered whole;
 * a message that fits in the ring is never taken in part. One larger than the ring is consumed as
 * it streams in, so once begun its get waits for the rest (as Python's does): see `takeSteps`. Its
 * writer always sends the rest, or the thread it handed over to does.
 *
 * As in Python, a thread killed in the middle of a put or get of one message (worker.terminate(),
 * Process.terminate()) can leave the queue stuck; threads that end otherwise never do.
 */
import { inBuffer, type Decoder } from '../reduction/codec.js';
import { EOFError, Empty, Full, codedError } from '../errors.js';
import type { Outbox } from './outbox.js';
import { Deadline, FOREVER, SPIN_SYNC, adoptArrived, lockWordSteps, newSharedId, remember, revived } from './waiting.js';
import { runSync, unlockWord, wake, type Waiting } from './waiting.js';
import { allocateShared, unwire, wire, type WiredMemory } from './memory.js';
import { joinSteps, taskDone } from './unfinished.js';
import { W_LOCK, TAIL, ACCEPTED, HEAD_SEEN, R_LOCK, HEAD, GET_COUNT, TAIL_SEEN } from './ring-layout.js';
import { NE_SEQ, NE_WAITERS, NF_SEQ, NF_WAITERS, MAXSIZE, WRITER_CLOSED, READER_CLOSED, UNFINISHED } from './ring-layout.js';
import { CTRL_WORDS, CAPACITY, LOCK_GRACE_MS, MASK, FIRST_CHUNK, SMALL_COPY } from './ring-layout.js';
import { spinUntil } from './spin.js';

export { CAPACITY, NF_SEQ, NF_WAITERS, W_LOCK } from './ring-layout.js';

/** What `tryTake` returns when there is no message, or when taking one means waiting. */
export const EMPTY: unique symbol = Symbol('empty');
export const BUSY: unique symbol = Symbol('busy');

export interface RingState {
  id: string;
  ctrl: WiredMemory;
  data: WiredMemory;
}

export class Ring {
  readonly ctrl: Int32Array;
  readonly #data: Uint8Array;
  readonly #id: string;
  /** This thread's outbox for this ring (one per ring and thread: see `adopt`), made by `outboxOf`. */
  outbox: Outbox | null = null;

  /** A new ring; revived ones come from `Ring.adopt`. */
  constructor(state?: RingState, maxsize = 0) {
    if (state) {
      this.#id = state.id;
      this.ctrl = new Int32Array(unwire(state.ctrl));
      this.#data = new Uint8Array(unwire(state.data));
    } else {
      this.#id = newSharedId();
      this.ctrl = new Int32Array(allocateShared(4 * CTRL_WORDS));
      this.ctrl[MAXSIZE] = maxsize;
      this.#data = new Uint8Array(allocateShared(CAPACITY));
      // This thread's Ring for its id from now on (see `adopt`): what a worker hands back for it
      // must land in this very Ring's outbox.
      remember(`ring/${this.#id}`, this);
    }
  }

  /**
   * This thread's Ring object for `state`: every handle of this thread on the same ring (a Queue,
   * both ends of a Pipe revived here) shares one Ring, hence one Outbox, so that a synchronous
   * reader can push this thread's own undelivered messages in (see `#feed`).
   */
  static adopt(state: RingState): Ring {
    return revived(`ring/${state.id}`, () => new Ring(state));
  }

  get state(): RingState {
    return { id: this.#id, ctrl: wire(this.ctrl.buffer), data: wire(this.#data.buffer) };
  }

  /**
   * Moves this thread's own pending messages into the ring, as far as they fit now. Readers call
   * it before looking and whenever they would wait: only this thread's event loop flushes its
   * outbox, so a reader blocking this thread would otherwise wait for itself forever.
   */
  #feed(): void {
    // What ended child threads handed over may include this ring's messages (see handover.ts).
    adoptArrived();
    const outbox = this.outbox;
    if (outbox !== null && outbox.size > 0) outbox.pump();
  }

  get maxsize(): number {
    return this.ctrl[MAXSIZE]!;
  }

  /** Messages accepted (including those still in a producer's outbox) and not yet taken. */
  count(): number {
    return (Atomics.load(this.ctrl, ACCEPTED) - Atomics.load(this.ctrl, GET_COUNT)) | 0;
  }

  full(): boolean {
    const max = this.ctrl[MAXSIZE]!;
    return max > 0 && this.count() >= max;
  }

  #wakeReaders(): void {
    const c = this.ctrl;
    if (Atomics.load(c, NE_WAITERS) > 0) {
      Atomics.add(c, NE_SEQ, 1);
      // All of them: a reader in the middle of a long message must not miss its bytes.
      wake(c, NE_SEQ);
    }
  }

  #wakeWriters(): void {
    const c = this.ctrl;
    if (Atomics.load(c, NF_WAITERS) > 0) {
      Atomics.add(c, NF_SEQ, 1);
      wake(c, NF_SEQ);
    }
  }

  // --- counting (producers) ---

  /** Counts one more message in, unless `maxsize` is reached; also one more unfinished task. */
  tryAccept(joinable: boolean): boolean {
    const c = this.ctrl;
    const max = c[MAXSIZE]!;
    if (max > 0) {
      let accepted = Atomics.load(c, ACCEPTED);
      for (;;) {
        if (((accepted - Atomics.load(c, GET_COUNT)) | 0) >= max) return false;
        const seen = Atomics.compareExchange(c, ACCEPTED, accepted, (accepted + 1) | 0);
        if (seen === accepted) break;
        accepted = seen;
      }
    } else {
      Atomics.add(c, ACCEPTED, 1);
    }
    if (joinable) Atomics.add(c, UNFINISHED, 1);
    return true;
  }

  /** Waits for room under `maxsize` and accepts; throws Full when `deadline` passes (null: at once). */
  *acceptSteps(joinable: boolean, deadline: Deadline | null, spin: boolean): Waiting<void> {
    const c = this.ctrl;
    while (!this.tryAccept(joinable)) {
      if (deadline === null) throw new Full();
      Atomics.add(c, NF_WAITERS, 1);
      const seq = Atomics.load(c, NF_SEQ);
      try {
        if (this.full() && !(yield* this.#awaitReader(seq, deadline, spin)) && this.full()) throw new Full();
      } finally {
        Atomics.sub(c, NF_WAITERS, 1);
      }
    }
  }

  // --- writing bytes (the caller holds W_LOCK) ---

  /** Copies `msg[from, from + n)` in at TAIL and publishes it. */
  #write(msg: Uint8Array, from: number, n: number): void {
    const c = this.ctrl;
    const data = this.#data;
    const tail = c[TAIL]!;
    let p = tail & MASK;
    if (n <= SMALL_COPY) {
      for (let i = from, end = from + n; i < end; i++) {
        data[p] = msg[i]!;
        p = (p + 1) & MASK;
      }
    } else {
      const first = Math.min(n, CAPACITY - p);
      data.set(msg.subarray(from, from + first), p);
      if (first < n) data.set(msg.subarray(from + first, from + n), 0);
    }
    Atomics.store(c, TAIL, (tail + n) | 0);
  }

  /** Free bytes, at least `wanted` if there are: HEAD (the reader's line) is read only when needed. */
  #free(wanted = CAPACITY): number {
    const c = this.ctrl;
    const free = CAPACITY - ((c[TAIL]! - c[HEAD_SEEN]!) | 0);
    if (free >= wanted) return free;
    c[HEAD_SEEN] = Atomics.load(c, HEAD);
    return CAPACITY - ((c[TAIL]! - c[HEAD_SEEN]!) | 0);
  }

  /**
   * Writes a whole accepted message `msg[0, n)` if it fits now; false when it would have to wait
   * (the writer mutex is busy or the free space is short). Throws EPIPE on a pipe whose reader closed.
   */
  tryWrite(msg: Uint8Array, n: number, waitForLock = false): boolean {
    const c = this.ctrl;
    if (Atomics.compareExchange(c, W_LOCK, 0, 1) !== 0) {
      // Usually held for a copy; a writer streaming a large message holds it until readers drain
      // it (perhaps this very thread), so wait only briefly.
      if (!waitForLock || !runSync(lockWordSteps(c, W_LOCK, new Deadline(LOCK_GRACE_MS), SPIN_SYNC))) return false;
    }
    if (this.#free(n) < n) {
      unlockWord(c, W_LOCK);
      if (Atomics.load(c, READER_CLOSED) === 1) throw epipe();
      return false;
    }
    this.#write(msg, 0, n);
    unlockWord(c, W_LOCK);
    this.#wakeReaders();
    return true;
  }

  /** Takes the writer mutex if it is free (for Outbox, which may hold it across event-loop turns). */
  tryLockWriter(): boolean {
    return Atomics.compareExchange(this.ctrl, W_LOCK, 0, 1) === 0;
  }

  unlockWriter(): void {
    unlockWord(this.ctrl, W_LOCK);
  }

  /**
   * The caller holds W_LOCK and has written `msg[0, from)`: writes what fits now of the rest and
   * returns the new `from`. A message that fits in the ring starts only once it fits whole; a larger
   * one once its header does. Throws EPIPE when the reading end of a pipe is closed.
   */
  writeSome(msg: Uint8Array, from: number): number {
    if (Atomics.load(this.ctrl, READER_CLOSED) === 1) throw epipe();
    const n = msg.length;
    const free = this.#free();
    if (from === 0 && free < (n <= CAPACITY ? n : FIRST_CHUNK)) return 0;
    const k = Math.min(n - from, free);
    if (k > 0) {
      this.#write(msg, from, k);
      this.#wakeReaders();
    }
    return from + k;
  }

  /** Spins (spin.ts) for `wanted` free bytes (or a closed reader); true if they came. */
  #spinForRoom(wanted: number): boolean {
    return spinUntil(() => this.#free(wanted) >= wanted || Atomics.load(this.ctrl, READER_CLOSED) === 1);
  }

  /** Sleeps until a reader makes progress (or the deadline); false when the deadline passed. */
  *#awaitReader(seq: number, deadline: Deadline, spin: boolean): Waiting<boolean> {
    const c = this.ctrl;
    if (spin) spinUntil(() => Atomics.load(c, NF_SEQ) !== seq || Atomics.load(c, HEAD) !== c[HEAD_SEEN]);
    const left = deadline.remaining();
    if (left <= 0) return false;
    yield { array: c, index: NF_SEQ, value: seq, timeout: left };
    return true;
  }

  /**
   * Writes an accepted message of any size, streaming it through in chunks as readers make room.
   * Throws EPIPE when the reading end of a pipe closes.
   */
  *writeSteps(msg: Uint8Array, n: number, spin: boolean): Waiting<void> {
    const c = this.ctrl;
    if (Atomics.compareExchange(c, W_LOCK, 0, 1) !== 0) yield* lockWordSteps(c, W_LOCK, FOREVER, SPIN_SYNC);
    try {
      let from = 0;
      while (from < n) {
        if (Atomics.load(c, READER_CLOSED) === 1) throw epipe();
        const free = this.#free();
        // The first chunk carries the whole header, so readers never see half of one.
        const k = from === 0 && free < Math.min(n, FIRST_CHUNK) ? 0 : Math.min(n - from, free);
        if (k > 0) {
          this.#write(msg, from, k);
          from += k;
          this.#wakeReaders();
          continue;
        }
        // As readers do: spin before registering, so a busy reader need not notify.
        if (spin && this.#spinForRoom(from === 0 ? Math.min(n, FIRST_CHUNK) : 1)) continue;
        Atomics.add(c, NF_WAITERS, 1);
        const seq = Atomics.load(c, NF_SEQ);
        try {
          if (this.#free() < (from === 0 ? Math.min(n, FIRST_CHUNK) : 1) && Atomics.load(c, READER_CLOSED) !== 1) {
            yield* this.#awaitReader(seq, FOREVER, false);
          }
        } finally {
          Atomics.sub(c, NF_WAITERS, 1);
        }
      }
    } finally {
      unlockWord(c, W_LOCK);
    }
  }

  // --- reader side (the caller holds R_LOCK) ---

  /** Bytes readable, at least `wanted` if there are: TAIL (the writer's line) is read only when needed. */
  #available(wanted = 1): number {
    const c = this.ctrl;
    const available = (c[TAIL_SEEN]! - c[HEAD]!) | 0;
    if (available >= wanted) return available;
    c[TAIL_SEEN] = Atomics.load(c, TAIL);
    return (c[TAIL_SEEN]! - c[HEAD]!) | 0;
  }

  // The mirror of #write on purpose: the wrap is on the source side here, on the destination side
  // there, so a shared helper would still hold both loops, behind a direction flag on the hot path.
  /** Copies `n` bytes at HEAD into `target` at `at`, and frees them. */
  #read(target: Uint8Array, at: number, n: number): void {
    const c = this.ctrl;
    const data = this.#data;
    const head = c[HEAD]!;
    let p = head & MASK;
    if (n <= SMALL_COPY) {
      for (let i = at, end = at + n; i < end; i++) {
        target[i] = data[p]!;
        p = (p + 1) & MASK;
      }
    } else {
      const first = Math.min(n, CAPACITY - p);
      target.set(data.subarray(p, p + first), at);
      if (first < n) target.set(data.subarray(0, n - first), at + first);
    }
    Atomics.store(c, HEAD, (head + n) | 0);
  }

  /** The length field of the message at HEAD (its header is always whole: see FIRST_CHUNK). */
  #peekLength(): number {
    const data = this.#data;
    const p = this.ctrl[HEAD]! & MASK;
    return (data[p]! | (data[(p + 1) & MASK]! << 8) | (data[(p + 2) & MASK]! << 16) | (data[(p + 3) & MASK]! << 24)) >>> 0;
  }

  #finishGet(): void {
    const c = this.ctrl;
    Atomics.store(c, GET_COUNT, (c[GET_COUNT]! + 1) | 0);
  }

  /**
   * One attempt to take a whole message without waiting: `decode` of it; EMPTY when there is none;
   * BUSY when it would have to wait (the reader mutex is taken, or the message is streaming in).
   */
  tryTake<T>(decode: Decoder<T>): T | typeof EMPTY | typeof BUSY {
    const c = this.ctrl;
    this.#feed();
    if (Atomics.compareExchange(c, R_LOCK, 0, 1) !== 0) return BUSY;
    if (this.#available() === 0) {
      unlockWord(c, R_LOCK);
      return EMPTY;
    }
    const length = this.#peekLength();
    if (this.#available(4 + length) < 4 + length) {
      unlockWord(c, R_LOCK);
      return BUSY;
    }
    const target = inBuffer(4 + length);
    this.#read(target, 0, 4 + length);
    this.#finishGet();
    unlockWord(c, R_LOCK);
    this.#wakeWriters();
    return decode(target, length);
  }

  /** Spins (spin.ts) for bytes to read (or EOF); true if some came. */
  #spinForData(): boolean {
    const c = this.ctrl;
    return spinUntil(() => Atomics.load(c, TAIL) !== c[HEAD] || Atomics.load(c, WRITER_CLOSED) === 1);
  }

  *#awaitWriter(seq: number, deadline: Deadline, spin: boolean): Waiting<boolean> {
    const c = this.ctrl;
    // Only reached mid-message (the reader mutex held): the writer is streaming the rest.
    if (spin) spinUntil(() => Atomics.load(c, NE_SEQ) !== seq || Atomics.load(c, TAIL) !== c[HEAD]);
    const left = deadline.remaining();
    if (left <= 0) return false;
    yield { array: c, index: NE_SEQ, value: seq, timeout: left };
    return true;
  }

  /** Spins (spin.ts) while fewer than `wanted` bytes are readable; true if they came. */
  #spinForBytes(wanted: number): boolean {
    return spinUntil(() => this.#available(wanted) >= wanted);
  }

  /**
   * Sleeps (registered as a reader waiting for bytes) until the writer publishes more than the
   * `have` bytes readable now, or `deadline` passes (null: at once); false when it passed.
   */
  *#awaitBytes(have: number, deadline: Deadline | null): Waiting<boolean> {
    const c = this.ctrl;
    if (deadline === null) return false;
    Atomics.add(c, NE_WAITERS, 1);
    const seq = Atomics.load(c, NE_SEQ);
    try {
      // Re-check after registering, or the writer's progress in between would go unnoticed.
      if (this.#available(have + 1) > have) return true;
      const left = deadline.remaining();
      if (left <= 0) return false;
      yield { array: c, index: NE_SEQ, value: seq, timeout: left };
      return true;
    } finally {
      Atomics.sub(c, NE_WAITERS, 1);
    }
  }

  /**
   * Steps of a blocking get: returns `decode` of the message. Throws Empty when nothing can be
   * delivered whole before `deadline` (at once when it is null), EOFError once the writing end of
   * a pipe is closed and everything sent was read.
   *
   * The deadline covers the reader mutex, the message's arrival and, for a message that fits in
   * the ring, its whole arrival: nothing of it is consumed before it is all there, so an Empty
   * leaves it intact for a later get. A message larger than the ring has to be consumed while it
   * streams in; once its first bytes are taken the get is committed and waits for the rest past the
   * deadline (as Python's `Queue.get` does once its poll saw data): giving up there would lose the
   * part already taken, since another thread's get could not finish it. The writer is streaming
   * that message already, so the rest comes as fast as it writes; when the writer is this thread's
   * own outbox, the reader pushes the rest in itself (`#feed`) and never waits.
   */
  *takeSteps<T>(deadline: Deadline | null, spin: boolean, decode: Decoder<T>): Waiting<T> {
    yield* this.#lockHeadSteps(deadline, spin);
    // Holding R_LOCK with at least the header there (writers publish it whole).
    let held = true;
    const released = () => {
      held = false;
    };
    try {
      const length = this.#peekLength();
      const total = 4 + length;
      if (total <= CAPACITY) return yield* this.#takeWholeSteps(total, deadline, spin, decode, released);
      return yield* this.#streamInSteps(total, spin, decode, released);
    } finally {
      if (held) unlockWord(this.ctrl, R_LOCK);
    }
  }

  /** Takes R_LOCK once at least a message header is readable; throws Empty or EOFError. */
  *#lockHeadSteps(deadline: Deadline | null, spin: boolean): Waiting<void> {
    const c = this.ctrl;
    for (;;) {
      this.#feed();
      if (Atomics.load(c, TAIL) !== Atomics.load(c, HEAD)) {
        if (Atomics.compareExchange(c, R_LOCK, 0, 1) !== 0) {
          // Another get is in the middle of a message.
          if (deadline === null || !(yield* lockWordSteps(c, R_LOCK, deadline, SPIN_SYNC))) throw new Empty();
        }
        if (this.#available() > 0) return;
        unlockWord(c, R_LOCK);
        continue;
      }
      if (Atomics.load(c, WRITER_CLOSED) === 1) throw new EOFError();
      // Spin before registering as a sleeper: while no sleeper is registered the writer skips
      // the notify (a costly call), and a busy writer on another core delivers within microseconds.
      if (spin && deadline !== null && this.#spinForData()) continue;
      Atomics.add(c, NE_WAITERS, 1);
      const seq = Atomics.load(c, NE_SEQ);
      try {
        const empty = Atomics.load(c, TAIL) === Atomics.load(c, HEAD) && Atomics.load(c, WRITER_CLOSED) !== 1;
        if (empty) {
          if (deadline === null || !(yield* this.#awaitWriter(seq, deadline, false))) {
            // One last look: the deadline passing does not make an arrived message disappear.
            if (Atomics.load(c, TAIL) === Atomics.load(c, HEAD)) throw new Empty();
          }
        }
      } finally {
        Atomics.sub(c, NE_WAITERS, 1);
      }
    }
  }

  /** A message that fits in the ring: waits for all of it within the deadline, then takes it. */
  *#takeWholeSteps<T>(
    total: number,
    deadline: Deadline | null,
    spin: boolean,
    decode: Decoder<T>,
    released: () => void,
  ): Waiting<T> {
    const length = total - 4;
    // It fits: wait for all of it before taking anything, within the deadline.
    for (;;) {
      const available = this.#available(total);
      if (available >= total) break;
      if (spin && deadline !== null && this.#spinForBytes(total)) break;
      if (!(yield* this.#awaitBytes(available, deadline))) {
        this.#feed();
        if (this.#available(total) >= total) break;
        throw new Empty();
      }
      this.#feed();
    }
    const target = inBuffer(total);
    this.#read(target, 0, total);
    return this.#deliver(target, length, decode, released);
  }

  /** A message larger than the ring, consumed as it streams in: once begun, waits for the rest. */
  *#streamInSteps<T>(total: number, spin: boolean, decode: Decoder<T>, released: () => void): Waiting<T> {
    const c = this.ctrl;
    const length = total - 4;
    // Larger than the ring: stream it in. Waiting means other code of this thread may use the
    // shared scratch meanwhile: it gets its own buffer.
    const target = Buffer.allocUnsafe(total);
    let at = 0;
    for (;;) {
      const k = Math.min(total - at, this.#available());
      if (k > 0) {
        this.#read(target, at, k);
        at += k;
        this.#wakeWriters();
      }
      if (at === total) return this.#deliver(target, length, decode, released);
      // The room just made lets this thread's own outbox go on (when it is the writer).
      this.#feed();
      if (this.#available() > 0) continue;
      Atomics.add(c, NE_WAITERS, 1);
      const seq = Atomics.load(c, NE_SEQ);
      try {
        if (this.#available() === 0) yield* this.#awaitWriter(seq, FOREVER, spin);
      } finally {
        Atomics.sub(c, NE_WAITERS, 1);
      }
    }
  }

  /** Counts the message taken, releases R_LOCK (`released` is told first) and decodes it. */
  #deliver<T>(target: Buffer, length: number, decode: Decoder<T>, released: () => void): T {
    this.#finishGet();
    released();
    unlockWord(this.ctrl, R_LOCK);
    this.#wakeWriters();
    return decode(target, length);
  }

  /** Waits until a message (or EOF) is there, without taking it; false when `deadline` passes. */
  *pollSteps(deadline: Deadline): Waiting<boolean> {
    const c = this.ctrl;
    const ready = () => Atomics.load(c, TAIL) !== Atomics.load(c, HEAD) || Atomics.load(c, WRITER_CLOSED) === 1;
    for (;;) {
      this.#feed();
      if (ready()) return true;
      Atomics.add(c, NE_WAITERS, 1);
      const seq = Atomics.load(c, NE_SEQ);
      try {
        if (ready()) return true;
        const left = deadline.remaining();
        if (left <= 0) return false;
        yield { array: c, index: NE_SEQ, value: seq, timeout: left };
      } finally {
        Atomics.sub(c, NE_WAITERS, 1);
      }
    }
  }

  // --- JoinableQueue ---

  /** One fewer unfinished task; false when none was left (see unfinished.ts). */
  taskDone(): boolean {
    return taskDone(this.ctrl);
  }

  joinSteps(deadline: Deadline): Waiting<boolean> {
    return joinSteps(this.ctrl, deadline);
  }

  // --- Pipe ends ---

  closeWriter(): void {
    Atomics.store(this.ctrl, WRITER_CLOSED, 1);
    Atomics.add(this.ctrl, NE_SEQ, 1);
    wake(this.ctrl, NE_SEQ);
  }

  closeReader(): void {
    Atomics.store(this.ctrl, READER_CLOSED, 1);
    Atomics.add(this.ctrl, NF_SEQ, 1);
    wake(this.ctrl, NF_SEQ);
  }

  readerClosed(): boolean {
    return Atomics.load(this.ctrl, READER_CLOSED) === 1;
  }
}

function epipe(): Error {
  return codedError('EPIPE', 'The other end of the pipe is closed');
}
