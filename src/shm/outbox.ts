/**
 * A producer's outbox: the messages of this thread that did not fit in a ring yet (ring.ts has the
 * design). One per ring and thread, flushed in the background as readers make room, the way
 * Python's Queue has a feeder thread.
 *
 * An outbox can change threads: a worker that ends (or is about to be stopped) hands what its
 * outboxes still hold to its parent thread, which delivers it from then on (handover.ts), including
 * a message larger than the ring that was partly written, together with the writer mutex it holds.
 */
import { CAPACITY, NF_SEQ, NF_WAITERS, W_LOCK, type Ring, type RingState } from './ring.js';
import { keepsUndelivered, runAsync, runSync, wake, type Waiting } from './waiting.js';
import { registerOutboxes } from './handover-child.js';

/** This thread's outbox for `ring`, made on first use. */
export function outboxOf(ring: Ring): Outbox {
  return (ring.outbox ??= new Outbox(ring));
}

/** What an outbox held when it was handed to another thread (cloneable; `bytes` is transferred). */
export interface HandedOver {
  ring: RingState;
  /** The messages, back to back. */
  bytes: ArrayBuffer;
  lengths: number[];
  /** Bytes of the first message already in the ring: its writer holds the writer mutex (> 0). */
  sent: number;
  /** The writing end (a Pipe's) closes once these are delivered. */
  closeWriter: boolean;
}

/** This thread's outboxes that hold messages (or a pending close). */
const holding = new Set<Outbox>();

/** Empties every outbox of this thread, for another thread to deliver what they held. */
export function handOverAll(): HandedOver[] {
  const out: HandedOver[] = [];
  for (const outbox of [...holding]) {
    const handed = outbox.handOver();
    if (handed) out.push(handed);
  }
  return out;
}

/**
 * Resolves once every outbox of this thread has delivered what it holds. A child process ends
 * through here: it has no parent thread to hand its outboxes to, so it delivers them itself first,
 * as Python's process joins its queues' feeder threads (and waits, as that does, for a reader to
 * make room when the queue is full).
 */
export async function allDelivered(): Promise<void> {
  while (holding.size > 0) await new Promise((resolve) => setTimeout(resolve, 1));
}

registerOutboxes({ handOverAll, allDelivered, holds: () => holding.size > 0 });

function noop(): void {}

/** What stops an Outbox's pump: nothing (all delivered), the ring's free space, or another writer. */
type Blocked = 'none' | 'room' | 'lock';

/**
 * A producer's messages that did not fit in the ring yet, in order, flushed from this thread as
 * readers make room. One per ring and thread (`outboxOf`).
 *
 * The flusher runs on the event loop; `pump` does its work synchronously, and a reader of this
 * thread calls it too, so that a blocking get can receive what this very thread put (the reader
 * frees room and the writer is local). While a message larger than the ring streams through, the
 * Outbox holds the writer mutex across event-loop turns, as a writer's `writeSteps` does.
 */
export class Outbox {
  readonly #ring: Ring;
  readonly #pending: Uint8Array[] = [];
  /** The writer mutex is held by this Outbox (`#sent` bytes of the first message are in). */
  #locked = false;
  #sent = 0;
  #flushing = false;
  /** The flusher sleeps on the writer mutex word (another writer held it). */
  #parkedOnLock = false;
  /** Close the ring's writing end once everything here is delivered (a Pipe end was closed). */
  #closeWhenDrained = false;
  /** Holds this thread's event loop open while messages it put are pending (see `send`). */
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(ring: Ring) {
    this.#ring = ring;
  }

