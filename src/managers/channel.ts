/**
 * The client side: how a proxy's calls reach its manager.
 *
 * A thread holds one connection per manager (address and key), shared by all its proxies of
 * that manager, opened on first use and authenticated before anything else is sent; calls are
 * pipelined on it (many in flight, replies matched by call id). While no call is waiting the
 * socket is unref'd, so an idle client does not keep Node alive.
 *
 * On the thread that serves the manager, proxies call the server directly (DirectChannel):
 * arguments and results are still structured-cloned (a primitive clones to itself, so those are
 * passed as they are) and errors cross as they do over a socket, so a program behaves the same
 * whichever thread it runs on; only the socket round trip is saved.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { serialize } from 'node:v8';

import { AuthenticationError, codedError } from '../errors.js';
import { outOfRange } from '../validate.js';
import { deserializeError, isSerializedError, serializeError } from '../worker/protocol.js';
import { type Address, addressKey } from '../connection/address.js';
import type { FrameHandler, FrameSocket } from '../connection/frame_socket.js';
import { encodedFrame, encodeFreshFrame, frameValue, valueFrame } from '../connection/framing.js';
import { dial, type TransportOptions } from '../connection/listener.js';
import { registerShareable } from '../reduction/transfer.js';
import { PendingCalls } from './calls.js';
import { newBlocker, newSpin, isPoke, linksWanted, openLinkMemory, RingLink } from './link.js';
import { makeProxy, PROXY_SHARE_TYPE, proxyToken, type ProxyChannel, type ProxyState } from './proxy.js';
import { type ServerCore, ServerRef } from './server.js';
import {
  ADOPT,
  CALL,
  CREATE,
  cloneFailure,
  DECREF,
  decodeTokens,
  encodeTokens,
  isPrimitiveList,
  LEND,
  LINK,
  type Token,
} from './wire.js';

export interface ChannelParams extends TransportOptions {
  readonly address: Address;
  readonly authkey: Buffer;
}

export type Channel = ProxyChannel;

/** The error of every call to a manager that has shut down or cannot be reached. */
export function managerClosed(cause?: unknown): Error {
  const error = codedError('ERR_MANAGER_CLOSED', 'The manager has shut down, or the connection to it was lost');
  if (cause !== undefined) Object.defineProperty(error, 'cause', { value: cause, configurable: true, writable: true });
  return error;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** An error as the caller receives it from another process: same class, props, remote stack. */
function crossed(error: unknown): unknown {
  return deserializeError(serializeError(error));
}

function newLease(): string {
  return randomBytes(12).toString('base64url');
}

/** Proxies inside arguments become tokens; a proxy of another manager is refused. */
function encodeArgs(channel: ProxyChannel, args: unknown[]): unknown[] {
  return encodeTokens(args, (value) => {
    const token = proxyToken(value);
    if (!token) return undefined;
    if (addressKey(token.params.address) !== addressKey(channel.params.address)) {
      throw new TypeError('A proxy of one manager cannot be sent to another manager');
    }
    return token.token;
  }) as unknown[];
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

// One executor for every call's promise: a closure made per call (and its context) would be
// garbage at once; the resolvers are taken from here right after the promise is made.
let takenResolve: Pending['resolve'];
let takenReject: Pending['reject'];
function takeResolvers(resolve: Pending['resolve'], reject: Pending['reject']): void {
  takenResolve = resolve;
  takenReject = reject;
}

/** Flushes and pumps are scheduled on this (a promise reaction is cheaper than queueMicrotask). */
const RESOLVED = Promise.resolve();
/** A client spins for replies at most this long in one turn of its event loop. */
const TURN_MS = 1;
const replySpin = newSpin();
const replyBlock = newBlocker();

function ignore(): void {}

export class SocketChannel implements ProxyChannel {
  readonly params: ChannelParams;
  #io: FrameSocket | undefined;
  #dialing: Promise<void> | undefined;
  #queued: Buffer[] = [];
  readonly #pending = new PendingCalls<Pending>();
  #nextCall = 1;
  #failure: (() => unknown) | undefined;
  #decrefs: number[] = [];
  readonly #onFailed: (channel: SocketChannel) => void;
  /** The shared-memory path to a manager on this machine (link.ts), once it gave one. */
  #link: RingLink | undefined;
  /** Frames sent over the socket since the link was asked for, until it comes. */
  #sentSinceAsk: number | undefined;
  #pumpScheduled = false;
  /** When this turn of the event loop began spinning for replies (0: it has not). */
  #turnStart = 0;
  readonly #pumpTask = (): void => this.#pump();
  readonly #newTurn = (): void => {
    this.#turnStart = 0;
  };
  readonly #onReplyFrame: FrameHandler = (data, start, end) => this.#onReply(data, start, end);

  constructor(params: ChannelParams, onFailed: (channel: SocketChannel) => void) {
    this.params = params;
    this.#onFailed = onFailed;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Connects and authenticates now (BaseManager.connect), rejecting as the connection fails. */
  connect(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure());
    this.#dialing ??= dial(this.params.address, this.params.authkey, this.params).then(
      (io) => this.#connected(io),
      (error: unknown) => {
        this.#fail(() => (error instanceof AuthenticationError ? error : managerClosed(error)));
        throw this.#failure!();
      },
    );
    return this.#dialing;
  }

  #connected(io: FrameSocket): void {
    if (this.#failure) return io.destroy();
    this.#io = io;
    io.onClose((error) => this.#fail(() => managerClosed(error)));
    io.start((data, start, end) => this.#onFrame(data, start, end));
    if (this.#pending.size === 0) io.unref();
    // Asked first, so that the link is there by the time the first reply is.
    if (linksWanted() && typeof this.params.address === 'string' && !this.params.tls) this.#askLink(io);
    const queued = this.#queued;
    this.#queued = [];
    for (const frame of queued) this.#send(frame);
  }

  /** Asks a manager on this machine for a shared-memory link; refused, the socket carries on. */
  #askLink(io: FrameSocket): void {
    const callId = this.#nextCall++;
    io.send(valueFrame([LINK, callId]));
    this.#sentSinceAsk = 0;
    this.#pending.set(callId, { resolve: (wired) => this.#linked(io, wired), reject: ignore });
    if (this.#pending.size === 1) io.ref();
  }

  #linked(io: FrameSocket, wired: unknown): void {
    const sent = this.#sentSinceAsk!;
    this.#sentSinceAsk = undefined;
    if (this.#failure) return;
    try {
      this.#link = new RingLink(openLinkMemory(wired), 'client', io, sent);
    } catch {
      // Not mappable here (another machine after all, another pid namespace…): stay on the socket.
      return;
    }
    if (this.#pending.size > 0) this.#schedulePump();
  }

  #send(frame: Buffer): void {
    if (this.#link) return this.#link.send(frame);
    if (this.#io) {
      if (this.#sentSinceAsk !== undefined) this.#sentSinceAsk++;
      return this.#io.send(frame);
    }
    this.#queued.push(frame);
    this.connect().catch(() => {});
  }

  /** Sends the frame just encoded: into the link or the socket's batch, or queued until connected. */
  #sendEncoded(length: number): void {
    if (this.#link) return this.#link.sendEncoded(length);
    if (this.#io) {
      if (this.#sentSinceAsk !== undefined) this.#sentSinceAsk++;
      return this.#io.sendEncoded(length);
    }
    this.#send(encodedFrame(length));
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    void RESOLVED.then(this.#pumpTask);
  }

  /**
   * Takes the replies in the link's ring. Runs after the calls of this turn were written, so a
   * batch goes out whole; with nothing there yet it spins a little (a sequential caller's reply
   * comes within microseconds), and else leaves the wait to the server's poke.
   */
  #pump(): void {
    this.#pumpScheduled = false;
    const link = this.#link!;
    if (this.#failure || this.#pending.size === 0) return;
    if (!link.ready) {
      if (this.#turnStart === 0) {
        this.#turnStart = performance.now();
        setImmediate(this.#newTurn);
      } else if (performance.now() - this.#turnStart > TURN_MS) {
        // This turn has waited long enough: the event loop runs (timers, I/O), then the wait
        // goes on. The server need not wake this side for that, so it keeps its pace.
        this.#pumpScheduled = true;
        setImmediate(this.#pumpTask);
        return;
      }
      if (!link.await(replySpin, replyBlock) && link.sleep()) return;
    }
    if (!this.#takeReplies(link)) return;
    if (this.#pending.size > 0) this.#schedulePump();
  }

  /** False when the ring was broken (the connection is closed then). */
  #takeReplies(link: RingLink): boolean {
    try {
      link.drain(this.#onReplyFrame, Infinity);
      return true;
    } catch (error) {
      this.#io!.destroy(error as Error);
      return false;
    }
  }

  /** `message` is a request its caller has just built, its last member the args (fresh too). */
  #request(message: unknown[]): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure());
    const callId = this.#nextCall++;
    message[1] = callId;
    let length: number;
    try {
      length = encodeFreshFrame(message, 2);
    } catch (error) {
      return Promise.reject(cloneFailure(error, 'arguments'));
    }
    if (length > this.params.maxFrameBytes) {
      return Promise.reject(
        outOfRange('arguments', `at most ${this.params.maxFrameBytes} bytes once serialised (maxFrameBytes)`, `${length} bytes`),
      );
    }
    // Sent before anything else can be encoded over the frame.
    this.#sendEncoded(length);
    const promise = new Promise(takeResolvers);
    this.#pending.set(callId, { resolve: takenResolve, reject: takenReject });
    if (this.#pending.size === 1) this.#io?.ref();
    if (this.#link) this.#schedulePump();
    return promise;
  }

  call(id: number, method: string, args: unknown[]): Promise<unknown> {
    try {
      return this.#request([CALL, 0, id, method, isPrimitiveList(args) ? args : encodeArgs(this, args)]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  create(typeid: string, args: unknown[]): Promise<unknown> {
    try {
      return this.#request([CREATE, 0, typeid, isPrimitiveList(args) ? args : encodeArgs(this, args)]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  decref(id: number): void {
    if (this.#failure) return;
    if (this.#decrefs.push(id) === 1) {
      queueMicrotask(() => {
        const ids = this.#decrefs;
        this.#decrefs = [];
        if (!this.#failure) this.#send(valueFrame([DECREF, ids]));
      });
    }
  }

  lend(id: number): string {
    const lease = newLease();
    if (!this.#failure) this.#send(valueFrame([LEND, id, lease]));
    return lease;
  }

  adopt(id: number, lease: string): void {
    if (!this.#failure) this.#send(valueFrame([ADOPT, id, lease]));
  }

  close(): void {
    this.#fail(() => managerClosed());
    this.#io?.destroy();
  }

  #onFrame(data: Buffer, start: number, end: number): void {
    const link = this.#link;
    if (link !== undefined) {
      // What the manager wrote to the ring before it sent this frame comes first.
      if (!this.#takeReplies(link)) return;
      if (isPoke(data, start, end)) {
        if (this.#pending.size > 0) this.#schedulePump();
        return;
      }
      link.tookFromSocket();
    }
    this.#onReply(data, start, end);
  }

  #onReply(data: Buffer, start: number, end: number): void {
    let reply: unknown;
    try {
      reply = frameValue(data, start, end);
    } catch {
      return this.#io!.destroy(new Error('The manager sent a frame that could not be decoded'));
    }
    const pending = Array.isArray(reply) ? this.#pending.take(reply[0]) : undefined;
    if (!pending) return this.#io!.destroy(new Error('The manager sent a reply to no call'));
    if (this.#pending.size === 0) this.#io!.unref();
    // Indexed rather than destructured: array destructuring runs the iterator protocol.
    const ok = (reply as unknown[])[1];
    const value = (reply as unknown[])[2];
    if (ok !== 1)
      return pending.reject(isSerializedError(value) ? deserializeError(value) : new Error('A malformed error reply'));
    if (typeof value !== 'object' || value === null) return pending.resolve(value);
    try {
      pending.resolve(decodeTokens(value, (token) => makeProxy(this, token), end - start));
    } catch (error) {
      pending.reject(error);
    }
  }

  #fail(error: () => unknown): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#queued = [];
    this.#onFailed(this);
    for (const pending of this.#pending.drain()) pending.reject(error());
  }
}

/** Proxies of a manager served by this very thread. */
export class DirectChannel implements ProxyChannel {
  readonly params: ChannelParams;
  readonly core: ServerCore;
  readonly #pending = new Set<Pending>();
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(core: ServerCore, params: ChannelParams) {
    this.core = core;
    this.params = params;
    core.onClose(() => {
      for (const pending of this.#pending) pending.reject(managerClosed());
      this.#pending.clear();
      this.#settleOne();
    });
  }

  call(id: number, method: string, args: unknown[]): Promise<unknown> {
    return this.#run(args, (copy) => this.core.call(this.core.local, id, method, copy));
  }

  create(typeid: string, args: unknown[]): Promise<unknown> {
    return this.#run(args, (copy) => this.core.create(typeid, copy));
  }

  #run(args: unknown[], invoke: (copy: unknown[]) => unknown): Promise<unknown> {
    if (this.core.closed) return Promise.reject(managerClosed());
    let copy: unknown[];
    try {
      copy = isPrimitiveList(args) ? args : this.#cloneIn(args);
    } catch (error) {
      // The caller's own arguments failed to copy: that error is local, as over a socket.
      return Promise.reject(cloneFailure(error, 'arguments'));
    }
    let out: unknown;
    try {
      out = invoke(copy);
      if (!isThenable(out)) return Promise.resolve(this.#cloneOut(out));
    } catch (error) {
      return Promise.reject(crossed(error));
    }
    return this.#track(out);
  }

  /** Waits for an asynchronous method, keeping Node alive meanwhile (as a socket call would). */
  #track(out: PromiseLike<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject };
      this.#pending.add(pending);
      this.#keepAlive ??= setInterval(() => {}, 1 << 30);
      out.then(
        (value) => {
          if (!this.#pending.delete(pending)) return;
          this.#settleOne();
          try {
            resolve(this.#cloneOut(value));
          } catch (error) {
            reject(crossed(error));
          }
        },
        (error: unknown) => {
          if (!this.#pending.delete(pending)) return;
          this.#settleOne();
          reject(crossed(error));
        },
      );
    });
  }

  #settleOne(): void {
    if (this.#pending.size === 0 && this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  #cloneIn(args: unknown[]): unknown[] {
    return decodeTokens(structuredClone(encodeArgs(this, args)), this.core.fromToken) as unknown[];
  }

  #cloneOut(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const held: ServerRef[] = [];
    let copy: unknown;
    try {
      copy = structuredClone(
        encodeTokens(value, (v) => (v instanceof ServerRef ? (held.push(v), this.core.tokenOf(v)) : undefined)),
      );
    } catch (error) {
      throw new TypeError(`The result could not be sent to the client (${(error as Error).message})`, { cause: error });
    }
    for (const ref of held) this.core.incref(this.core.local, ref.id);
    return decodeTokens(copy, (token: Token) => makeProxy(this, token));
  }

  decref(id: number): void {
    this.core.decref(this.core.local, id);
  }

  lend(id: number): string {
    const lease = newLease();
    this.core.lend(id, lease);
    return lease;
  }

  adopt(id: number, lease: string): void {
    this.core.adopt(this.core.local, id, lease);
  }

  close(): void {
    // The thread's own channel lives as long as its server.
  }
}

/** Servers this thread runs, by address: proxies of theirs call them directly. */
const localServers = new Map<string, DirectChannel>();
/** This thread's connections to other managers, by address and key. */
const connections = new Map<string, SocketChannel>();

export function addLocalServer(channel: DirectChannel): void {
  const key = addressKey(channel.params.address);
  localServers.set(key, channel);
  channel.core.onClose(() => {
    if (localServers.get(key) === channel) localServers.delete(key);
  });
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const tlsIdentities = new WeakMap<object, string>();

/**
 * Connections are shared by the proxies of one manager only when they would be opened alike:
 * TLS options that serialise the same (a revived proxy brings a copy), or the very same object.
 */
function tlsKey(tls: ChannelParams['tls']): string {
  if (!tls) return 'plain';
  try {
    return createHash('sha256').update(serialize(tls)).digest('hex');
  } catch {
    let id = tlsIdentities.get(tls);
    if (!id) tlsIdentities.set(tls, (id = `object${randomBytes(8).toString('hex')}`));
    return id;
  }
}

/** The channel to the manager at `params.address`: direct when this thread serves it. */
export function channelFor(params: ChannelParams): DirectChannel | SocketChannel {
  const local = localServers.get(addressKey(params.address));
  if (local && sameKey(local.core.authkey, params.authkey)) return local;
  const key = `${addressKey(params.address)}#${tlsKey(params.tls)}#${params.authkey.toString('hex')}`;
  let channel = connections.get(key);
  if (!channel || channel.failed) {
    channel = new SocketChannel(params, (failed) => {
      if (connections.get(key) === failed) connections.delete(key);
    });
    connections.set(key, channel);
  }
  return channel;
}

/** Keys this thread has received with proxies, so `connect()` to that address needs none. */
const knownKeys = new Map<string, Buffer>();

export function knownAuthkey(address: Address): Buffer | undefined {
  return knownKeys.get(addressKey(address));
}

/**
 * A proxy arriving in a worker (a Pool task's argument, a Process's args, a result coming back)
 * is rebuilt around this thread's connection to its manager, and takes over the reference its
 * sender lent for the trip.
 */
function reviveProxy(state: unknown): unknown {
  const s = state as ProxyState;
  const authkey = Buffer.from(s.authkey);
  knownKeys.set(addressKey(s.address), authkey);
  const channel = channelFor({
    address: s.address,
    authkey,
    tls: s.tls,
    maxFrameBytes: s.maxFrameBytes,
    handshakeTimeout: s.handshakeTimeout,
  });
  channel.adopt(s.token.id, s.lease);
  return makeProxy(channel, s.token);
}

registerShareable(PROXY_SHARE_TYPE, reviveProxy);
