/**
 * A socket that carries frames: pulled one at a time with `recv()` during the handshake, then
 * pushed to a handler once the peer is authenticated. Frames sent in one turn of the event loop
 * go out in one write, so a burst of calls (or of replies) costs one system call.
 */
import type { Socket } from 'node:net';

import { copyFrame, FrameError, FrameReader } from './framing.js';

/** Above this, frames are written one by one (corked) rather than copied into one buffer. */
const JOIN_LIMIT = 64 * 1024;
/** The smallest batch buffer (small enough for Node's Buffer pool), and the largest. */
const MIN_BATCH = 2048;
const MAX_BATCH = 64 * 1024;
/** Flushes are scheduled on this (a promise reaction is cheaper than Node's queueMicrotask). */
const RESOLVED = Promise.resolve();

/**
 * Receives each frame as `data` from `start` to `end` (header included), valid only until it
 * returns (`data` may be a buffer the socket reads into again): no view is made per frame.
 */
export type FrameHandler = (data: Buffer, start: number, end: number) => void;

export class FrameSocket {
  readonly socket: Socket;
  readonly #reader: FrameReader;
  #out: Buffer[] = [];
  #outBytes = 0;
  /** Frames encoded this turn are copied one after another into this buffer, written in one go. */
  #batch: Buffer | undefined;
  #batchLength = 0;
  #batchSize = MIN_BATCH;
  /** The batch last handed to the socket, and that batch once its write finished (to reuse). */
  #sealed: Buffer | undefined;
  #spare: Buffer | undefined;
  #flushing = false;
  /** Inside #deliver, which flushes when it is done: frames queued meanwhile need no microtask. */
  #delivering = false;
  readonly #flushTask = () => this.#flush();
  #handler: FrameHandler | undefined;
  #waiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #closeListeners: ((error: Error | undefined) => void)[] = [];
  #error: Error | undefined;
  #closed = false;
  #paused = false;

  constructor(socket: Socket, limit: number) {
    this.socket = socket;
    this.#reader = new FrameReader(limit);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => this.#onClose());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes written and not yet handed to the OS (the server's cue to stop reading a client). */
  get backlog(): number {
    return this.socket.writableLength + this.#outBytes;
  }

  /** Bytes from the peer (the socket's 'data' events, or its `onread` callback). */
  receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    this.#deliver();
  }

  /**
   * Bytes from the peer in a buffer the caller reuses for its next read: frames are handed over
   * straight from it (each is decoded before the handler returns), and only what is left over is
   * copied. During the handshake a frame is awaited, so the chunk is copied first.
   */
  receiveBorrowed(chunk: Buffer): void {
    if (!this.#handler || this.#waiter || this.#paused) return this.receive(Buffer.from(chunk));
    this.#reader.push(chunk);
    this.#deliver();
    this.#reader.keepRest(chunk);
  }

  /** The largest frame accepted from the peer from now on. */
  setLimit(limit: number): void {
    this.#reader.limit = limit;
  }

  /** The next frame, during the handshake (only one `recv` at a time). */
  recv(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(this.#closedError());
      this.#waiter = { resolve, reject };
      this.#deliver();
    });
  }

