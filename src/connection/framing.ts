/**
 * Length-prefixed frames over a byte stream (a Unix socket, a named pipe, TCP or TLS).
 *
 * A frame is exactly one message of the queue codec (`src/reduction/codec.ts`): `[u32 LE length][u8 tag]
 * [payload]`, where `length` counts the tag and the payload. So the compact encoding that Queue
 * and Pipe use for small JSON-like values, and its `v8.serialize` fall-back for everything else,
 * serve the manager protocol too; `encodeBytes` frames the raw bytes of the handshake.
 *
 * The reader refuses a frame whose announced length is over its limit before reading it, so a
 * peer cannot make this side buffer more than the limit.
 */
import { decodeValue, encodeBytes, encodeFresh, encodeValue, HEADER, outBuffer } from '../reduction/codec.js';

const EMPTY = Buffer.alloc(0);

/** Thrown by `FrameReader.next` for a frame that announces more than the limit, or nothing. */
export class FrameError extends Error {}

/** Copies the codec's last message out of its scratch buffer (the socket writes later). */
function copyOut(length: number): Buffer {
  const frame = Buffer.allocUnsafe(length);
  outBuffer().copy(frame, 0, 0, length);
  return frame;
}

/** One value as a frame; throws DataCloneError for what structured clone cannot carry. */
export function valueFrame(value: unknown): Buffer {
  return copyOut(encodeValue(value));
}

/**
 * Encodes one value as a frame into the codec's scratch buffer and returns its length; the frame
 * must be copied out (`copyFrame`) before anything else is encoded.
 */
export function encodeFrame(value: unknown): number {
  return encodeValue(value);
}

/**
 * `encodeFrame` of an array the caller has just built and shares with no one (a request or a
 * reply), skipping checks that cannot fail for it; `fresh` 2: so is its last member (the args).
 */
export function encodeFreshFrame(items: readonly unknown[], fresh: 1 | 2): number {
  return encodeFresh(items, fresh);
}

export function copyFrame(target: Buffer, offset: number, length: number): void {
  const source = outBuffer();
  // A manager's request or reply is a few dozen bytes: a loop beats Buffer#copy's native call.
  if (length <= 64) for (let i = 0; i < length; i++) target[offset + i] = source[i]!;
  else source.copy(target, offset, 0, length);
}

/** The frame last encoded, as a Buffer of its own. */
export function encodedFrame(length: number): Buffer {
  return copyOut(length);
}

/** Raw bytes as a frame. */
export function bytesFrame(bytes: Uint8Array): Buffer {
  return copyOut(encodeBytes(bytes));
}

/** The value in a frame produced by `valueFrame`, at `start` to `end` of `data` (any decoding failure throws). */
export function frameValue(data: Buffer, start = 0, end = data.length): unknown {
  return decodeValue(data, end - start - 4, start);
}

const BYTES_TAG = bytesFrame(new Uint8Array(0))[4];

/**
 * The bytes in a frame produced by `bytesFrame`, or undefined for any other frame. Nothing is
 * decoded: the handshake reads raw bytes only, before the peer has proven anything.
 */
export function frameBytes(frame: Buffer): Buffer | undefined {
  return frame[4] === BYTES_TAG ? frame.subarray(HEADER) : undefined;
}

/**
 * Cuts a stream of chunks into frames, pulled one at a time with `next()`, so that a caller can
 * stop between two frames (the handshake hands the rest over to the protocol that follows it).
 */
export class FrameReader {
  /** Bytes received and not yet returned as frames, from `offset` on. */
  #buffer: Buffer = EMPTY;
  #offset = 0;
  /** Chunks of one big frame, joined once it is complete (no quadratic copying). */
  #parts: Buffer[] = [];
  #partBytes = 0;
  #needed = 0;

  constructor(public limit: number) {}

  push(chunk: Buffer): void {
    if (this.#needed > 0) {
      this.#parts.push(chunk);
      this.#partBytes += chunk.length;
      if (this.#partBytes >= this.#needed) {
        this.#buffer = Buffer.concat(this.#parts, this.#partBytes);
        this.#offset = 0;
        this.#parts = [];
        this.#partBytes = 0;
        this.#needed = 0;
      }
      return;
    }
    if (this.#offset >= this.#buffer.length) {
      this.#buffer = chunk;
    } else {
      this.#buffer = Buffer.concat([this.#buffer.subarray(this.#offset), chunk]);
    }
    this.#offset = 0;
  }

  /**
   * Copies whatever is left of `chunk` (pushed without a copy, a buffer the caller reuses) into
   * memory of the reader's own, so that the caller may overwrite `chunk` from now on.
   */
  keepRest(chunk: Buffer): void {
    // No local named closure here: the library build (keepNames) would name it on every call,
    // and this runs once per reply a client receives.
    if (this.#needed > 0) {
      this.#parts = this.#parts.map((part) => (part.buffer === chunk.buffer ? Buffer.from(part) : part));
    } else if (this.#offset >= this.#buffer.length) {
      this.#buffer = EMPTY;
      this.#offset = 0;
    } else if (this.#buffer.buffer === chunk.buffer) {
      this.#buffer = Buffer.from(this.#buffer.subarray(this.#offset));
      this.#offset = 0;
    }
  }

  /** The next complete frame (header included), or undefined until more bytes arrive. */
  next(): Buffer | undefined {
    const start = this.nextStart();
    return start < 0 ? undefined : this.#buffer.subarray(start, this.#offset);
  }

  /** The buffer the frame found by `nextStart` is in, ending at `end`. */
  get data(): Buffer {
    return this.#buffer;
  }

  get end(): number {
    return this.#offset;
  }

  /**
   * Where in `data` the next complete frame starts (it ends at `end`), or -1 until more bytes
   * arrive: `next()` without making a view of the frame.
   */
  nextStart(): number {
    if (this.#needed > 0) return -1;
    const available = this.#buffer.length - this.#offset;
    if (available < 4) return -1;
    const length = this.#buffer.readUInt32LE(this.#offset);
    if (length + 4 > this.limit) throw new FrameError(`A frame of ${length + 4} bytes is over the limit of ${this.limit} bytes`);
    if (length < 1) throw new FrameError('An empty frame');
    const total = length + 4;
    if (available < total) {
      // Wait for the rest of a big frame in parts rather than re-joining at every chunk.
      if (total > 64 * 1024) {
        this.#parts = [this.#buffer.subarray(this.#offset)];
        this.#partBytes = available;
        this.#needed = total;
        this.#buffer = EMPTY;
        this.#offset = 0;
      }
      return -1;
    }
    const start = this.#offset;
    this.#offset += total;
    return start;
  }
}
