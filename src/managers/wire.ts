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
 * happens to have that key is escaped, so data is never mistaken for a token. Both walks (tokens
 * in, tokens out) are iterative and remember what they met, as structured clone does: a cyclic
 * or shared value keeps its shape, and deep nesting cannot overflow the stack here (the
 * serializer's own limit is reported by `cloneFailure`).
 *
 * Requests (client -> server), one array per frame:
 *   [CALL, callId, objectId, method, args]   [CREATE, callId, typeid, args]
 *   [DECREF, objectIds]   [LEND, objectId, lease]   [ADOPT, objectId, lease]
 *   [LINK, callId]: a client on this machine asks for a shared-memory link (link.ts)
 * Replies (server -> client): [callId, 1, value] or [callId, 0, serialized error].
 * Over a link, `[-1]` either way wakes a side that stopped watching its ring.
 */
import { isPlainObject, walkCollection } from '../reduction/transfer.js';
import { outOfRange } from '../validate.js';

export const CALL = 0;
export const CREATE = 1;
export const DECREF = 2;
export const LEND = 3;
export const ADOPT = 4;
export const LINK = 5;

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

type ToToken = (value: object) => Token | undefined;

function hasMark(value: object): boolean {
  return Object.hasOwn(value, MARK) && isPlainObject(value);
}

/** Defines rather than assigns, so that an own key '__proto__' stays a key. */
function put(record: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
}

/** Calls `visit` with each member of an array, plain object, Map (keys and values) or Set. */
function forEachMember(value: object, visit: (item: unknown) => void): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) visit(value[i]);
  } else if (value instanceof Map) {
    for (const [key, item] of value) {
      visit(key);
      visit(item);
    }
  } else if (value instanceof Set) {
    for (const item of value) visit(item);
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) visit((value as Record<string, unknown>)[key]);
  }
}

/**
 * Replaces, at any depth of arrays, plain objects, Maps and Sets, every value for which
 * `toToken` returns a token. Returns `value` itself when there is nothing to replace (the usual
 * case, and no copy); otherwise a copy of the containers, cycles and shared parts kept.
 */
export function encodeTokens(value: unknown, toToken: ToToken): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const found = firstToken(value, toToken);
  return found === undefined ? value : copyWithTokens(value, toToken, found);
}

/**
 * The first object that must change (a proxy, with its token, or data under `MARK`), or
 * undefined. Its token is kept: `toToken` may count what it turned into a token.
 */
function firstToken(root: object, toToken: ToToken): [object, Token | undefined] | undefined {
  const seen = new Set<object>();
  const stack: object[] = [root];
  let found: [object, Token | undefined] | undefined;
  const push = (item: unknown) => {
    if (typeof item === 'object' && item !== null && !seen.has(item)) stack.push(item);
  };
  while (stack.length > 0 && found === undefined) {
    const value = stack.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    const token = toToken(value);
    if (token || hasMark(value)) found = [value, token];
    else forEachMember(value, push);
  }
  return found;
}

function tokenRecord(token: Token): Record<string, unknown> {
  return { [MARK]: TOKEN, t: token.typeid, i: token.id, x: token.exposed, k: token.kind ?? null };
}

