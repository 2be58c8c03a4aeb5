/**
 * A worker's undelivered queue and pipe messages outlive it: its parent thread delivers them.
 *
 * A put returns once its message is accepted; a message that did not fit in the ring yet waits in
 * the thread's outbox (outbox.ts). When a pool worker or a thread Process ends, or is about to be
 * stopped, it hands what its outboxes hold to the thread that started it, over a MessagePort of its
 * own: at exit (process.exit, the end of a Process's target, an uncaught error) and, for an idle
 * pool worker that is being stopped or replaced, on request before it is terminated. A message
 * partly written goes with the writer mutex, so the parent finishes it where the worker stopped.
 * Python gets the same from joining the feeder thread at exit, at the price of a child that cannot
 * exit before a reader drains its queue; here the parent takes over and `join()` returns.
 *
 * The parent adopts on its event loop, and also synchronously (receiveMessageOnPort) from blocking
 * calls and reads, so a main thread blocked in `getSync()` waiting for those very messages gets
 * them. A thread killed by `terminate()` runs no code at exit: what it held is lost, as in Python.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

import { registerChildren, type HandoverMessage as Message } from './handover-child.js';
import { outboxOf, type HandedOver } from './outbox.js';
import { Ring } from './ring.js';
import { keepsUndelivered, onArrivals } from './waiting.js';

/** What a child thread gets at start: where to hand over, and a word to bump when it did. */
export interface HandoverLink {
  port: MessagePort;
  signal: Int32Array;
}

/** How long a stop waits for an idle worker to answer a request before terminating it anyway. */
const REQUEST_GRACE_MS = 5_000;

// --- parent side (the child's is in handover-child.ts) --------------------------------------

/** Bumped by children after they handed something over, so that looking costs one load. */
let signal: Int32Array | null = null;
let seen = 0;
const children = new Set<ChildHandover>();

function adoptArrivedNow(): void {
  if (signal === null || Atomics.load(signal, 0) === seen) return;
  seen = Atomics.load(signal, 0);
  for (const child of children) child.receive();
}
onArrivals(adoptArrivedNow);
// A worker that starts threads of its own passes what they handed over on up when it ends.
registerChildren(() => {
  for (const child of children) child.receive();
});

/** Blocking waits of this thread keep looking while a child may still hand over (waiting.ts). */
const watcher = {
  pump: adoptArrivedNow,
  get size(): number {
    return children.size;
  },
};

/** Delivers, from this thread on, what a child thread or child process handed over. */
export function adopt(outboxes: HandedOver[]): void {
  for (const handed of outboxes) outboxOf(Ring.adopt(handed.ring)).adopt(handed);
}

/** The parent's end of one child thread's handover channel. */
export class ChildHandover {
  /** To send to the child in its first message, with `link.port` in the transfer list. */
  readonly link: HandoverLink;
  readonly #port: MessagePort;
  #answered: (() => void)[] = [];

  constructor() {
    const { port1, port2 } = new MessageChannel();
    signal ??= new Int32Array(new SharedArrayBuffer(4));
    this.#port = port1;
    this.link = { port: port2, signal };
    port1.on('message', (message: Message) => this.#deliver(message));
    port1.once('close', () => this.#answer());
    // Never what keeps this thread alive: a stop that waits for an answer holds a timer.
    port1.unref();
    children.add(this);
    keepsUndelivered(watcher);
  }

  /** Adopts, now, whatever the child handed over so far. */
  receive(): void {
    for (let m = receiveMessageOnPort(this.#port); m !== undefined; m = receiveMessageOnPort(this.#port)) {
      this.#deliver(m.message as Message);
    }
  }

  #deliver(message: Message): void {
    if (message.t !== 'handed') return;
    adopt(message.outboxes);
    if (message.reply) this.#answer();
  }

  #answer(): void {
    for (const resolve of this.#answered.splice(0)) resolve();
  }

  /**
   * Asks the child, idle, for what its outboxes hold: resolves once adopted, when the child is gone,
   * or after a grace period (a child whose event loop never comes back cannot answer).
   */
  request(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, REQUEST_GRACE_MS);
      const answered = this.#answered;
      function done(): void {
        clearTimeout(timer);
        const at = answered.indexOf(done);
        if (at >= 0) answered.splice(at, 1);
        resolve();
      }
      answered.push(done);
      try {
        this.#port.postMessage({ t: 'request' } satisfies Message);
      } catch {
        done();
      }
    });
  }

  /** The child has exited: adopts what it left, and lets go of the channel. */
  close(): void {
    this.receive();
    children.delete(this);
    this.#port.close();
    this.#answer();
  }
}
