/**
 * Python's `multiprocessing.Pipe()` between threads: two `Connection` ends over shared ring
 * buffers. Either end can be passed to a worker (as a task argument) and used there.
 *
 * `send` is synchronous (like `port.postMessage`: the message is in shared memory when it returns);
 * `recv`/`recvBytes`/`poll` return Promises and never block the event loop, with `…Sync` forms for
 * workers. Once an end is closed, the other end receives what was already sent, then `EOFError`.
 */
import { codedError } from '../errors.js';
import { isMainThread } from 'node:worker_threads';

import { decodeBytes, decodeValue, encodeBytes, encodeValue, outBuffer, type Decoder } from '../reduction/codec.js';
import { outboxOf, type Outbox } from '../shm/outbox.js';
import { BUSY, EMPTY, Ring, type RingState } from '../shm/ring.js';
import { kShare, registerShareable, type ShareDescription } from '../reduction/transfer.js';
import { invalidType, validateInteger, validateTimeout } from '../validate.js';
import { Deadline, FOREVER, reviveWith, runAsync, runSync, sharedId, takeRevival } from '../shm/waiting.js';

interface ConnectionState {
  id: string;
  send: RingState | null;
  recv: RingState | null;
}

function epipe(): Error {
  return codedError('EPIPE', 'The other end of the pipe is closed');
}

function toBytes(buf: unknown, offset: unknown, size: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) bytes = new Uint8Array(buf);
  else if (ArrayBuffer.isView(buf)) bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  else throw invalidType('buf', 'an instance of Buffer, TypedArray, DataView or ArrayBuffer', buf);
  const start = validateInteger(offset, 'offset', 0, bytes.length);
  const length = size === undefined ? bytes.length - start : validateInteger(size, 'size', 0, bytes.length - start);
  return bytes.subarray(start, start + length);
}

/** One end of a Pipe. */
export class Connection<T = unknown> implements Disposable {
  readonly #send: Ring | null;
  readonly #outbox: Outbox | null;
  readonly #recv: Ring | null;
  readonly #id: string;
  #closed = false;

  /** @internal Use `Pipe()`. */
  constructor(send?: Ring | null, recv?: Ring | null) {
    const revival = takeRevival<ConnectionState>();
    this.#send = revival ? revival.send && Ring.adopt(revival.send) : (send ?? null);
    this.#recv = revival ? revival.recv && Ring.adopt(revival.recv) : (recv ?? null);
    this.#outbox = this.#send && outboxOf(this.#send);
    this.#id = sharedId(this, revival);
  }

  get closed(): boolean {
    return this.#closed;
  }
  get readable(): boolean {
    return this.#recv !== null;
  }
  get writable(): boolean {
    return this.#send !== null;
  }

