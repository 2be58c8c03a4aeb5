/**
 * Python's `multiprocessing.connection` Listener and Client: a listening socket whose every
 * accepted connection must pass the authkey handshake before a single frame of it is read as a
 * message, and the client side of the same. TLS (node:tls) wraps either when asked, for networks
 * you do not trust: the handshake proves who holds the key but does not hide the traffic.
 */
import { connect as netConnect, createServer as netServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsServer, type ConnectionOptions, type TlsOptions } from 'node:tls';

import { type Address } from './address.js';
import { handshake, HANDSHAKE_FRAME_LIMIT } from './auth.js';
import { FrameSocket } from './frame_socket.js';

export interface TransportOptions {
  /** Server options (node:tls createServer) when listening, client options (tls.connect) when dialling. */
  tls?: TlsOptions & ConnectionOptions;
  /** The largest frame accepted from an authenticated peer. */
  maxFrameBytes: number;
  /** A connection that has not finished the handshake by then is closed. */
  handshakeTimeout: number;
}

export class Listener {
  readonly #server: Server;
  readonly #sockets: Set<Socket>;
  readonly address: Address;

  private constructor(server: Server, address: Address, sockets: Set<Socket>) {
    this.#server = server;
    this.address = address;
    this.#sockets = sockets;
  }

  /**
   * Listens at `address` and hands each authenticated connection to `onConnection`. Connections
   * that fail or do not finish the handshake are closed and never reach it.
   */
  static async listen(
    address: Address,
    authkey: Uint8Array,
    options: TransportOptions,
    onConnection: (socket: FrameSocket) => void,
  ): Promise<Listener> {
    const sockets = new Set<Socket>();
    const accept = (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      if (typeof address !== 'string') socket.setNoDelay(true);
      const io = new FrameSocket(socket, HANDSHAKE_FRAME_LIMIT);
      handshake(io, authkey, 'server', options.handshakeTimeout).then(
        () => {
          io.setLimit(options.maxFrameBytes);
          onConnection(io);
        },
        () => {
          // Closed by `handshake`; the client learns why from the FAILURE frame (if any).
        },
      );
    };
    const server = options.tls
      ? tlsServer({ handshakeTimeout: options.handshakeTimeout, ...options.tls }, accept)
      : netServer(accept);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const ready = () => {
        server.off('error', reject);
        resolve();
      };
      if (typeof address === 'string') server.listen(address, ready);
      else server.listen(address.port, address.host, ready);
    });
    // An error after listening (EMFILE on accept…) must not crash the process; accept goes on.
    server.on('error', () => {});
    const bound = server.address();
    const actual =
      typeof address === 'string' || bound === null || typeof bound === 'string'
        ? address
        : { host: address.host, port: bound.port };
    return new Listener(server, actual, sockets);
  }

  ref(): void {
    this.#server.ref();
  }

  unref(): void {
    this.#server.unref();
  }

  /** Stops accepting and closes every connection it accepted; settles once all are closed. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }
}

/** Connects to `address` and runs the client side of the handshake (AuthenticationError on a wrong key). */
export async function dial(address: Address, authkey: Uint8Array, options: TransportOptions): Promise<FrameSocket> {
  let io: FrameSocket | undefined;
  const socket = await new Promise<Socket>((resolve, reject) => {
    const target = typeof address === 'string' ? { path: address } : { host: address.host, port: address.port };
    const secure = options.tls !== undefined;
    // A plain socket reads into one reused buffer and hands the bytes over directly, skipping
    // the stream machinery: a sequential call's round trip is mostly such small reads.
    const scratch = Buffer.allocUnsafe(64 * 1024);
    const onread = {
      buffer: scratch,
      callback: (n: number) => {
        io!.receiveBorrowed(scratch.subarray(0, n));
        return true;
      },
    };
    const socket: Socket = secure ? tlsConnect({ ...options.tls, ...target }) : netConnect({ ...target, onread });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
  if (typeof address !== 'string') {
    socket.setNoDelay(true);
    // A peer that vanishes without closing (a host gone from the network) is found out, in time.
    socket.setKeepAlive(true, 10_000);
  }
  io = new FrameSocket(socket, HANDSHAKE_FRAME_LIMIT);
  await handshake(io, authkey, 'client', options.handshakeTimeout);
  io.setLimit(options.maxFrameBytes);
  return io;
}
