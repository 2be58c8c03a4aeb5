/**
 * The manager's side of its clients' shared-memory links (link.ts): serving their rings from
 * the manager's event loop.
 *
 * A poke over a client's socket starts the serving loop. It takes every frame waiting in every
 * linked client's ring, and when none is left it waits (spinning, then blocked: link.ts) for
 * the next one, since a sequential client sends its next call a few microseconds after it had its
 * reply; only when the spin finds nothing does it mark every ring as asleep and return to the
 * event loop. It never holds the loop for more than TURN_MS at a time: past that it goes on in
 * a setImmediate, after the loop has run its timers and I/O.
 */
import type { FrameHandler, FrameSocket } from '../connection/frame_socket.js';
import { RingError } from '../shm/frame-ring.js';
import {
  handOver,
  linkFrames,
  mayYield,
  newBlocker,
  newProbe,
  newSpin,
  PROBE_MASK,
  RingLink,
  newLinkMemory,
  wireLink,
} from './link.js';

const TURN_MS = 1;
/** Frames taken from one client before the others get their turn. */
const BATCH = 256;

/** What the ring server needs of a session (server.ts's Session). */
export interface LinkedSession {
  readonly io: FrameSocket | undefined;
  link: RingLink | undefined;
  /** Handles one of this session's frames (the same as for the socket). */
  onRingFrame: FrameHandler | undefined;
  readonly paused: boolean;
}

export class RingServer {
  readonly #sessions = new Set<LinkedSession>();
  readonly #spin = newSpin();
  readonly #block = newBlocker();
  readonly #probe = newProbe();
  #waits = 0;
  #serving = false;
  readonly #anyReady = (): boolean => {
    for (const session of this.#sessions) if (session.link!.ready && !session.paused) return true;
    return false;
  };

  /** Makes `session` a link and returns what its client maps it by. */
  open(session: LinkedSession, handler: FrameHandler): unknown {
    const memory = newLinkMemory();
    session.link = new RingLink(memory, 'server', session.io!);
    session.onRingFrame = handler;
    this.#sessions.add(session);
    return wireLink(memory);
  }

  drop(session: LinkedSession): void {
    this.#sessions.delete(session);
  }

  /**
   * Takes what waits in `session`'s ring, ahead of a frame from its socket; false when that
   * closed the connection.
   */
  takeAhead(session: LinkedSession): boolean {
    this.#take(session, Infinity);
    return !session.io!.socket.destroyed;
  }

  /**
   * Serves every ring until the clients go quiet (a poke, or a throttled client let go).
   * `talker`: the session that poked, or that talked in the turn this one continues.
   */
  readonly wake = (talker?: LinkedSession): void => {
    if (this.#serving) return;
    this.#serving = true;
    try {
      this.#serve(talker);
    } finally {
      this.#serving = false;
    }
  };

  #serve(first: LinkedSession | undefined): void {
    const until = performance.now() + TURN_MS;
    // The sessions that sent something in this turn: usually one sequential client, however many
    // others are linked and idle (an idle pool worker, the thread worker beside a process one).
    // A turn that a poke starts has one already: the frame that came with the poke was taken
    // ahead of it (takeAhead), and without it the turn's first wait would be one for any ring.
    let talking = first === undefined ? 0 : 1;
    let talker = first;
    for (;;) {
      let served = 0;
      for (const session of this.#sessions) {
        const n = this.#take(session, BATCH);
        if (n > 0 && session !== talker) (talker = session), talking++;
        served += n;
      }
      if (performance.now() > until) {
        setImmediate(this.wake, talking === 1 ? talker : undefined);
        return;
      }
      if (served > 0 || this.#await(talking <= 1 ? (talker ?? this.#lone()) : undefined)) continue;
      let asleep = true;
      for (const session of this.#sessions) if (!session.paused && !session.link!.sleep()) asleep = false;
      if (asleep) return;
    }
  }

  #lone(): LinkedSession | undefined {
    return this.#sessions.size === 1 ? this.#sessions.values().next().value : undefined;
  }

  /**
   * Waits for the next frame: for the one client that is talking, as that client's link waits
   * (spin if it was awake, then block on its ring's futex; the others, if any, are served once
   * that wait ends, within BLOCK_MAX_MS, or poke); with several talking, spins for any of them.
   */
  #await(talker: LinkedSession | undefined): boolean {
    if (talker === undefined || !this.#sessions.has(talker)) {
      linkFrames.anyWaits++;
      return mayYield() && this.#spin.until(this.#anyReady, handOver);
    }
    return (
      !talker.paused && talker.link!.await(this.#spin, this.#block, (++this.#waits & PROBE_MASK) === 0 ? this.#probe : undefined)
    );
  }

  #take(session: LinkedSession, max: number): number {
    if (session.paused) return 0;
    const io = session.io!;
    try {
      return session.link!.drain(session.onRingFrame!, max);
    } catch (error) {
      // As on the socket (frame_socket.ts): the peer's fault closes its connection; anything
      // else is a bug here, said as a warning, and closes it too.
      if (!(error instanceof RingError))
        process.emitWarning(
          `napi-multiprocessing: a connection failed while handling a frame: ${String((error as Error)?.stack ?? error)}`,
        );
      io.destroy(error as Error);
      this.#sessions.delete(session);
      return 0;
    }
  }
}