/** A copy of `root` with tokens for proxies, each container copied once (so cycles stay cycles). */
function copyWithTokens(root: object, toToken: ToToken, [first, firstToken]: [object, Token | undefined]): unknown {
  const copies = new Map<object, unknown>();
  const toFill: [object, object][] = [];
  const copyOf = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (copies.has(value)) return copies.get(value);
    const token = value === first ? firstToken : toToken(value);
    let copy: unknown = value;
    if (token) copy = tokenRecord(token);
    else if (Array.isArray(value)) toFill.push([value, (copy = new Array(value.length))]);
    else if (value instanceof Map) toFill.push([value, (copy = new Map())]);
    else if (value instanceof Set) toFill.push([value, (copy = new Set())]);
    else if (isPlainObject(value)) {
      const record = {};
      toFill.push([value, record]);
      copy = Object.hasOwn(value, MARK) ? { [MARK]: ESCAPED, v: record } : record;
    }
    copies.set(value, copy);
    return copy;
  };
  const out = copyOf(root);
  while (toFill.length > 0) {
    const [from, to] = toFill.pop()!;
    if (Array.isArray(from)) {
      for (let i = 0; i < from.length; i++) if (i in from) (to as unknown[])[i] = copyOf(from[i]);
    } else if (from instanceof Map) {
      for (const [key, item] of from) (to as Map<unknown, unknown>).set(copyOf(key), copyOf(item));
    } else if (from instanceof Set) {
      for (const item of from) (to as Set<unknown>).add(copyOf(item));
    } else {
      for (const key of Object.keys(from))
        put(to as Record<string, unknown>, key, copyOf((from as Record<string, unknown>)[key]));
    }
  }
  return out;
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
  if (Array.isArray(value) && isPrimitiveList(value)) return value;
  return decodeNested(value, fromToken, budget);
}

/**
 * `decodeTokens` past its quick checks: apart, so that a call with plain arguments does not pay
 * for the closures' context, which a function allocates on entry.
 */
function decodeNested(value: object, fromToken: (token: Token) => unknown, budget: number): unknown {
  const replaced = new Map<object, unknown>();
  const toVisit: object[] = [];
  const resolve = (item: unknown): unknown => {
    if (typeof item !== 'object' || item === null) return item;
    if (replaced.has(item)) return replaced.get(item);
    let out: unknown = item;
    if (hasMark(item)) {
      const record = item as Record<string, unknown>;
      if (record[MARK] === TOKEN) out = fromToken(readToken(record));
      else if (record[MARK] === ESCAPED && typeof record.v === 'object' && record.v !== null) {
        // The escaped data's own MARK key is data: it is visited, never read as a token.
        out = record.v;
        replaced.set(record.v, out);
        toVisit.push(record.v);
      } else throw new TypeError('A malformed proxy token');
    } else {
      toVisit.push(item);
    }
    replaced.set(item, out);
    return out;
  };
  const root = resolve(value);
  while (toVisit.length > 0) replaceMembers(toVisit.pop()!, resolve, budget);
  return root;
}

/** Puts `resolve(member)` in place of each object member of a container; Maps and Sets keep their identity. */
function replaceMembers(value: object, resolve: (item: unknown) => unknown, budget: number): void {
  if (value instanceof Map || value instanceof Set) return replaceInCollection(value, resolve);
  if (!Array.isArray(value) && !isPlainObject(value)) return;
  const record = value as Record<string | number, unknown>;
  const replace = (key: string | number) => {
    const item = record[key];
    if (typeof item !== 'object' || item === null) return;
    const out = resolve(item);
    if (out !== item) record[key] = out;
  };
  if (Array.isArray(value) && value.length <= budget) {
    for (let i = 0; i < value.length; i++) replace(i);
  } else {
    for (const key of Object.keys(value)) replace(key);
  }
}

function replaceInCollection(value: Map<unknown, unknown> | Set<unknown>, resolve: (item: unknown) => unknown): void {
  const out = walkCollection(value, resolve);
  if (out === value) return;
  value.clear();
  if (value instanceof Map) for (const [key, item] of out as Map<unknown, unknown>) value.set(key, item);
  else for (const item of out as Set<unknown>) value.add(item);
}

/**
 * The error for a value the serializer could not copy: its recursion running out of stack (a
 * value nested some thousands of levels deep, which structured clone refuses too) becomes a
 * RangeError with a code naming `name`; any other error (DataCloneError…) is returned as it is.
 */
export function cloneFailure(error: unknown, name: string): unknown {
  if (!(error instanceof RangeError) || (error as { code?: unknown }).code !== undefined || !/call stack/i.test(error.message))
    return error;
  const failure = outOfRange(
    name,
    'a value structured clone can copy',
    'a value nested too deeply for the serializer (it ran out of stack)',
  );
  Object.defineProperty(failure, 'cause', { value: error, configurable: true, writable: true });
  return failure;
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
