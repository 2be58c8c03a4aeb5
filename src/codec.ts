/**
 * How Queue and Pipe messages become bytes.
 *
 * `v8.serialize` gives structured-clone semantics for everything, but costs microseconds per call
 * from JS (a Serializer object, a Buffer), more than the whole trip through shared memory. Most
 * messages are small JSON-like values, so those take a compact hand-written encoding: primitives,
 * plain objects and dense arrays, with no object seen twice (structured clone keeps shared and
 * cyclic references, which this format cannot express). Anything else (Map, Date, typed arrays,
 * errors, bigints, holes, repeated references, very large or deep values) goes to `v8.serialize`
 * whole, so the receiver always gets what structured clone would give.
 *
 * A message is `[u32 length][u8 tag][payload]`, written to a per-thread scratch Buffer. Encoding
 * and decoding finish synchronously, so one scratch per direction is enough as long as an async
 * caller copies its message before it waits.
 */
import { deserialize, serialize } from 'node:v8';

import { outOfRange } from './validate.js';

export const HEADER = 5;

/** Bytes of messages waiting in one queue at most; a single message may not exceed it. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

// Message tags (byte 4).
const M_V8 = 0;
const M_FAST = 1;
const M_BYTES = 2;

// Value tags inside the fast format.
const T_F64 = 1;
const T_I32 = 2;
const T_ASCII = 3;
const T_UTF8 = 4;
const T_TRUE = 5;
const T_FALSE = 6;
const T_NULL = 7;
const T_UNDEFINED = 8;
const T_ARRAY = 9;
const T_OBJECT = 10;

// Past these, v8.serialize costs little next to the value itself.
const FAST_MAX_NODES = 256;
const FAST_MAX_DEPTH = 16;
const FAST_MAX_STRING = 4096;

let out: Buffer = Buffer.allocUnsafeSlow(4096);
let input: Buffer = Buffer.allocUnsafeSlow(4096);

function grow(buffer: Buffer, n: number): Buffer {
  let size = buffer.length;
  while (size < n) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size);
  buffer.copy(bigger);
  return bigger;
}

/** The scratch the last encode wrote to (it is replaced when it grows). */
export function outBuffer(): Buffer {
  return out;
}

/** The input scratch, with room for `n` bytes. */
export function inBuffer(n: number): Buffer {
  if (n > input.length) input = grow(input, n);
  return input;
}

function checkSize(total: number): void {
  if (total > MAX_MESSAGE_BYTES) {
    throw outOfRange('message', `at most ${MAX_MESSAGE_BYTES} bytes once serialised`, `${total} bytes`);
  }
}

// --- fast encoder ---------------------------------------------------------------------------

class NotFast extends Error {}
const notFast = new NotFast();

let pos = 0;
let nodes = 0;
const seen: object[] = [];

function room(n: number): void {
  if (pos + n > out.length) out = grow(out, pos + n);
}

function writeString(s: string): void {
  const n = s.length;
  if (n > FAST_MAX_STRING) throw notFast;
  room(5 + 3 * n);
  const start = pos;
  let p = start + 5;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    out[p++] = c;
  }
  if (i === n) {
    out[start] = T_ASCII;
  } else {
    out[start] = T_UTF8;
    p = start + 5 + out.write(s, start + 5, 'utf8');
  }
  out.writeUInt32LE(p - start - 5, start + 1);
  pos = p;
}

