/**
 * The shared-memory path between a manager and a client process on the same machine.
 *
 * A sequential call over the Unix socket costs two event-loop wake-ups (the manager's, then the
 * client's), and those wake-ups, not the JavaScript, bound such calls (benchmark/managers.md).
 * Once a local client has authenticated, it asks for a link: a segment with a request ring and
 * a reply ring (src/shm/frame-ring.ts). Each side then writes its frames into its ring and, for a
 * bounded adaptive time (src/shm/spin.ts), watches the other ring for the answer, giving its core
 * away between two looks (`sched_yield`): with a core each, that is a spin, and the answer comes
 * with no wake-up at all; with one core for the two (a busy machine), each look hands the core
 * straight to the peer, which costs a context switch but no futex wake-up and no sleep (a futex
 * hand-over costs twice as much: benchmark/managers.md). Past that, a side blocks on the ring's
 * futex a moment, then goes back to its event loop, saying so in the ring, and the other side wakes
 * it with a one-frame poke over the socket, which stays open as the control channel:
 * authentication, liveness (its close ends every wait), and every frame that is too large for the
 * ring or finds it full.
 *
 * Frames keep their order across the two paths: a side that had to send one over the socket
 * writes to the ring again only once the peer has taken as many socket frames as it sent (the
 * ring's SEEN count), and a reader takes everything in the ring before it handles a socket frame.
 */
import type { FrameHandler, FrameSocket } from '../connection/frame_socket.js';
import { valueFrame } from '../connection/framing.js';
import { outBuffer } from '../reduction/codec.js';
import { binding } from '../native/binding.js';
import { ASLEEP, DIRECTION_WORDS, FrameRing, RING_BYTES } from '../shm/frame-ring.js';
import { Spinner } from '../shm/spin.js';
import { allocateShared, processShared, unwire, wire, type SharedMemory, type WiredMemory } from '../shm/memory.js';

const CTRL_WORDS = 2 * DIRECTION_WORDS;
const SEGMENT_BYTES = CTRL_WORDS * 4 + 2 * RING_BYTES;
/** Larger frames go over the socket: a few of them would fill the ring. */
export const MAX_RING_FRAME = RING_BYTES / 4;
/**
 * How long a side blocks on the futex for the peer's next frame after it spun, at most and at
 * least (the budget adapts between the two, as the spin's does). Blocking gives the core to the
 * peer, which on a busy machine is what it waits for; the bound keeps the event loop's stall short.
 */
const BLOCK_MAX_MS = 0.3;
const BLOCK_MIN_MS = 0.02;
/**
 * A side spins only for a peer that was watching its ring when this side wrote, or blocked on it
 * and woken by this write (its answer comes within microseconds then); the server also spins,
 * once in PROBE_MASK + 1 waits, for a client that was in its event loop, so that the two find
 * their way back to spinning after a disturbance.
 */
const PROBE_MS = 0.05;
export const PROBE_MASK = 31;

/** The budget of a side's spin before it blocks: the ring's (up to 50 µs, adaptive). */
export const newSpin = (): Spinner => new Spinner();
export const newBlocker = (): Spinner => new Spinner(BLOCK_MAX_MS, BLOCK_MIN_MS);
export const newProbe = (): Spinner => new Spinner(PROBE_MS, PROBE_MS, 1);
/**
 * A yield hands the core to the peer only when the peer is what the kernel runs next there. When
 * a third task shares that core (a busy loop in the same session, say), one yield can give it a
 * whole time slice, milliseconds, where a sleeper that a futex wakes would have had the core back
 * at once. One such yield now and then costs less than the yields save (a few µs a call); one in
 * fewer than CALM_WAITS waits does not: then this thread's waits block on the futex at once for a
 * stretch, which doubles each time yields are still slow when they resume (a lasting neighbour).
 */
const SLOW_YIELD_MS = 0.2;
const CALM_WAITS = 256;
const YIELDLESS_MIN = 256;
const YIELDLESS_MAX = 65_536;
/** Waits left that block at once; the next such stretch; waits that yielded since a slow one. */
let yieldless = 0;
let stretch = YIELDLESS_MIN;
let calm = CALM_WAITS;

