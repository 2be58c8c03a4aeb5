/**
 * The child's side of handover.ts: a worker hands what its outboxes hold to its parent thread, on
 * request and at exit. Apart from handover.ts so that a worker serves its parent without loading
 * the rings, outboxes and the native addon behind them: the modules that can hold undelivered
 * messages register here as they load, and until one has, there is nothing to hand over.
 */
import type { HandoverLink } from './handover.js';
import type { HandedOver } from './outbox.js';

export type HandoverMessage = { t: 'request' } | { t: 'handed'; outboxes: HandedOver[]; reply: boolean };

/** This thread's outboxes (outbox.ts registers them when it loads). */
export interface Outboxes {
  /** Empties every outbox of this thread, for another thread to deliver what they held. */
  handOverAll(): HandedOver[];
  /** Resolves once every outbox of this thread has delivered what it holds. */
  allDelivered(): Promise<void>;
  /** Whether any outbox of this thread holds messages not delivered yet. */
  holds(): boolean;
}

let outboxes: Outboxes | undefined;
/** Adopts what this thread's own child threads handed over so far (handover.ts registers it). */
let receiveFromChildren: (() => void) | undefined;

export function registerOutboxes(registered: Outboxes): void {
  outboxes = registered;
}

export function registerChildren(receive: () => void): void {
  receiveFromChildren = receive;
}

/** Resolves once this thread's outboxes, if it ever had any, have delivered what they hold. */
export function allDelivered(): Promise<void> {
  return outboxes ? outboxes.allDelivered() : Promise.resolve();
}

/** Whether this thread's outboxes hold messages not delivered yet. */
export function holdsUndelivered(): boolean {
  return outboxes?.holds() ?? false;
}

/**
 * Empties this thread's outboxes for a parent in another process (a child process hands them over
 * its IPC channel, handover.ts's `adopt` takes them there): nothing if it never had any.
 */
export function handOverAll(): HandedOver[] {
  receiveFromChildren?.();
  return outboxes?.handOverAll() ?? [];
}

let parent: HandoverLink | null = null;

/** In a worker started with a link: hands everything undelivered over on request and at exit. */
export function serveParent(link: HandoverLink): void {
  if (parent !== null) return;
  parent = link;
  link.port.on('message', (message: HandoverMessage) => {
    if (message.t === 'request') handToParent(true);
  });
  link.port.unref();
  process.on('exit', () => {
    try {
      handToParent(false);
    } catch {
      // The parent is gone (its end of the channel with it): nobody is left to deliver to.
    }
  });
}

function handToParent(reply: boolean): void {
  const link = parent!;
  // What this thread's own children left goes on up too.
  const handed = handOverAll();
  if (handed.length === 0 && !reply) return;
  link.port.postMessage(
    { t: 'handed', outboxes: handed, reply } satisfies HandoverMessage,
    handed.map((h) => h.bytes),
  );
  Atomics.add(link.signal, 0, 1);
}