function writeValue(v: unknown, depth: number): void {
  if (++nodes > FAST_MAX_NODES || depth > FAST_MAX_DEPTH) throw notFast;
  switch (typeof v) {
    case 'number':
      room(9);
      if ((v | 0) === v && !Object.is(v, -0)) {
        out[pos] = T_I32;
        out.writeInt32LE(v, pos + 1);
        pos += 5;
      } else {
        out[pos] = T_F64;
        out.writeDoubleLE(v, pos + 1);
        pos += 9;
      }
      return;
    case 'string':
      writeString(v);
      return;
    case 'boolean':
      room(1);
      out[pos++] = v ? T_TRUE : T_FALSE;
      return;
    case 'undefined':
      room(1);
      out[pos++] = T_UNDEFINED;
      return;
    case 'object': {
      if (v === null) {
        room(1);
        out[pos++] = T_NULL;
        return;
      }
      if (seen.includes(v)) throw notFast;
      seen.push(v);
      if (Array.isArray(v)) {
        const n = v.length;
        room(5);
        out[pos] = T_ARRAY;
        out.writeUInt32LE(n, pos + 1);
        pos += 5;
        for (let i = 0; i < n; i++) {
          const item = v[i];
          if (item === undefined && !(i in v)) throw notFast;
          writeValue(item, depth + 1);
        }
        return;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw notFast;
      room(5);
      const at = pos;
      out[pos] = T_OBJECT;
      pos += 5;
      let count = 0;
      for (const key in v) {
        writeString(key);
        writeValue((v as Record<string, unknown>)[key], depth + 1);
        count++;
      }
      out.writeUInt32LE(count, at + 1);
      return;
    }
    default:
      throw notFast;
  }
}

/** Encodes `value` into the output scratch; returns the message length (header included). */
export function encodeValue(value: unknown): number {
  pos = HEADER;
  nodes = 0;
  try {
    writeValue(value, 0);
    out[4] = M_FAST;
  } catch (error) {
    if (error !== notFast) throw error;
    let bytes: Buffer;
    try {
      bytes = serialize(value);
    } catch (cause) {
      // What postMessage and structuredClone throw for the same value.
      throw new DOMException((cause as Error).message, 'DataCloneError');
    }
    checkSize(HEADER + bytes.length);
    pos = HEADER;
    room(bytes.length);
    bytes.copy(out, HEADER);
    pos = HEADER + bytes.length;
    out[4] = M_V8;
  } finally {
    seen.length = 0;
  }
  checkSize(pos);
  out.writeUInt32LE(pos - 4, 0);
  return pos;
}

/** Encodes raw bytes (Connection.sendBytes); returns the message length. */
export function encodeBytes(bytes: Uint8Array): number {
  const total = HEADER + bytes.length;
  checkSize(total);
  pos = 0;
  room(total);
  out.set(bytes, HEADER);
  out[4] = M_BYTES;
  out.writeUInt32LE(total - 4, 0);
  return total;
}

// --- decoder -----------------------------------------------------------------------------------

let rpos = 0;
let rbuf: Buffer = input;

function readString(b: Buffer, ascii: boolean, start: number, n: number): string {
  if (ascii && n <= 12) {
    // Cheaper than a native call for a few characters.
    let s = '';
    for (let i = start; i < start + n; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  return b.toString(ascii ? 'latin1' : 'utf8', start, start + n);
}

// Object keys repeat from message to message. Handing back the same string each time spares V8
// hashing and internalising a fresh one for every property (half the decode time of small objects).
const KEY_CACHE_SIZE = 256;
const keyCache: (string | undefined)[] = new Array(KEY_CACHE_SIZE).fill(undefined);

function readKey(b: Buffer): string {
  const tag = b[rpos]!;
  const n = b.readUInt32LE(rpos + 1);
  const start = rpos + 5;
  rpos = start + n;
  if (tag !== T_ASCII || n > 32) return readString(b, tag === T_ASCII, start, n);
  let hash = n;
  for (let i = start; i < start + n; i++) hash = (Math.imul(hash, 31) + b[i]!) | 0;
  const slot = hash & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === n) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (cached.charCodeAt(i) !== b[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const key = readString(b, true, start, n);
  keyCache[slot] = key;
  return key;
}

function readValue(): unknown {
  const b = rbuf;
  const tag = b[rpos++];
  switch (tag) {
    case T_I32: {
      const v = b.readInt32LE(rpos);
      rpos += 4;
      return v;
    }
    case T_F64: {
      const v = b.readDoubleLE(rpos);
      rpos += 8;
      return v;
    }
    case T_ASCII:
    case T_UTF8: {
      const n = b.readUInt32LE(rpos);
      const start = rpos + 4;
      rpos = start + n;
      return readString(b, tag === T_ASCII, start, n);
    }
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_NULL:
      return null;
    case T_UNDEFINED:
      return undefined;
    case T_ARRAY: {
      const n = b.readUInt32LE(rpos);
      rpos += 4;
      const array = new Array(n);
      for (let i = 0; i < n; i++) array[i] = readValue();
      return array;
    }
    case T_OBJECT: {
      const n = b.readUInt32LE(rpos);
      rpos += 4;
      const object: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = readKey(b);
        object[key] = readValue();
      }
      return object;
    }
    default:
      throw new Error(`napi-multiprocessing: corrupt message (tag ${tag})`);
  }
}

/** Decodes the message in `b` (`length` = tag + payload, as in its header). */
export function decodeValue(b: Buffer, length: number): unknown {
  switch (b[4]) {
    case M_FAST:
      rpos = HEADER;
      rbuf = b;
      return readValue();
    case M_BYTES:
      return Buffer.from(b.subarray(HEADER, 4 + length));
    default:
      return deserialize(b.subarray(HEADER, 4 + length));
  }
}

/** The message in `b` as bytes (Connection.recvBytes). */
export function decodeBytes(b: Buffer, length: number): Buffer {
  if (b[4] === M_BYTES) return Buffer.from(b.subarray(HEADER, 4 + length));
  // A message sent with send(): hand back its serialised form, as Python hands back the pickle.
  return serialize(decodeValue(b, length));
}

/** Turns a received message into what the caller returns; runs before anything else can run. */
export type Decoder<T> = (b: Buffer, length: number) => T;