/** What a spinning side does between two looks at its ring: lets a peer on its core run. */
export function handOver(): void {
  const start = performance.now();
  binding!.yieldCpu();
  if (performance.now() - start <= SLOW_YIELD_MS) return;
  linkFrames.slowYields++;
  if (calm < CALM_WAITS) {
    yieldless = stretch;
    stretch = Math.min(stretch * 2, YIELDLESS_MAX);
  } else stretch = YIELDLESS_MIN;
  calm = 0;
}

/** Whether this wait may spin (yielding); counts the waits down or up (see handOver). */
export function mayYield(): boolean {
  if (yieldless > 0) {
    yieldless--;
    return false;
  }
  calm++;
  return true;
}

/** Requests go from client to server in direction 0, replies in direction 1. */
const REQUESTS = 0;
const REPLIES = 1;

/** The frame that wakes a side which stopped watching its ring (never a call id or an opcode). */
const POKE_FRAME = valueFrame([-1]);

export function isPoke(data: Buffer, start: number, end: number): boolean {
  return end - start === POKE_FRAME.length && data.compare(POKE_FRAME, 0, POKE_FRAME.length, start, end) === 0;
}

/**
 * Set to 0 to keep a client on its socket. Links are the default for local clients: with free
 * cores a sequential call over one costs no wake-up (10x the socket's rate on this project's
 * 2-core machine), and with one core for both sides it costs two context switches and no
 * wake-up (2-3x the socket's rate there: benchmark/managers.md).
 */
export const LINK_ENV = 'NAPI_MULTIPROCESSING_MANAGER_LINK';

/** Whether links can be made here (a server offers one to any local client that asks). */
export function linksAvailable(): boolean {
  return processShared && process.platform === 'linux';
}

/** Whether a client of this thread asks for links. */
export function linksWanted(): boolean {
  return process.env[LINK_ENV] !== '0' && linksAvailable();
}

/** A new segment for a link (server side), to be sent with `wire`. */
export function newLinkMemory(): SharedMemory {
  const memory = allocateShared(SEGMENT_BYTES);
  const ctrl = new Int32Array(memory, 0, CTRL_WORDS);
  // Both readers start asleep: the first frame each way pokes (the client is not mapped yet).
  FrameRing.prepare(ctrl, REQUESTS);
  FrameRing.prepare(ctrl, REPLIES);
  return memory;
}

export function wireLink(memory: SharedMemory): WiredMemory {
  return wire(memory);
}

/** The segment a server sent (client side); throws when it is not one or cannot be mapped. */
export function openLinkMemory(wired: unknown): SharedMemory {
  const shm = (wired as { shm?: unknown } | null)?.shm;
  if (typeof shm !== 'object' || shm === null) throw new TypeError('not a link');
  const memory = unwire(wired as WiredMemory);
  if (memory.byteLength !== SEGMENT_BYTES) throw new TypeError('not a link');
  return memory;
}

/**
 * Frames the links of this thread carried, by path, and how its waits for a frame ended: while
 * spinning, blocked on the futex, or neither (back to the event loop); `anyWaits`: a ring server's
 * spins for any of several clients that talk at once; `slowYields`: yields that gave the core to
 * someone else than the peer for a while (see handOver). What tests and the bench notes look at.
 */
export const linkFrames = {
  ringOut: 0,
  socketOut: 0,
  pokesOut: 0,
  ringIn: 0,
  socketIn: 0,
  spun: 0,
  blocked: 0,
  missed: 0,
  anyWaits: 0,
  slowYields: 0,
};

export class RingLink {
  readonly io: FrameSocket;
  /** Held so that the segment stays mapped as long as the link. */
  readonly memory: SharedMemory;
  readonly #out: FrameRing;
  readonly #in: FrameRing;
  /** Frames this side sent over the socket since the link was made. */
  #socketFrames: number;
  /**
   * The server writes to the ring only once the client has written to it: a client that asked
   * for a link and never mapped it (or never meant to) still has its replies on the socket.
   */
  #peerMapped: boolean;
  /** Whether the peer was watching its ring, or blocked on it, when this side last wrote to it. */
  #peerAwake = false;
  /** Frames the last drain that found any took: more than one means the peer sends in batches. */
  #lastBatch = 0;

