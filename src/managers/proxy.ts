/**
 * Proxies: client-side handles of objects a manager holds. Every method returns a Promise.
 *
 * Each proxy stands for one reference counted by the server; when the proxy is garbage, a
 * FinalizationRegistry gives that reference back (batched), so objects nobody can reach any more
 * are freed. A proxy sent to a worker (Pool task, Process argument) travels as a description
 * holding the manager's address and key: the key reaches the worker only through its private
 * channel (workerData, or the IPC message carrying the task), never argv, env or a file.
 */
import { inspect } from 'node:util';

import { kShare, type ShareDescription } from '../reduction/transfer.js';
import type { ChannelParams } from './channel.js';
import { FORBIDDEN } from './registry.js';
import type { Token } from './wire.js';

/** @internal What a proxy needs from its connection (a socket, or this thread's own server). */
export interface ProxyChannel {
  readonly params: ChannelParams;
  /** `args` is an array just built for this call (a literal or rest parameter), shared with no one. */
  call(id: number, method: string, args: unknown[]): Promise<unknown>;
  create(typeid: string, args: unknown[]): Promise<unknown>;
  decref(id: number): void;
  /** Holds a reference for a description in transit; returns the lease the receiver presents. */
  lend(id: number): string;
  adopt(id: number, lease: string): void;
  close(): void;
}

/** Recognises proxies of either build (ESM and CommonJS) of the package. */
const kProxy = Symbol.for('napi-multiprocessing.managerProxy');

/** @internal */
export const PROXY_SHARE_TYPE = 'ManagerProxy';

/** @internal The state a proxy description carries to a worker. */
export interface ProxyState {
  address: ChannelParams['address'];
  authkey: Uint8Array;
  tls: ChannelParams['tls'];
  maxFrameBytes: number;
  handshakeTimeout: number;
  token: Token;
  lease: string;
}

const released = new FinalizationRegistry<{ channel: ProxyChannel; id: number }>(({ channel, id }) => channel.decref(id));

let channelOf: (proxy: BaseProxy) => ProxyChannel;
let tokenOf: (proxy: BaseProxy) => Token;

export class BaseProxy {
  readonly #channel: ProxyChannel;
  readonly #token: Token;

  static {
    channelOf = (proxy) => proxy.#channel;
    tokenOf = (proxy) => proxy.#token;
  }

  /** @internal Proxies are made by their manager (or arrive in a worker), never by `new`. */
  constructor(channel: ProxyChannel, token: Token) {
    this.#channel = channel;
    this.#token = token;
    released.register(this, { channel, id: token.id });
  }

  /** @internal */
  [kProxy](): { token: Token; params: ChannelParams } {
    return { token: this.#token, params: this.#channel.params };
  }

  /** @internal How a proxy crosses to a worker: see the module comment. */
  [kShare](): ShareDescription {
    const params = this.#channel.params;
    const state: ProxyState = {
      address: params.address,
      authkey: params.authkey,
      tls: params.tls,
      maxFrameBytes: params.maxFrameBytes,
      handshakeTimeout: params.handshakeTimeout,
      token: this.#token,
      lease: this.#channel.lend(this.#token.id),
    };
    return { type: PROXY_SHARE_TYPE, state, crossesProcesses: true };
  }

  get [Symbol.toStringTag](): string {
    return `${this.#token.typeid} proxy`;
  }

  [inspect.custom](): string {
    return `${this.constructor.name} { typeid: '${this.#token.typeid}', id: ${this.#token.id} }`;
  }
}

/** @internal Calls `method` of the proxy's referent in the manager. */
export function invoke(proxy: BaseProxy, method: string, args: unknown[]): Promise<unknown> {
  return channelOf(proxy).call(tokenOf(proxy).id, method, args);
}

/** @internal The token and connection parameters of a proxy (of either build), or undefined. */
export function proxyToken(value: object): { token: Token; params: ChannelParams } | undefined {
  const brand = (value as { [kProxy]?: unknown })[kProxy];
  return typeof brand === 'function' ? (brand.call(value) as { token: Token; params: ChannelParams }) : undefined;
}

type ProxyClass = new (channel: ProxyChannel, token: Token) => BaseProxy;

const kinds = new Map<string, ProxyClass>();
const generic = new Map<string, ProxyClass>();

/** @internal The typed proxy class of a built-in type (DictProxy for 'dict'…). */
export function registerProxyKind(kind: string, cls: ProxyClass): void {
  kinds.set(kind, cls);
}

/** A proxy class whose methods are the exposed names (Python's AutoProxy). */
function genericClass(exposed: readonly string[]): ProxyClass {
  const key = exposed.join('\u0000');
  let cls = generic.get(key);
  if (!cls) {
    cls = class AutoProxy extends BaseProxy {};
    for (const name of exposed) {
      if (FORBIDDEN.has(name)) continue;
      Object.defineProperty(cls.prototype, name, {
        value: function (this: BaseProxy, ...args: unknown[]) {
          return invoke(this, name, args);
        },
        writable: true,
        configurable: true,
      });
    }
    generic.set(key, cls);
  }
  return cls;
}

/** @internal */
export function makeProxy(channel: ProxyChannel, token: Token): BaseProxy {
  const cls = (token.kind !== undefined ? kinds.get(token.kind) : undefined) ?? genericClass(token.exposed);
  return new cls(channel, token);
}

/** The typed form of a proxy of `T`: each method of `T`, returning a Promise of its result. */
export type Proxied<T> = BaseProxy & {
  [K in keyof T as K extends string ? (T[K] extends (...args: never[]) => unknown ? K : never) : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};
