/**
 * A single-producer, single-consumer ring of frames (`[u32 LE length][tag][payload]`, as the
 * connection framing makes them) in memory shared by two processes: the shared-memory path
 * between a manager and a client on the same machine (src/managers/link.ts).
 *
 * Unlike Ring (ring.ts), it has no locks and no outbox: each side is one thread, and a frame that
 * does not fit is the caller's business (it goes over the socket). A reader waits in one of two
 * ways, which it announces in SLEEPING: blocked on that word's futex for a moment (the writer
 * wakes the futex), or back in its event loop (the writer pokes it over the socket). The writer
 * owns TAIL, the reader HEAD, each on its own cache line; a frame starts on a 4-byte boundary,
 * so that its length word is never split.
 *
 * The peer is another process that may be hostile (a manager's client) or broken: each side
 * keeps its own counter privately and only reads the peer's, and a count or a length that makes
 * no sense throws a RingError rather than reading out of place. The reader copies a frame out
 * before anyone decodes it, so the peer cannot change it under the decoder.
 */

import { binding } from '../native/binding.js';
import { wake } from './waiting.js';

/** Bytes of frames in one direction; a power of two, so that positions wrap with a mask. */
export const RING_BYTES = 64 * 1024;
const MASK = RING_BYTES - 1;
/** Control words of one direction: TAIL on the writer's cache line, the rest on the reader's. */
export const DIRECTION_WORDS = 32;
const TAIL = 0;
const HEAD = 16;
/** Set by a reader about to wait (ASLEEP or BLOCKED); the writer that clears it must wake the reader. */
const SLEEPING = 17;
export const ASLEEP = 1;
export const BLOCKED = 2;
/** How many frames the reader took from the other path (the socket) since the ring was made. */
const SEEN = 18;

/** The peer broke the ring's rules: the connection that goes with it must close. */
export class RingError extends Error {}

function aligned(bytes: number): number {
  return (bytes + 3) & ~3;
}

/** One direction of the channel, seen from one side (writer or reader). */
export class FrameRing {
  readonly #ctrl: Int32Array;
  readonly #base: number;
  readonly #data: Uint8Array;
  /** This side's own position: TAIL for the writer, HEAD for the reader. */
  #position = 0;
  #scratch = Buffer.allocUnsafe(256);

  constructor(ctrl: Int32Array, direction: number, data: Uint8Array) {
    this.#ctrl = ctrl;
    this.#base = direction * DIRECTION_WORDS;
    this.#data = data;
  }

  /** Makes a new ring read as if its reader were asleep: the first frame written wakes it. */
  static prepare(ctrl: Int32Array, direction: number): void {
    Atomics.store(ctrl, direction * DIRECTION_WORDS + SLEEPING, ASLEEP);
  }

  // --- writer ---------------------------------------------------------------------------------

  /** Copies `length` bytes of `source` in as one frame; false when they do not fit now. */
  tryWrite(source: Uint8Array, length: number): boolean {
    const tail = this.#position;
    const used = (tail - Atomics.load(this.#ctrl, this.#base + HEAD)) | 0;
    if (used < 0 || used > RING_BYTES) throw new RingError('The peer moved the head of a ring out of place');
    const need = aligned(length);
    if (need > RING_BYTES - used) return false;
    const at = tail & MASK;
    const first = Math.min(length, RING_BYTES - at);
    const data = this.#data;
    if (length <= 64) {
      for (let i = 0; i < first; i++) data[at + i] = source[i]!;
      for (let i = first; i < length; i++) data[i - first] = source[i]!;
    } else {
      data.set(source.subarray(0, first), at);
      if (first < length) data.set(source.subarray(first, length), 0);
    }
    this.#position = (tail + need) | 0;
    Atomics.store(this.#ctrl, this.#base + TAIL, this.#position);
    return true;
  }

  /**
   * How the reader waits, once: 0 it does not, BLOCKED it was woken here, ASLEEP the caller must
   * poke it.
   */
  wakeReader(): number {
    const i = this.#base + SLEEPING;
    if (Atomics.load(this.#ctrl, i) === 0) return 0;
    const how = Atomics.exchange(this.#ctrl, i, 0);
    if (how === BLOCKED) wake(this.#ctrl, i, 1);
    return how;
  }

  /** How many frames the reader has taken from the other path. */
  get seen(): number {
    return Atomics.load(this.#ctrl, this.#base + SEEN);
  }

  // --- reader ---------------------------------------------------------------------------------

  /** True when a frame is waiting (or the peer wrote something that `read` will refuse). */
  get ready(): boolean {
    return Atomics.load(this.#ctrl, this.#base + TAIL) !== this.#position;
  }

  /**
   * Takes the next frame into a buffer of this side's (valid until the next `read`) and returns
   * its length, or 0 when there is none. `limit`: the largest frame this side accepts.
   */
  read(limit: number): number {
    const head = this.#position;
    const available = (Atomics.load(this.#ctrl, this.#base + TAIL) - head) | 0;
    if (available === 0) return 0;
    if (available < 8 || available > RING_BYTES || (available & 3) !== 0) throw new RingError('A ring holds a torn frame');
    const data = this.#data;
    const at = head & MASK;
    const length = (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) + 4;
    if (length < 5 || length > limit || aligned(length) > available) throw new RingError('A ring holds a frame of a bad length');
    if (length > this.#scratch.length) this.#scratch = Buffer.allocUnsafe(Math.max(length, this.#scratch.length * 2));
    const out = this.#scratch;
    const first = Math.min(length, RING_BYTES - at);
    if (length <= 64) {
      for (let i = 0; i < first; i++) out[i] = data[at + i]!;
      for (let i = first; i < length; i++) out[i] = data[i - first]!;
    } else {
      out.set(data.subarray(at, at + first), 0);
      if (first < length) out.set(data.subarray(0, length - first), first);
    }
    // The length word as copied is the one checked: the peer may have changed it meanwhile.
    out.writeUInt32LE(length - 4, 0);
    this.#position = (head + aligned(length)) | 0;
    Atomics.store(this.#ctrl, this.#base + HEAD, this.#position);
    return length;
  }

  /** The buffer `read` copied the last frame into. */
  get frame(): Buffer {
    return this.#scratch;
  }

  /**
   * Announces that this reader is about to wait: false when a frame came meanwhile (then it
   * must not wait). A writer that sees the flag clears it and wakes the reader.
   */
  sleep(): boolean {
    Atomics.store(this.#ctrl, this.#base + SLEEPING, ASLEEP);
    if (!this.ready) return true;
    Atomics.store(this.#ctrl, this.#base + SLEEPING, 0);
    return false;
  }

  /** Blocks this thread until a frame comes (the writer wakes it) or `ms` have passed. */
  readonly block = (ms: number): void => {
    const i = this.#base + SLEEPING;
    Atomics.store(this.#ctrl, i, BLOCKED);
    if (!this.ready) binding!.futexWaitSync(this.#ctrl, i, BLOCKED, ms);
    Atomics.store(this.#ctrl, i, 0);
  };

  /** One more frame taken from the other path. */
  countSeen(): void {
    Atomics.add(this.#ctrl, this.#base + SEEN, 1);
  }
}