  constructor(memory: SharedMemory, side: 'client' | 'server', io: FrameSocket, socketFrames = 0) {
    this.io = io;
    this.memory = memory;
    const ctrl = new Int32Array(memory, 0, CTRL_WORDS);
    const requests = new FrameRing(ctrl, REQUESTS, new Uint8Array(memory, CTRL_WORDS * 4, RING_BYTES));
    const replies = new FrameRing(ctrl, REPLIES, new Uint8Array(memory, CTRL_WORDS * 4 + RING_BYTES, RING_BYTES));
    this.#out = side === 'client' ? requests : replies;
    this.#in = side === 'client' ? replies : requests;
    this.#socketFrames = socketFrames;
    this.#peerMapped = side === 'client';
  }

  /** Sends the frame just encoded (in the codec's scratch buffer): ring if it can, else socket. */
  sendEncoded(length: number): void {
    if (!this.#put(outBuffer(), length)) this.io.sendEncoded(length);
  }

  send(frame: Buffer): void {
    if (!this.#put(frame, frame.length)) this.io.send(frame);
  }

  #put(source: Uint8Array, length: number): boolean {
    if (
      this.#peerMapped &&
      length <= MAX_RING_FRAME &&
      this.#out.seen === this.#socketFrames &&
      this.#out.tryWrite(source, length)
    ) {
      linkFrames.ringOut++;
      const how = this.#out.wakeReader();
      this.#peerAwake = how !== ASLEEP;
      if (how === ASLEEP) {
        linkFrames.pokesOut++;
        this.io.send(POKE_FRAME);
        // Now: the caller may spin next, and a microtask would only flush after it.
        this.io.flush();
      }
      return true;
    }
    this.#socketFrames++;
    linkFrames.socketOut++;
    return false;
  }

  /** True when the peer has written something to read. */
  get ready(): boolean {
    return this.#in.ready;
  }

  /**
   * Hands up to `max` frames waiting in the ring to `handler` (each valid until it returns);
   * throws a RingError when the peer broke the ring.
   */
  drain(handler: FrameHandler, max: number): number {
    let n = 0;
    while (n < max && !this.io.socket.destroyed) {
      const length = this.#in.read(MAX_RING_FRAME);
      if (length === 0) break;
      n++;
      linkFrames.ringIn++;
      this.#peerMapped = true;
      handler(this.#in.frame, 0, length);
    }
    if (n > 0) this.#lastBatch = n;
    return n;
  }

  /**
   * Waits a moment for the peer's next frame: spins handing its core over (if the peer was
   * awake, or with `probe`), then blocks on the futex, each for a budget that adapts to how
   * often it is enough (see Spinner). True when a frame came.
   */
  await(spin: Spinner, block: Spinner, probe?: Spinner): boolean {
    const spinner = !mayYield() ? undefined : this.#peerAwake ? spin : probe;
    // Handing the core over pays for a peer that answers one frame at a time; a peer that sends
    // batches works longer per turn, and there a plain spin (which gives up, adaptively, when the
    // peer shares the core) measured faster: 100 calls in flight with a busy core beside.
    const pause = this.#lastBatch > 1 ? undefined : handOver;
    if (spinner?.until(this.#ready, pause) === true) return (linkFrames.spun++, true);
    if (block.until(this.#ready, this.#in.block)) return (linkFrames.blocked++, true);
    linkFrames.missed++;
    return false;
  }

  readonly #ready = (): boolean => this.#in.ready;

  /** Stops watching the ring: false when a frame came meanwhile (keep reading then). */
  sleep(): boolean {
    return this.#in.sleep();
  }

  /** A frame other than a poke came over the socket (after those of the ring were taken). */
  tookFromSocket(): void {
    linkFrames.socketIn++;
    this.#in.countSeen();
  }
}
