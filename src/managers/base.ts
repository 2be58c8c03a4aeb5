/**
 * BaseManager: Python's `multiprocessing.managers.BaseManager`, serving from the thread that
 * starts it.
 *
 * Python starts a server process, which then can outlive its parent (gh-81158) and cannot see
 * the parent's closures. Here `start()` serves from the calling thread's event loop: factories may
 * be closures, the manager ends with the process (or worker thread) that started it, and its
 * socket directory is removed then. Serving alone does not keep Node alive; `serveForever()` does,
 * until the manager is shut down.
 */
import type { ConnectionOptions, TlsOptions } from 'node:tls';

import { codedError } from '../errors.js';
import { MAX_MESSAGE_BYTES } from '../reduction/codec.js';
import { invalidType, validateInteger, validateObject } from '../validate.js';
import { type Address, privateAddress, removeDir, validateAddress } from '../connection/address.js';
import { Listener } from '../connection/listener.js';
import {
  addLocalServer,
  channelFor,
  DirectChannel,
  knownAuthkey,
  managerClosed,
  SocketChannel,
  type ChannelParams,
} from './channel.js';
import { checkOptions } from './options.js';
import type { Proxied } from './proxy.js';
import { FORBIDDEN, makeRegistration, type RegisterOptions, type Registration } from './registry.js';
import { newAuthkey, ServerCore } from './server.js';

export interface BaseManagerOptions {
  /** Where to serve or connect: a socket path or `{ host, port }` (port 0: any free port). Default: a private socket. */
  address?: Address;
  /** The shared secret of the handshake. Default: 32 random bytes (a key received with a proxy, for `connect()`). */
  authkey?: string | Uint8Array;
  /** TLS for the connections: server options for `start()`, client options for `connect()`. */
  tls?: TlsOptions & ConnectionOptions;
  /** The largest message accepted, in bytes (default 64 MiB); a larger one closes its connection. */
  maxFrameBytes?: number;
  /** A connection that has not authenticated within this many ms is closed (default 5000). */
  handshakeTimeout?: number;
}

const OPTIONS = ['address', 'authkey', 'tls', 'maxFrameBytes', 'handshakeTimeout'];
const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;
const DEFAULT_HANDSHAKE_MS = 5000;

const registries = new WeakMap<object, Map<string, Registration>>();

function registryOf(cls: object): Map<string, Registration> {
  for (let c: object | null = cls; c; c = Object.getPrototypeOf(c)) {
    const registry = registries.get(c);
    if (registry) return registry;
  }
  return new Map();
}

/** Private socket directories to remove if the process exits without shutting its managers down. */
const leftovers = new Set<string>();
let exitHookInstalled = false;
function removeAtExit(dir: string | undefined): void {
  if (!dir) return;
  leftovers.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const leftover of leftovers) removeDir(leftover);
  });
}

function toAuthkey(value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw invalidType('options.authkey', 'a string or a Uint8Array', value);
}

type State = 'initial' | 'starting' | 'started' | 'connected' | 'shutdown';

export class BaseManager {
  /**
   * Registers `typeid` on this class (and its subclasses): with a factory, a started manager
   * creates objects of it; without, a connected client may still ask the server for it.
   * Instances get a method named `typeid` (unless `createMethod: false`); `manager.proxy<T>(typeid)`
   * is the typed form.
   */
  static register(typeid: string, factory?: (...args: never[]) => unknown, options?: RegisterOptions): void {
    BaseManager.addRegistration(this, makeRegistration(typeid, factory, options));
  }

  /** @internal */
  static addRegistration(cls: object, registration: Registration): void {
    const { typeid } = registration;
    if (FORBIDDEN.has(typeid) || typeid in BaseManager.prototype) {
      const error = new TypeError(`The typeid '${typeid}' would replace a method every manager needs`) as TypeError & {
        code: string;
      };
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
    let registry = registries.get(cls);
    if (!registry) registries.set(cls, (registry = new Map(registryOf(cls))));
    registry.set(typeid, registration);
    if (registration.createMethod) {
      Object.defineProperty((cls as { prototype: object }).prototype, typeid, {
        value: function (this: BaseManager, ...args: unknown[]) {
          return this.proxy(typeid, ...args);
        },
        writable: true,
        configurable: true,
      });
    }
  }

  readonly #options: BaseManagerOptions;
  readonly #authkey: Buffer | undefined;
  #state: State = 'initial';
  #ready: Promise<void> | undefined;
  #channel: DirectChannel | SocketChannel | undefined;
  #core: ServerCore | undefined;
  #listener: Listener | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: BaseManagerOptions = {}) {
    validateObject(options, 'options');
    checkOptions(options, OPTIONS, 'options');
    if (options.address !== undefined) validateAddress(options.address, 'options.address');
    if (options.tls !== undefined) validateObject(options.tls, 'options.tls');
    if (options.maxFrameBytes !== undefined)
      validateInteger(options.maxFrameBytes, 'options.maxFrameBytes', 1024, MAX_MESSAGE_BYTES);
    if (options.handshakeTimeout !== undefined) validateInteger(options.handshakeTimeout, 'options.handshakeTimeout', 1);
    this.#authkey = toAuthkey(options.authkey);
    this.#options = { ...options };
  }

  /** The address served or connected to (the real port once started with port 0). */
  get address(): Address | undefined {
    return this.#channel?.params.address ?? this.#options.address;
  }

