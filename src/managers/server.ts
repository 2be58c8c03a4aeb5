/**
 * The manager's server: the objects it holds, who refers to them, and what a client may do.
 *
 * It runs on the event loop of the thread that started it (so factories may be closures over
 * that thread's state). Each authenticated connection is a Session that counts the references
 * its proxies hold; an object is freed when no session, no lent description in transit and no
 * other held object refers to it any more, and a session that closes (or whose process dies)
 * gives all its references back, so a crashed client leaks nothing.
 *
 * Only registered typeids can be created and only their exposed methods called, never a name
 * every object inherits; arguments are data (structured clone) and proxy tokens, which become
 * ServerRefs of objects this server holds. A frame that cannot be decoded, or is not a request,
 * closes that connection only.
 */
import { randomBytes } from 'node:crypto';

import { codedError } from '../errors.js';
import { invalidType } from '../validate.js';
import { serializeError } from '../worker/protocol.js';
import type { FrameHandler, FrameSocket } from '../connection/frame_socket.js';
import { encodeFreshFrame, frameValue } from '../connection/framing.js';
import { FORBIDDEN, publicMethods, type Registration } from './registry.js';
import { isPoke, linksAvailable, type RingLink } from './link.js';
import { RingServer } from './ring_server.js';
import { ADOPT, CALL, CREATE, DECREF, decodeTokens, encodeTokens, LEND, LINK, type Token } from './wire.js';

/** A client stops being read while this much of its replies waits to be written. */
const HIGH_WATER = 4 * 1024 * 1024;
/** …or while it has this many calls waiting on asynchronous methods. */
const MAX_PENDING = 10_000;
/** A description lent to a worker and never taken up is given back after this long. */
const LEASE_MS = 60 * 60 * 1000;
/** Bound on outstanding leases (and on leases taken before they were lent). */
const MAX_LEASES = 100_000;

interface Entry {
  readonly object: object;
  readonly typeid: string;
  readonly exposed: ReadonlySet<string>;
  readonly exposedList: string[];
  readonly registration: Registration;
  refs: number;
}

/** One client connection (or this thread's own direct use): the references its proxies hold. */
export class Session {
  readonly refs = new Map<number, number>();
  pending = 0;
  paused = false;
  checkScheduled = false;
  /** The shared-memory path to this client, once it asked for one (link.ts). */
  link: RingLink | undefined = undefined;
  onRingFrame: FrameHandler | undefined = undefined;
  constructor(readonly io: FrameSocket | undefined) {}

  /** Sends the frame just encoded, through the link when there is one. */
  sendEncoded(length: number): void {
    if (this.link) this.link.sendEncoded(length);
    else this.io!.sendEncoded(length);
  }
}

let caller: Session | undefined;

/**
 * The session whose call is running, for the built-in locks that have an owner (an RLock is
 * owned by the client that acquired it, as Python's is owned by the thread serving that client).
 * Valid only during the synchronous start of a method.
 */