  /** Messages waiting here (the first may be partly in the ring). */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Sends the accepted message `msg[0, n)` (a view on the shared scratch buffer), unless earlier
   * messages are still waiting here (order comes first):
   * - `'defer'` (async callers) never waits: what does not fit now goes to the outbox;
   * - `'block'` (a worker's Connection.send, a bounded queue's putSync) waits for readers to make
   *   room, as a write to a full pipe does;
   * - `'unless-full'` (an unbounded queue's putSync) waits for the writer mutex, so that a message
   *   that fits goes in at once, but leaves a message that does not fit in the outbox, as Python's
   *   unbounded put hands it to its feeder thread: a reader may only come after this task ends.
   */
  send(msg: Uint8Array, n: number, mode: 'defer' | 'block' | 'unless-full'): void {
    const ring = this.#ring;
    if (this.#pending.length > 0) this.pump();
    if (this.#pending.length === 0) {
      if (ring.tryWrite(msg, n, mode === 'unless-full' && n <= CAPACITY)) return;
      if (mode === 'block') {
        runSync(ring.writeSteps(msg, n, true));
        return;
      }
    }
    // A copy: `msg` may be the scratch buffer (and Buffer#slice would share its memory).
    this.#pending.push(new Uint8Array(msg.subarray(0, n)));
    this.#keep(false);
    // This thread's own puts keep it alive until they are delivered, as Python joins its feeder
    // thread at exit. Adopted ones do not: a parent with nothing else left to do would otherwise
    // never exit when nobody reads what its ended children put.
    this.#keepAlive ??= setInterval(noop, 2 ** 30);
  }

  /** Closes the ring's writing end once every message sent so far is in it (at once if it is). */
  closeWriterWhenDrained(): void {
    if (this.#pending.length === 0) this.#ring.closeWriter();
    else {
      this.#closeWhenDrained = true;
      holding.add(this);
    }
  }

  /**
   * Has what is pending here delivered from now on: by the flusher, and by blocking waits. `kick`:
   * the flusher, if running, must look again (it may sleep on a mutex this outbox now holds).
   */
  #keep(kick: boolean): void {
    holding.add(this);
    keepsUndelivered(this);
    if (!this.#flushing) this.#startFlusher();
    else if (kick) this.#kick();
  }

  /**
   * Empties this outbox for another thread to deliver (`adopt` there). A message partly in the
   * ring goes with the writer mutex, which stays held: the adopter goes on where this one stopped.
   */
  handOver(): HandedOver | null {
    holding.delete(this);
    if (this.#pending.length === 0 && !this.#closeWhenDrained) return null;
    if (this.#locked && this.#sent === 0) this.#unlock();
    const pending = this.#pending.splice(0);
    const handed: HandedOver = {
      ring: this.#ring.state,
      bytes: concat(pending),
      lengths: pending.map((m) => m.length),
      sent: this.#sent,
      closeWriter: this.#closeWhenDrained,
    };
    this.#locked = false;
    this.#sent = 0;
    this.#closeWhenDrained = false;
    // The flusher wakes, finds nothing left, and ends (no longer keeping this thread alive).
    if (this.#flushing) this.#kick();
    return handed;
  }

  /** Takes over what another thread's outbox for this ring handed over (see `handOver`). */
  adopt(handed: HandedOver): void {
    const messages: Uint8Array[] = [];
    let at = 0;
    for (const length of handed.lengths) {
      messages.push(new Uint8Array(handed.bytes, at, length));
      at += length;
    }
    // A message its writer had begun goes first, with the mutex (so this outbox cannot hold it).
    const own = handed.sent > 0 ? this.#pending.splice(0) : [];
    for (const m of messages) this.#pending.push(m);
    for (const m of own) this.#pending.push(m);
    if (handed.sent > 0) {
      this.#locked = true;
      this.#sent = handed.sent;
    }
    if (handed.closeWriter) this.#closeWhenDrained = true;
    if (this.#pending.length > 0) this.#keep(true);
    else if (this.#closeWhenDrained) this.#drainedNow();
  }

  #drainedNow(): void {
    holding.delete(this);
    if (this.#closeWhenDrained) {
      this.#closeWhenDrained = false;
      this.#ring.closeWriter();
    }
  }

  /**
   * Moves what fits now into the ring, in order, without waiting: whole messages that fit, and as
   * much of a larger one as there is room for. Returns what stopped it. On a pipe whose reader
   * closed, drops what is left (it can never be delivered).
   */
  pump(): Blocked {
    const before = this.#pending.length + this.#sent;
    const locked = this.#locked;
    const blocked = this.#pump();
    // Called outside the flusher (by a reader or a send of this thread): when it changed anything,
    // make sure the sleeping flusher looks again, or it could sleep on a word nobody will change
    // (it has to go on with a message this pump started, or end once all is delivered).
    if (this.#flushing && (this.#pending.length + this.#sent !== before || this.#locked !== locked)) this.#kick();
    return blocked;
  }

  #pump(): Blocked {
    const ring = this.#ring;
    const pending = this.#pending;
    while (pending.length > 0) {
      const msg = pending[0]!;
      if (!this.#locked) {
        if (!ring.tryLockWriter()) return 'lock';
        this.#locked = true;
      }
      let sent: number;
      try {
        sent = ring.writeSome(msg, this.#sent);
      } catch (error) {
        this.#unlock();
        // EPIPE: a pipe whose reader closed; what is left can never be delivered.
        pending.length = 0;
        if ((error as { code?: string }).code !== 'EPIPE') throw error;
        return 'none';
      }
      if (sent === msg.length) {
        this.#unlock();
        pending.shift();
        continue;
      }
      if (sent === 0) {
        // Not started: let other writers in meanwhile.
        this.#unlock();
      } else {
        this.#sent = sent;
      }
      return 'room';
    }
    return 'none';
  }

  #unlock(): void {
    this.#locked = false;
    this.#sent = 0;
    this.#ring.unlockWriter();
  }

  /** Wakes the flusher wherever it sleeps (other sleepers on the same word just look again). */
  #kick(): void {
    const c = this.#ring.ctrl;
    if (this.#parkedOnLock) {
      wake(c, W_LOCK);
    } else {
      Atomics.add(c, NF_SEQ, 1);
      wake(c, NF_SEQ);
    }
  }

  #startFlusher(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    const done = () => {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
      this.#flushing = false;
      // A send between the flusher's end and this callback found it still running.
      if (this.#pending.length > 0) this.#startFlusher();
      else this.#drainedNow();
    };
    runAsync(this.#flusherSteps()).then(done, (error: unknown) => {
      if (this.#locked) this.#unlock();
      this.#pending.length = 0;
      done();
      throw error;
    });
  }

  *#flusherSteps(): Waiting<void> {
    const c = this.#ring.ctrl;
    for (;;) {
      // Registered before pumping, so a reader's progress in between wakes us.
      Atomics.add(c, NF_WAITERS, 1);
      const seq = Atomics.load(c, NF_SEQ);
      let blocked: Blocked;
      try {
        blocked = this.#pump();
        if (blocked === 'none') return;
        if (blocked === 'room') {
          yield { array: c, index: NF_SEQ, value: seq, timeout: Infinity };
          continue;
        }
      } finally {
        Atomics.sub(c, NF_WAITERS, 1);
      }
      // Another writer holds the mutex: wait for it as lockWordSteps does (2: held, with sleepers;
      // once woken, only an exchange to 2 may take it, or the other sleepers would be forgotten).
      // A pump of this thread may take it meanwhile (and then kicks us awake).
      while (!this.#locked && this.#pending.length > 0) {
        if (Atomics.exchange(c, W_LOCK, 2) === 0) {
          this.#locked = true;
          break;
        }
        this.#parkedOnLock = true;
        try {
          yield { array: c, index: W_LOCK, value: 2, timeout: Infinity };
        } finally {
          this.#parkedOnLock = false;
        }
      }
    }
  }
}

function concat(messages: Uint8Array[]): ArrayBuffer {
  let total = 0;
  for (const m of messages) total += m.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const m of messages) {
    out.set(m, at);
    at += m.length;
  }
  return out.buffer;
}