  /** Hands every frame from now on (and those already received) to `handler`. */
  start(handler: FrameHandler): void {
    this.#handler = handler;
    queueMicrotask(() => this.#deliver());
  }

  onClose(listener: (error: Error | undefined) => void): void {
    if (this.#closed) queueMicrotask(() => listener(this.#error));
    else this.#closeListeners.push(listener);
  }

  send(frame: Buffer): void {
    if (this.#closed) return;
    this.#seal();
    this.#out.push(frame);
    this.#queued(frame.length);
  }

  /** Sends the frame just encoded (`encodeFrame`), copying it into this turn's batch. */
  sendEncoded(length: number): void {
    if (this.#closed) return;
    if (!this.#batch || this.#batchLength + length > this.#batch.length) {
      this.#seal();
      this.#batch = this.#newBatch(Math.max(length, this.#batchSize));
    }
    copyFrame(this.#batch, this.#batchLength, length);
    this.#batchLength += length;
    this.#queued(length);
  }

  #seal(): void {
    if (this.#batch && this.#batchLength > 0) {
      this.#out.push(this.#batch.subarray(0, this.#batchLength));
      this.#sealed = this.#batch;
    }
    this.#batch = undefined;
    this.#batchLength = 0;
  }

  /** Sequential calls write one small batch per turn: the same buffer serves them all. */
  #newBatch(size: number): Buffer {
    const spare = this.#spare;
    this.#spare = undefined;
    return spare !== undefined && spare.length >= size ? spare : Buffer.allocUnsafe(size);
  }

  #queued(bytes: number): void {
    this.#outBytes += bytes;
    if (!this.#flushing) {
      this.#flushing = true;
      if (!this.#delivering) void RESOLVED.then(this.#flushTask);
    }
  }

  /** Writes what is queued now rather than at the end of this turn. */
  flush(): void {
    if (this.#flushing) this.#flush();
  }

  /** Stops reading from the peer (its frames wait in the kernel) until `resume`. */
  pause(): void {
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.socket.resume();
    this.#deliver();
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Writes what is queued, then closes (destroyed after a second if the peer does not close). */
  end(): void {
    this.#flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes now; frames not yet written are dropped. */
  destroy(error?: Error): void {
    if (error) this.#error ??= error;
    this.socket.destroy();
  }

  #deliver(): void {
    const outer = this.#delivering;
    this.#delivering = true;
    try {
      this.#drain();
    } finally {
      this.#delivering = outer;
    }
    // The replies to the frames just handled go out now rather than in a microtask: Node's
    // stream bookkeeping (its nextTicks) would run first, and a sequential caller waits on this.
    if (this.#flushing && !outer && !this.socket.destroyed) this.#flush();
  }

  #drain(): void {
    try {
      while (!this.socket.destroyed) {
        if (this.#waiter) {
          const frame = this.#reader.next();
          if (!frame) return;
          const waiter = this.#waiter;
          this.#waiter = undefined;
          waiter.resolve(frame);
        } else if (this.#handler && !this.#paused) {
          const start = this.#reader.nextStart();
          if (start < 0) return;
          this.#handler(this.#reader.data, start, this.#reader.end);
        } else {
          return;
        }
      }
    } catch (error) {
      // A peer's bytes must never take the whole process down: whatever went wrong with this
      // connection's frames ends this connection only (a FrameError is the peer's fault; anything
      // else is a bug here, said as a warning).
      if (!(error instanceof FrameError))
        process.emitWarning(
          `napi-multiprocessing: a connection failed while handling a frame: ${String((error as Error)?.stack ?? error)}`,
        );
      this.destroy(error as Error);
    }
  }

  #flush(): void {
    this.#flushing = false;
    this.#seal();
    const frames = this.#out;
    const bytes = this.#outBytes;
    if (this.#closed || frames.length === 0) return;
    // The next batch is about as large as this turn's output was.
    this.#batchSize = Math.min(Math.max(bytes, MIN_BATCH), MAX_BATCH);
    this.#out = [];
    this.#outBytes = 0;
    if (frames.length === 1) {
      this.socket.write(frames[0]!);
    } else if (bytes <= JOIN_LIMIT) {
      this.socket.write(Buffer.concat(frames, bytes));
    } else {
      this.socket.cork();
      for (const frame of frames) this.socket.write(frame);
      this.socket.uncork();
    }
    // Nothing left in the stream: the kernel took every byte, so the batch may be written over.
    if (this.socket.writableLength === 0) this.#spare = this.#sealed;
    this.#sealed = undefined;
  }

  #closedError(): Error {
    return this.#error ?? new Error('The connection closed');
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    this.#outBytes = 0;
    this.#batch = undefined;
    this.#batchLength = 0;
    this.#sealed = this.#spare = undefined;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#closedError());
    for (const listener of this.#closeListeners.splice(0)) listener(this.#error);
  }
}