export function currentCaller(): object | undefined {
  return caller;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

const refs = new FinalizationRegistry<{ core: ServerCore; id: number }>(({ core, id }) => core.release(id));

/**
 * A reference to an object of this server, held on the server side: what a proxy becomes when
 * it is an argument (stored in a dict, given to Condition…). It keeps its object alive until it
 * is itself garbage, and travels back to a client as a proxy.
 */
export class ServerRef {
  readonly core: ServerCore;
  readonly id: number;
  constructor(core: ServerCore, id: number) {
    this.core = core;
    this.id = id;
    core.hold(id);
    refs.register(this, { core, id });
  }

  /** The object itself (the built-in Condition uses the lock it was given). */
  get referent(): object {
    return this.core.entry(this.id).object;
  }
}

export function noSuchObject(id: unknown): Error {
  return codedError('ERR_NO_SUCH_OBJECT', `The manager holds no object with id ${String(id)} (it was freed, or never existed)`);
}

function notExposed(method: unknown, typeid: string): TypeError {
  const error = new TypeError(`'${String(method)}' is not an exposed method of typeid '${typeid}'`) as TypeError & {
    code: string;
  };
  error.code = 'ERR_METHOD_NOT_EXPOSED';
  return error;
}

/** What a client receives for a result the serializer refused (a function, a symbol…). */
function unsendable(error: unknown): TypeError {
  return new TypeError(`The result could not be sent to the client (${(error as Error).message})`, { cause: error });
}

export interface CoreOptions {
  readonly registry: ReadonlyMap<string, Registration>;
  readonly authkey: Buffer;
}

export class ServerCore {
  readonly registry: ReadonlyMap<string, Registration>;
  readonly authkey: Buffer;
  /** This thread's own use of the server, without a socket. */
  readonly local = new Session(undefined);
  readonly #objects = new Map<number, Entry>();
  readonly #sessions = new Set<Session>();
  readonly #leases = new Map<string, { id: number; expires: number }>();
  readonly #taken = new Map<string, number>();
  readonly #closeListeners: (() => void)[] = [];
  readonly #rings = new RingServer();
  #nextId = 1;
  #closed = false;

  constructor(options: CoreOptions) {
    this.registry = options.registry;
    this.authkey = options.authkey;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get numberOfObjects(): number {
    return this.#objects.size;
  }

  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  entry(id: unknown): Entry {
    const entry = typeof id === 'number' ? this.#objects.get(id) : undefined;
    if (!entry) throw noSuchObject(id);
    return entry;
  }

  tokenOf(ref: ServerRef): Token {
    if (ref.core !== this) throw new TypeError('A proxy of one manager cannot be stored in another manager');
    const entry = this.entry(ref.id);
    return { typeid: entry.typeid, id: ref.id, exposed: entry.exposedList, kind: entry.registration.kind };
  }

  // --- reference counts ------------------------------------------------------------------------

  /** One more reference held by a ServerRef or a lease. */
  hold(id: number): void {
    this.entry(id).refs++;
  }

  /** A ServerRef or lease let go of its reference. */
  release(id: number): void {
    const entry = this.#objects.get(id);
    if (entry && --entry.refs <= 0) this.#objects.delete(id);
  }

  incref(session: Session, id: number): void {
    this.entry(id).refs++;
    session.refs.set(id, (session.refs.get(id) ?? 0) + 1);
  }

  decref(session: Session, id: unknown): void {
    if (typeof id !== 'number') return;
    const count = session.refs.get(id);
    if (count === undefined) return;
    if (count > 1) session.refs.set(id, count - 1);
    else session.refs.delete(id);
    this.release(id);
  }

  /** A proxy description leaves for a worker: its reference is held until the worker takes it. */
  lend(id: unknown, lease: unknown): void {
    if (typeof id !== 'number' || typeof lease !== 'string' || lease.length > 64) return;
    if (this.#taken.delete(lease) || !this.#objects.has(id)) return;
    this.hold(id);
    this.#leases.set(lease, { id, expires: Date.now() + LEASE_MS });
    this.#sweepLeases();
  }

  /** A worker took up a lent description: the lease's reference becomes the session's. */
  adopt(session: Session, id: unknown, lease: unknown): void {
    if (typeof id !== 'number' || typeof lease !== 'string' || lease.length > 64 || !this.#objects.has(id)) return;
    const lent = this.#leases.get(lease);
    if (lent && lent.id === id) {
      this.#leases.delete(lease);
      this.incref(session, id);
      this.release(id);
      return;
    }
    // Taken before the lender's LEND arrived (another connection): the LEND will be a no-op.
    this.incref(session, id);
    this.#taken.set(lease, id);
    if (this.#taken.size > MAX_LEASES) this.#taken.delete(this.#taken.keys().next().value!);
  }

  #sweepLeases(): void {
    const now = Date.now();
    for (const [lease, lent] of this.#leases) {
      if (lent.expires > now && this.#leases.size <= MAX_LEASES) break;
      this.#leases.delete(lease);
      this.release(lent.id);
    }
  }

  // --- creating objects and calling methods -------------------------------------------------------

  #register(object: unknown, typeid: string): ServerRef {
    const registration = this.registry.get(typeid);
    if (!registration) throw codedError('ERR_UNKNOWN_TYPEID', `No typeid '${typeid}' is registered with this manager`);
    if ((typeof object !== 'object' && typeof object !== 'function') || object === null) {
      throw new TypeError(
        `The factory of typeid '${typeid}' returned ${object === null ? 'null' : typeof object}, not an object`,
      );
    }
    const exposedList = (registration.exposed ?? publicMethods(object)).filter((name) => !FORBIDDEN.has(name));
    const id = this.#nextId++;
    this.#objects.set(id, { object, typeid, exposed: new Set(exposedList), exposedList, registration, refs: 0 });
    return new ServerRef(this, id);
  }

  /** Runs the factory of `typeid`; the new object comes back as a ServerRef (a proxy to the client). */
  create(typeid: unknown, args: unknown): ServerRef | Promise<ServerRef> {
    if (this.#closed) throw codedError('ERR_MANAGER_CLOSED', 'The manager has shut down');
    const registration = typeof typeid === 'string' ? this.registry.get(typeid) : undefined;
    if (!registration?.factory) {
      throw codedError('ERR_UNKNOWN_TYPEID', `No typeid '${String(typeid)}' with a factory is registered with this manager`);
    }
    if (!Array.isArray(args)) throw invalidType('args', 'an array', args);
    const object = Reflect.apply(registration.factory, undefined, args);
    const id = registration.typeid;
    return isThenable(object) ? Promise.resolve(object).then((value) => this.#register(value, id)) : this.#register(object, id);
  }

  /** Calls an exposed method of object `id`; a method listed in methodToTypeid returns a ServerRef. */
  call(session: Session, id: unknown, method: unknown, args: unknown): unknown {
    const entry = this.entry(id);
    if (typeof method !== 'string' || !entry.exposed.has(method) || FORBIDDEN.has(method)) throw notExposed(method, entry.typeid);
    if (!Array.isArray(args)) throw invalidType('args', 'an array', args);
    const fn = (entry.object as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw notExposed(method, entry.typeid);
    caller = session;
    let result: unknown;
    try {
      result = Reflect.apply(fn, entry.object, args);
    } finally {
      caller = undefined;
    }
    const typeid = entry.registration.methodToTypeid.get(method);
    if (typeid === undefined) return result;
    return isThenable(result)
      ? Promise.resolve(result).then((value) => this.#register(value, typeid))
      : this.#register(result, typeid);
  }

  /** Tokens in received arguments become ServerRefs of objects held here. */
  readonly fromToken = (token: Token): ServerRef => {
    this.entry(token.id);
    return new ServerRef(this, token.id);
  };

  // --- connections ------------------------------------------------------------------------------

  /** Serves one authenticated connection until it closes. */
  accept(io: FrameSocket): void {
    if (this.#closed) return io.destroy();
    const session = new Session(io);
    this.#sessions.add(session);
    // Serving alone does not keep the process alive (see BaseManager.start).
    io.unref();
    io.onClose(() => this.#drop(session));
    io.start((data, start, end) => this.#onSocketFrame(session, data, start, end));
  }

  #onSocketFrame(session: Session, data: Buffer, start: number, end: number): void {
    const link = session.link;
    if (link === undefined) return this.#onFrame(session, data, start, end);
    // What the client wrote to its ring before it sent this frame comes first.
    if (!this.#rings.takeAhead(session)) return;
    if (isPoke(data, start, end)) return this.#rings.wake(session);
    link.tookFromSocket();
    this.#onFrame(session, data, start, end);
  }

  /**
   * Gives a client on this machine a shared-memory link. The reply goes over the socket (the
   * client cannot read the ring before it has it); a client that is refused stays on the socket.
   */
  #openLink(session: Session, callId: number): void {
    const io = session.io!;
    const local = typeof io.socket.remoteAddress !== 'string' && !('encrypted' in io.socket);
    let wired: unknown;
    try {
      if (session.link || !local || !linksAvailable()) throw codedError('ERR_LINK_REFUSED', 'No shared-memory link here');
      wired = this.#rings.open(session, (data, start, end) => this.#onFrame(session, data, start, end));
    } catch (error) {
      return io.sendEncoded(encodeFreshFrame([callId, 0, serializeError(error)], 1));
    }
    io.sendEncoded(encodeFreshFrame([callId, 1, wired], 1));
  }

  #drop(session: Session): void {
    if (!this.#sessions.delete(session)) return;
    this.#rings.drop(session);
    for (const [id, count] of session.refs) {
      const entry = this.#objects.get(id);
      if (entry && (entry.refs -= count) <= 0) this.#objects.delete(id);
    }
    session.refs.clear();
  }

  #onFrame(session: Session, data: Buffer, start: number, end: number): void {
    const io = session.io!;
    let message: unknown;
    try {
      message = frameValue(data, start, end);
    } catch {
      return io.destroy();
    }
    if (!Array.isArray(message)) return io.destroy();
    switch (message[0]) {
      case CALL:
      case CREATE:
        if (!Number.isSafeInteger(message[1])) return io.destroy();
        this.#answer(session, message, end - start);
        break;
      case LINK:
        if (!Number.isSafeInteger(message[1])) return io.destroy();
        this.#openLink(session, message[1] as number);
        break;
      case DECREF:
        if (!Array.isArray(message[1])) return io.destroy();
        for (const id of message[1]) this.decref(session, id);
        break;
      case LEND:
        this.lend(message[1], message[2]);
        break;
      case ADOPT:
        this.adopt(session, message[1], message[2]);
        break;
      default:
        return io.destroy();
    }
    if (session.paused || session.pending > MAX_PENDING || io.backlog > HIGH_WATER) this.#throttle(session);
  }

  #answer(session: Session, message: unknown[], budget: number): void {
    const callId = message[1] as number;
    let out: unknown;
    try {
      if (message[0] === CALL) {
        out = this.call(session, message[2], message[3], decodeTokens(message[4], this.fromToken, budget));
      } else {
        out = this.create(message[2], decodeTokens(message[3], this.fromToken, budget));
      }
    } catch (error) {
      return this.#reply(session, callId, false, error);
    }
    if (!isThenable(out)) return this.#reply(session, callId, true, out);
    session.pending++;
    Promise.resolve(out).then(
      (value) => this.#settled(session, callId, true, value),
      (error: unknown) => this.#settled(session, callId, false, error),
    );
  }

  #settled(session: Session, callId: number, ok: boolean, value: unknown): void {
    session.pending--;
    this.#reply(session, callId, ok, value);
    if (session.paused) this.#throttle(session);
  }

  #reply(session: Session, callId: number, ok: boolean, value: unknown): void {
    const io = session.io!;
    if (io.closed) return;
    // Most results hold no object, so they hold no proxy either: no walk, nothing allocated.
    if (ok && (typeof value !== 'object' || value === null)) return this.#replyValue(session, callId, value);
    let length: number;
    const held: ServerRef[] = [];
    if (ok) {
      try {
        const encoded = encodeTokens(value, (v) => (v instanceof ServerRef ? (held.push(v), this.tokenOf(v)) : undefined));
        length = encodeFreshFrame([callId, 1, encoded], 1);
      } catch (error) {
        held.length = 0;
        length = encodeFreshFrame([callId, 0, serializeError(unsendable(error))], 1);
      }
    } else {
      length = encodeFreshFrame([callId, 0, serializeError(value)], 1);
    }
    for (const ref of held) this.incref(session, ref.id);
    session.sendEncoded(length);
  }

  #replyValue(session: Session, callId: number, value: unknown): void {
    let length: number;
    try {
      length = encodeFreshFrame([callId, 1, value], 1);
    } catch (error) {
      length = encodeFreshFrame([callId, 0, serializeError(unsendable(error))], 1);
    }
    session.sendEncoded(length);
  }

  /**
   * Stops reading a client whose replies pile up (it does not read them) or that has too many
   * calls waiting, at once, between two of its frames; reads it again once that has passed.
   */
  #throttle(session: Session): void {
    const io = session.io!;
    if (io.closed) return;
    if (io.backlog <= HIGH_WATER && session.pending <= MAX_PENDING) {
      if (session.paused) {
        session.paused = false;
        io.resume();
        if (session.link) this.#rings.wake();
      }
      return;
    }
    if (!session.paused) {
      session.paused = true;
      io.pause();
    }
    // Too many pending calls: #settled looks again as each one settles. A full buffer: look
    // again once the socket drains (after this turn's replies were handed to it).
    if (io.backlog <= HIGH_WATER || session.checkScheduled) return;
    session.checkScheduled = true;
    const recheck = () => {
      session.checkScheduled = false;
      this.#throttle(session);
    };
    setImmediate(() => (io.socket.writableNeedDrain ? io.socket.once('drain', recheck) : recheck()));
  }

  /** Closes every connection and frees every object; later calls fail with ERR_MANAGER_CLOSED. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#sessions) session.io!.destroy();
    this.#sessions.clear();
    this.#objects.clear();
    this.#leases.clear();
    this.#taken.clear();
    for (const listener of this.#closeListeners.splice(0)) listener();
  }
}

/** A fresh random authkey (32 bytes), as Python gives every process. */
export function newAuthkey(): Buffer {
  return randomBytes(32);
}
