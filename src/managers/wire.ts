/**
 * The manager protocol: what a frame holds, and how proxies travel inside values.
 *
 * Serializer: values cross as structured clone (the queue codec's compact format for small
 * JSON-like values, `v8.serialize` for the rest; both decode to data only). Neither pickle-like
 * nor JSON-with-revivers: structured clone has no way to name a constructor or carry a function,
 * so nothing a peer sends can make this side run code; it also keeps Map, Set, Date, bigint,
 * typed arrays and cycles, which JSON would not. MessagePack would add a dependency for less.
 *
 * A proxy inside a value becomes a token, a plain object under the key `MARK`; a user object that
 * happens to have that key is escaped, so data is never mistaken for a token.
 *
 * Requests (client -> server), one array per frame:
 *   [CALL, callId, objectId, method, args]   [CREATE, callId, typeid, args]
 *   [DECREF, objectIds]   [LEND, objectId, lease]   [ADOPT, objectId, lease]
 * Replies (server -> client): [callId, 1, value] or [callId, 0, serialized error].
 */
import { walkCollection } from '../reduction/transfer.js';

export const CALL = 0;
export const CREATE = 1;
export const DECREF = 2;
export const LEND = 3;
export const ADOPT = 4;

export const MARK = '__napiMpProxy';
const TOKEN = 1;
const ESCAPED = 2;

/** A proxy as it travels: its typeid, object id, exposed methods and proxy kind (built-ins). */
export interface Token {
  typeid: string;
  id: number;
  exposed: string[];
  kind: string | undefined;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Replaces, at any depth of arrays, plain objects, Maps and Sets, every value for which
 * `toToken` returns a token. Returns `value` itself when nothing was replaced.
 */
export function encodeTokens(value: unknown, toToken: (value: object) => Token | undefined): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const token = toToken(value);
  if (token) return { [MARK]: TOKEN, t: token.typeid, i: token.id, x: token.exposed, k: token.kind ?? null };
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (typeof item !== 'object' || item === null) continue;
      const encoded = encodeTokens(item, toToken);
      if (encoded !== item) (out ??= value.slice())[i] = encoded;
    }
    return out ?? value;
  }
  if (value instanceof Map || value instanceof Set) return walkCollection(value, (item) => encodeTokens(item, toToken));
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const encoded = encodeTokens(item, toToken);
    if (encoded !== item) (out ??= { ...(value as Record<string, unknown>) })[key] = encoded;
  }
  if (Object.hasOwn(value, MARK)) return { [MARK]: ESCAPED, v: out ?? value };
  return out ?? value;
}

function readToken(value: Record<string, unknown>): Token {
  const { t, i, x, k } = value;
  if (typeof t !== 'string' || !Number.isSafeInteger(i) || !Array.isArray(x) || !x.every((name) => typeof name === 'string')) {
    throw new TypeError('A malformed proxy token');
  }
  return { typeid: t, id: i as number, exposed: x as string[], kind: typeof k === 'string' ? k : undefined };
}

/**
 * Replaces tokens inside a received value (in place) by what `fromToken` makes of them. `budget`
 * is the size of the frame the value came from: an array longer than that cannot be dense, so
 * only its own elements are visited (a hostile "length 4 billion" array costs nothing).
 */
export function decodeTokens(value: unknown, fromToken: (token: Token) => unknown, budget = Infinity): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    if (value.length <= budget) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (typeof item === 'object' && item !== null) value[i] = decodeTokens(item, fromToken, budget);
      }
    } else {
      for (const key of Object.keys(value)) (value as unknown as Record<string, unknown>)[key] = decodeTokens((value as unknown as Record<string, unknown>)[key], fromToken, budget);
    }
    return value;
  }
  if (value instanceof Map || value instanceof Set) return walkCollection(value, (item) => decodeTokens(item, fromToken, budget));
  if (!isPlainObject(value)) return value;
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, MARK)) {
    if (record[MARK] === TOKEN) return fromToken(readToken(record));
    if (record[MARK] === ESCAPED && typeof record.v === 'object' && record.v !== null) return decodeInner(record.v as Record<string, unknown>, fromToken, budget);
    throw new TypeError('A malformed proxy token');
  }
  return decodeInner(record, fromToken, budget);
}

function decodeInner(record: Record<string, unknown>, fromToken: (token: Token) => unknown, budget: number): unknown {
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'object' && item !== null) record[key] = decodeTokens(item, fromToken, budget);
  }
  return record;
}

/** True when `value` holds no object, so that cloning it is the identity. */
export function isPrimitiveList(values: readonly unknown[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'object' && value !== null) return false;
    if (typeof value === 'function' || typeof value === 'symbol') return false;
  }
  return true;
}
