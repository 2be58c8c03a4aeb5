/**
 * How Queue and Pipe messages become bytes. What comes out is what `structuredClone` gives for
 * the same value, and what `structuredClone` refuses is refused at the put, with its error.
 *
 * Why not V8's serializer alone (Node's structured clone, exact by construction)? It costs
 * microseconds per message from JS (a Serializer and a Deserializer object, a Buffer each way).
 * Measured on Node 20: an encode+decode round trip of a small integer took 20 to 30 times as long
 * as this file's compact encoding, of a small object about 4 times; a Queue moved 10 to 20 times
 * fewer integers or short strings per second, 2 to 4 times fewer small objects. Most messages are
 * small JSON-like values, so those take the compact encoding, kept only where it is identical to
 * structured clone: numbers, booleans, null, undefined, well-formed strings, and plain objects
 * and dense arrays (no proxies, no `__proto__` key, no array extra properties, no object seen
 * twice). Anything else (Map, Date, typed arrays, errors, bigints, holes, lone surrogates,
 * repeated or cyclic references, very large or deep values) goes whole to V8's serializer: the
 * base `v8.Serializer`, which treats typed arrays as structured clone does (same class, offsets,
 * shared buffers), where `v8.serialize` would not. __test__/queue-clone.spec.ts holds the two
 * paths to structuredClone on a corpus of awkward values.
 *
 * Queues carry data, not shared objects (structured clone would not keep a `Lock`'s private state
 * either), so no side table is needed here; task arguments use the one in transfer.ts. Bytes
 * cannot carry a SharedArrayBuffer's memory or a host object: those are refused at the put.
 *
 * A message is `[u32 length][u8 tag][payload]`, written to a per-thread scratch Buffer (or, from
 * V8's serializer, a Buffer of its own). Encoding and decoding finish synchronously, so one
 * scratch per direction is enough as long as an async caller copies its message before it waits.
 */
import { Deserializer, serialize, Serializer } from 'node:v8';
import { isProxy } from 'node:util/types';

import { outOfRange } from '../validate.js';

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

// Past these, V8's serializer costs little next to the value itself.
const FAST_MAX_NODES = 256;
const FAST_MAX_DEPTH = 16;
const FAST_MAX_STRING = 4096;

let out: Buffer = Buffer.allocUnsafeSlow(4096);
let input: Buffer = Buffer.allocUnsafeSlow(4096);
/** Where the last encode wrote: `out`, or the buffer V8's serializer gave. */
let last: Buffer = out;

function grow(buffer: Buffer, n: number): Buffer {
  let size = buffer.length;
  while (size < n) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size);
  buffer.copy(bigger);
  return bigger;
}

/** The buffer the last encode wrote to (the scratch, which is replaced when it grows, or another). */
export function outBuffer(): Buffer {
  return last;
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
/**
 * Objects of the message being encoded, `seen[0]` to `seen[seenCount - 1]`. The array keeps its
 * backing store from message to message (`length = 0` would free it, and the next message would
 * allocate one again); its slots are cleared after each message so that it holds no user object.
 */
const seen: (object | undefined)[] = [];
let seenCount = 0;

function remember(v: object): void {
  seen[seenCount++] = v;
}

function seenBefore(v: object): boolean {
  for (let i = 0; i < seenCount; i++) if (seen[i] === v) return true;
  return false;
}

function forgetSeen(): void {
  for (let i = 0; i < seenCount; i++) seen[i] = undefined;
  seenCount = 0;
}

function room(n: number): void {
  if (pos + n > out.length) out = grow(out, pos + n);
}

/** A lone surrogate would not survive UTF-8 (it would become U+FFFD); structured clone keeps it. */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

function writeString(s: string): void {
  const n = s.length;
  if (n > FAST_MAX_STRING) throw notFast;
  room(5 + 3 * n);
  const start = pos;
  let p = start + 5;
  let ascii = true;
  if (n <= 32) {
    // Cheaper than a native call for a few characters.
    for (let i = 0; i < n && ascii; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) ascii = false;
      else out[p++] = c;
    }
  }
  if (n > 32 || !ascii) {
    const written = out.write(s, start + 5, 'utf8');
    // One byte per character only if every character is ASCII.
    ascii = written === n;
    p = start + 5 + written;
  }
  if (!ascii && !isWellFormed(s)) throw notFast;
  out[start] = ascii ? T_ASCII : T_UTF8;
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
      // A proxy is refused by structured clone (V8's serializer throws DataCloneError for it).
      if (seenBefore(v) || isProxy(v)) throw notFast;
      remember(v);
      if (Array.isArray(v)) {
        writeArray(v, depth);
        return;
      }
      writeObject(v, depth);
      return;
    }
    default:
      throw notFast;
  }
}

function writeArray(v: unknown[], depth: number): void {
  const n = v.length;
  // Holes are handled below; anything else beyond the indexes (an `extra` property) needs V8.
  if (n > FAST_MAX_NODES || Object.keys(v).length !== n) throw notFast;
  room(5);
  out[pos] = T_ARRAY;
  out.writeUInt32LE(n, pos + 1);
  pos += 5;
  for (let i = 0; i < n; i++) {
    const item = v[i];
    if (item === undefined && !(i in v)) throw notFast;
    writeValue(item, depth + 1);
  }
}