  #writer(): Ring {
    if (this.#closed) throw codedError('ERR_CONNECTION_CLOSED', 'This Connection is closed');
    if (!this.#send) throw codedError('ERR_CONNECTION_READ_ONLY', 'This end of a one-way Pipe can only receive');
    if (this.#send.readerClosed()) throw epipe();
    return this.#send;
  }

  #reader(): Ring {
    if (this.#closed) throw codedError('ERR_CONNECTION_CLOSED', 'This Connection is closed');
    if (!this.#recv) throw codedError('ERR_CONNECTION_WRITE_ONLY', 'This end of a one-way Pipe can only send');
    return this.#recv;
  }

  #put(n: number): void {
    this.#send!.tryAccept(false);
    // Never waits: what does not fit yet is flushed from this thread as the reader makes room. A
    // worker streams a message larger than the whole ring synchronously instead.
    this.#outbox!.send(outBuffer(), n, isMainThread ? 'defer' : 'block');
  }

  /** Sends a structured-cloneable value to the other end. */
  send(obj: T): void {
    this.#writer();
    this.#put(encodeValue(obj));
  }

  /** Sends bytes (`size` bytes from `offset`, default all) as one message. */
  sendBytes(buf: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, offset = 0, size?: number): void {
    this.#writer();
    this.#put(encodeBytes(toBytes(buf, offset, size)));
  }

  #receive<R>(decode: Decoder<R>): R | typeof EMPTY | typeof BUSY {
    return this.#reader().tryTake(decode);
  }

  /** The next value sent by the other end; rejects with EOFError once it closed and all is read. */
  async recv(): Promise<T> {
    const got = this.#receive(decodeValue);
    if (got !== EMPTY && got !== BUSY) return got as T;
    return (await runAsync(this.#recv!.takeSteps(FOREVER, false, decodeValue))) as T;
  }

  recvSync(): T {
    const got = this.#receive(decodeValue);
    if (got !== EMPTY && got !== BUSY) return got as T;
    return runSync(this.#recv!.takeSteps(FOREVER, true, decodeValue)) as T;
  }

  /** The next message as bytes (a Buffer). `maxlength`: reject longer messages (they are dropped). */
  async recvBytes(maxlength?: number): Promise<Buffer> {
    const decode = bytesDecoder(maxlength);
    const got = this.#receive(decode);
    if (got !== EMPTY && got !== BUSY) return got;
    return runAsync(this.#recv!.takeSteps(FOREVER, false, decode));
  }

  recvBytesSync(maxlength?: number): Buffer {
    const decode = bytesDecoder(maxlength);
    const got = this.#receive(decode);
    if (got !== EMPTY && got !== BUSY) return got;
    return runSync(this.#recv!.takeSteps(FOREVER, true, decode));
  }

  /**
   * Whether `recv` would return without waiting (a message, or EOF, is there), waiting up to
   * `timeout` ms for it (default 0: just look; `null`: wait as long as it takes).
   */
  async poll(timeout: number | null = 0): Promise<boolean> {
    const ring = this.#reader();
    return runAsync(ring.pollSteps(new Deadline(checkPollTimeout(timeout))));
  }

  pollSync(timeout: number | null = 0): boolean {
    const ring = this.#reader();
    return runSync(ring.pollSteps(new Deadline(checkPollTimeout(timeout))));
  }

  /** Closes this end: the other end gets EOFError after the messages already sent. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The reader gets EOF only after every message sent before close().
    this.#outbox?.closeWriterWhenDrained();
    this.#recv?.closeReader();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal The transfer protocol (see transfer.ts). */
  [kShare](): ShareDescription {
    if (this.#closed) throw codedError('ERR_CONNECTION_CLOSED', 'A closed Connection cannot be sent to another thread');
    const state: ConnectionState = { id: this.#id, send: this.#send?.state ?? null, recv: this.#recv?.state ?? null };
    return { type: 'Connection', state };
  }
}

function bytesDecoder(maxlength: number | undefined): Decoder<Buffer> {
  if (maxlength === undefined) return decodeBytes;
  validateInteger(maxlength, 'maxlength', 0);
  return (b, length) => {
    // length counts the tag byte too.
    if (length - 1 > maxlength) {
      throw codedError(
        'ERR_MESSAGE_TOO_LONG',
        `The message (${length - 1} bytes) is longer than maxlength (${maxlength}); it was discarded`,
      );
    }
    return decodeBytes(b, length);
  };
}

function checkPollTimeout(timeout: unknown): number | undefined {
  if (timeout === null) return undefined;
  if (timeout === undefined) return 0;
  return validateTimeout(timeout, 'timeout');
}

/**
 * Two connected ends. Duplex (default): both send and receive. `Pipe(false)`: the first end only
 * receives, the second only sends (as in Python).
 */
export function Pipe<T = unknown>(duplex = true): [Connection<T>, Connection<T>] {
  if (typeof duplex !== 'boolean') throw invalidType('duplex', 'of type boolean', duplex);
  if (duplex) {
    const ab = new Ring();
    const ba = new Ring();
    return [new Connection<T>(ab, ba), new Connection<T>(ba, ab)];
  }
  const ring = new Ring();
  return [new Connection<T>(null, ring), new Connection<T>(ring, null)];
}

registerShareable('Connection', (state) => reviveWith((state as ConnectionState).id, state, () => new Connection()));
