/**
 * What a manager class knows about each typeid (Python's `BaseManager._registry`), and which
 * method names may ever be called through a proxy.
 */
import { invalidType, validateFunction, validateObject } from '../validate.js';
import { checkOptions } from './options.js';

export interface RegisterOptions {
  /** Method names a proxy may call; default: the referent's public methods (not starting with '_'). */
  exposed?: readonly string[];
  /** Methods whose result is itself kept in the manager and returned as a proxy of this typeid. */
  methodToTypeid?: Record<string, string>;
  /** Whether instances get a method named `typeid` (default true). */
  createMethod?: boolean;
}

export interface Registration {
  readonly typeid: string;
  readonly factory: ((...args: never[]) => unknown) | undefined;
  readonly exposed: readonly string[] | undefined;
  readonly methodToTypeid: ReadonlyMap<string, string>;
  readonly createMethod: boolean;
  /** The proxy class for the built-in types (SyncManager's); generic proxies otherwise. */
  readonly kind?: string;
}

/**
 * Never callable through a proxy, whatever `exposed` says: what every object or function inherits
 * (`constructor`, `__proto__`, `__defineGetter__`, `call`, `bind`…), and `then`, which would make
 * a proxy look like a Promise.
 */
export const FORBIDDEN: ReadonlySet<string> = new Set([
  'then',
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
  // Its data properties `length` and `name` are fine as method names (a list's length()).
  ...Object.getOwnPropertyNames(Function.prototype).filter((name) => name !== 'length' && name !== 'name'),
]);

export function isCallableName(name: string): boolean {
  return !FORBIDDEN.has(name);
}

/**
 * The public methods of `object`, as Python's `public_methods`: function-valued, not starting with
 * '_' — nor ending with 'Sync': such a method blocks its thread, here the server's event loop,
 * which serves every client (list it in `exposed` to offer it anyway).
 */
export function publicMethods(object: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name.startsWith('_') || name.endsWith('Sync') || FORBIDDEN.has(name) || names.has(name)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(o, name);
      if (descriptor && typeof descriptor.value === 'function') names.add(name);
    }
  }
  return [...names];
}

function validateNames(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw invalidType(name, 'an array of method names', value);
  for (const [i, method] of value.entries()) {
    if (typeof method !== 'string') throw invalidType(`${name}[${i}]`, 'of type string', method);
    if (FORBIDDEN.has(method)) {
      const error = new TypeError(
        `The method name '${method}' in "${name}" cannot be exposed: every object inherits it`,
      ) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_VALUE';
      throw error;
    }
  }
  return [...value] as string[];
}

export function makeRegistration(typeid: unknown, factory: unknown, options: unknown, kind?: string): Registration {
  if (typeof typeid !== 'string' || typeid.length === 0) throw invalidType('typeid', 'a non-empty string', typeid);
  if (factory !== undefined && factory !== null) validateFunction(factory, 'factory');
  const opts = (options ?? {}) as RegisterOptions;
  if (options !== undefined) {
    validateObject(options, 'options');
    checkOptions(options, ['exposed', 'methodToTypeid', 'createMethod'], 'options');
  }
  const exposed = opts.exposed === undefined ? undefined : validateNames(opts.exposed, 'options.exposed');
  const methodToTypeid = new Map<string, string>();
  if (opts.methodToTypeid !== undefined) {
    validateObject(opts.methodToTypeid, 'options.methodToTypeid');
    for (const [method, target] of Object.entries(opts.methodToTypeid)) {
      if (typeof target !== 'string') throw invalidType(`options.methodToTypeid.${method}`, 'a typeid (string)', target);
      methodToTypeid.set(method, target);
    }
  }
  if (opts.createMethod !== undefined && typeof opts.createMethod !== 'boolean') {
    throw invalidType('options.createMethod', 'of type boolean', opts.createMethod);
  }
  return {
    typeid,
    factory: (factory ?? undefined) as Registration['factory'],
    exposed,
    methodToTypeid,
    createMethod: opts.createMethod ?? true,
    kind,
  };
}