function writeObject(v: object, depth: number): void {
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw notFast;
  room(5);
  const at = pos;
  out[pos] = T_OBJECT;
  pos += 5;
  // Own keys only, as structured clone (`for…in` would also list inherited enumerable ones).
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // Assigned on decode, an own `__proto__` key would set the prototype instead.
    if (key === '__proto__') throw notFast;
    writeString(key);
    writeValue((v as Record<string, unknown>)[key], depth + 1);
  }
  out.writeUInt32LE(keys.length, at + 1);
}

/** Structured clone's errors: a DataCloneError (a DOMException) for what it cannot clone. */
function dataCloneError(message: string): DOMException {
  return new DOMException(message, 'DataCloneError');
}

const PREFIX = Buffer.alloc(HEADER);

/**
 * V8's structured-clone serializer, with structured clone's errors. Array buffer views are left to
 * V8 (not Node's host-object form, which drops offsets and Buffer-ness differently from clone).
 * Made per message: a serializer remembers every object it wrote, so it cannot be reused.
 */
class CloneSerializer extends Serializer {
  _getDataCloneError = dataCloneError;
  _getSharedArrayBufferId(): never {
    throw dataCloneError(
      'A SharedArrayBuffer cannot be put on a Queue or sent through a Pipe (its memory cannot cross as bytes); pass it to a worker as a task argument',
    );
  }
  _writeHostObject(object: object): never {
    throw dataCloneError(`${Object.prototype.toString.call(object)} could not be cloned.`);
  }
}

/** The whole message, header included, from V8's serializer (written straight after the header). */
function serializeWithV8(value: unknown): Buffer {
  const serializer = new CloneSerializer();
  serializer.writeRawBytes(PREFIX);
  serializer.writeHeader();
  serializer.writeValue(value);
  const message = serializer.releaseBuffer();
  checkSize(message.length);
  message[4] = M_V8;
  return message;
}

/**
 * An array its caller has just built (a protocol message): dense, with no other property, not a
 * proxy and referred to from nowhere else, so `writeArray`'s checks (an `Object.keys` and an
 * `isProxy` per array, a measurable part of a small message) cannot fail and are skipped. With
 * `lastIsFresh`, its last member is such an array too (a call's argument list).
 */
function writeFresh(v: readonly unknown[], depth: number, lastIsFresh: boolean): void {
  const n = v.length;
  if (++nodes > FAST_MAX_NODES || depth > FAST_MAX_DEPTH || n > FAST_MAX_NODES) throw notFast;
  // Still remembered: a member that contains the array is a cycle, which needs V8.
  remember(v);
  room(5);
  out[pos] = T_ARRAY;
  out.writeUInt32LE(n, pos + 1);
  pos += 5;
  const plain = lastIsFresh ? n - 1 : n;
  for (let i = 0; i < plain; i++) writeValue(v[i], depth + 1);
  if (lastIsFresh) writeFresh(v[plain] as unknown[], depth + 1, false);
}

/** Encodes `value`; returns the message length (header included); `outBuffer()` holds it. */
export function encodeValue(value: unknown): number {
  return encodeMessage(value, 0);
}

/**
 * `encodeValue` of an array the caller has just built and shares with no one (see `writeFresh`):
 * the same bytes, fewer checks. `fresh` 2 says its last member is such an array too.
 */
export function encodeFresh(items: readonly unknown[], fresh: 1 | 2): number {
  return encodeMessage(items, fresh);
}

function encodeMessage(value: unknown, fresh: 0 | 1 | 2): number {
  pos = HEADER;
  nodes = 0;
  try {
    if (fresh === 0) writeValue(value, 0);
    else writeFresh(value as unknown[], 0, fresh === 2);
    out[4] = M_FAST;
    last = out;
  } catch (error) {
    if (error !== notFast) throw error;
    last = serializeWithV8(value);
    pos = last.length;
  } finally {
    forgetSeen();
  }
  checkSize(pos);
  last.writeUInt32LE(pos - 4, 0);
  return pos;
}

/** Encodes raw bytes (Connection.sendBytes); returns the message length. */
export function encodeBytes(bytes: Uint8Array): number {
  const total = HEADER + bytes.length;
  checkSize(total);
  pos = 0;
  room(total);
  last = out;
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

/** A key (or, up to `cached` characters, a string value) whose ASCII form repeats is shared. */
function readKey(b: Buffer, limit = 32): string {
  const tag = b[rpos]!;
  const n = b.readUInt32LE(rpos + 1);
  const start = rpos + 5;
  rpos = start + n;
  if (tag !== T_ASCII || n > limit) return readString(b, tag === T_ASCII, start, n);
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
      // A very short string is often a name that comes again (a manager's method names): one
      // shared copy costs no more to find than a new one to build, and is already hashed.
      rpos--;
      return readKey(b, 12);
    case T_UTF8: {
      const n = b.readUInt32LE(rpos);
      const start = rpos + 4;
      rpos = start + n;
      return readString(b, false, start, n);
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

/**
 * Decodes the message in `b` from `start` on (`length` = tag + payload, as in its header); a
 * start spares a caller reading many messages from one buffer a view of each.
 */
export function decodeValue(b: Buffer, length: number, start = 0): unknown {
  switch (b[start + 4]) {
    case M_FAST:
      rpos = start + HEADER;
      rbuf = b;
      return readValue();
    case M_BYTES:
      return Buffer.from(b.subarray(start + HEADER, start + 4 + length));
    default: {
      // The base Deserializer copies what it reads: nothing it returns shares the scratch `b`.
      const deserializer = new Deserializer(b.subarray(start + HEADER, start + 4 + length));
      deserializer.readHeader();
      return deserializer.readValue();
    }
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