  #transport(address: Address, authkey: Buffer): ChannelParams {
    return {
      address,
      authkey,
      tls: this.#options.tls,
      maxFrameBytes: this.#options.maxFrameBytes ?? DEFAULT_MAX_FRAME,
      handshakeTimeout: this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_MS,
    };
  }

  #begin(what: string): void {
    if (this.#state === 'shutdown') throw managerClosed();
    if (this.#state !== 'initial')
      throw codedError('ERR_ALREADY_STARTED', `Cannot ${what}: this manager has already started or connected`);
  }

  /** Starts serving from this thread's event loop. */
  start(): Promise<void> {
    try {
      this.#begin('start');
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'starting';
    this.#ready = this.#serve();
    return this.#ready;
  }

  async #serve(): Promise<void> {
    const authkey = this.#authkey ?? newAuthkey();
    const core = new ServerCore({ registry: registryOf(this.constructor), authkey });
    const own = this.#options.address === undefined ? privateAddress() : undefined;
    const requested = own?.path ?? this.#options.address!;
    const params = this.#transport(requested, authkey);
    let listener: Listener;
    try {
      listener = await Listener.listen(requested, authkey, params, (io) => core.accept(io));
    } catch (error) {
      removeDir(own?.dir);
      this.#state = 'shutdown';
      throw error;
    }
    listener.unref();
    removeAtExit(own?.dir);
    this.#core = core;
    this.#listener = listener;
    this.#channel = new DirectChannel(core, { ...params, address: listener.address });
    addLocalServer(this.#channel);
    this.#closed = new Promise((resolve) => {
      core.onClose(() => {
        listener.close().then(() => {
          removeDir(own?.dir);
          if (own?.dir) leftovers.delete(own.dir);
          resolve();
        }, resolve);
      });
    });
    // shutdown() called meanwhile waits for this, then closes the server.
    if (this.#state === 'starting') this.#state = 'started';
  }

  /** Connects to a manager already serving at `address` (AuthenticationError on a wrong key). */
  connect(): Promise<void> {
    try {
      this.#begin('connect');
      if (this.#options.address === undefined) throw invalidType('options.address', 'an address to connect to', undefined);
    } catch (error) {
      return Promise.reject(error);
    }
    const address = this.#options.address;
    const authkey = this.#authkey ?? knownAuthkey(address);
    if (!authkey) return Promise.reject(invalidType('options.authkey', 'the key of the manager to connect to', undefined));
    this.#state = 'starting';
    const channel = channelFor(this.#transport(address, authkey));
    this.#ready = (channel instanceof SocketChannel ? channel.connect() : Promise.resolve()).then(
      () => {
        this.#channel = channel;
        this.#state = 'connected';
      },
      (error: unknown) => {
        this.#state = 'shutdown';
        throw error;
      },
    );
    return this.#ready;
  }

  /** The server of this manager: `await getServer().serveForever()` serves until shut down. */
  getServer(): ManagerServer {
    return new ManagerServer(this, {
      ensure: () => this.#ensure(),
      core: () => this.#core,
      listener: () => this.#listener,
      closed: () => this.#closed,
    });
  }

  #ensure(): Promise<void> {
    if (this.#state === 'initial') return this.start();
    return this.#ready ?? Promise.reject(managerClosed());
  }

  /** Creates an object of `typeid` in the manager; starts the manager first if needed. */
  async proxy<T = unknown>(typeid: string, ...args: unknown[]): Promise<Proxied<T>> {
    if (typeof typeid !== 'string') throw invalidType('typeid', 'of type string', typeid);
    await this.#ensure();
    if (this.#state === 'shutdown' || !this.#channel) throw managerClosed();
    return (await this.#channel.create(typeid, args)) as Proxied<T>;
  }

  /**
   * Stops serving (every connection closes, every object is freed, the socket is removed) or,
   * for a connected manager, closes this thread's connection to it. Pending and later proxy calls
   * reject with ERR_MANAGER_CLOSED. Settles even while clients are connected.
   */
  async shutdown(): Promise<void> {
    if (this.#state === 'shutdown') return this.#closed;
    this.#state = 'shutdown';
    await this.#ready?.catch(() => {});
    if (this.#core) {
      this.#core.close();
      await this.#closed;
    } else {
      this.#channel?.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

interface ServerAccess {
  ensure(): Promise<void>;
  core(): ServerCore | undefined;
  listener(): Listener | undefined;
  closed(): Promise<void> | undefined;
}

/** A manager's server as `getServer()` gives it. */
export class ManagerServer {
  readonly #manager: BaseManager;
  readonly #access: ServerAccess;

  /** @internal */
  constructor(manager: BaseManager, access: ServerAccess) {
    this.#manager = manager;
    this.#access = access;
  }

  get address(): Address | undefined {
    return this.#manager.address;
  }

  /** Serves (starting first if needed) and keeps Node alive; settles once the manager shuts down. */
  async serveForever(): Promise<void> {
    await this.#access.ensure();
    const listener = this.#access.listener();
    if (!listener) throw codedError('ERR_MANAGER_CONNECTED', 'A connected manager has no server of its own to serve');
    listener.ref();
    await this.#access.closed();
  }

  shutdown(): Promise<void> {
    return this.#manager.shutdown();
  }

  /** How many objects the manager holds now. */
  numberOfObjects(): number {
    return this.#access.core()?.numberOfObjects ?? 0;
  }
}
