/**
 * What a Pool or Process can run, and the wire form ("spec") a worker receives.
 *
 * - an inline self-contained function: shipped as source text and compiled once per worker;
 * - `task(moduleUrl, exportName)`: an exported function the worker imports (and caches) itself;
 * - a native kernel from `native`: run by name (in Rust, or in TS when no binary loads).
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

import { kernelNameOf, type KernelName } from './native/kernel.js';
import { invalidType } from './validate.js';

// biome-ignore lint: `any` is what lets TaskLike accept every function signature.
export type AnyFunction = (...args: any[]) => unknown;

export const kTask: unique symbol = Symbol.for('napi-multiprocessing.task') as never;

/** A typed reference to an exported function of a module, created by `task()`. */
export interface TaskHandle<F extends AnyFunction = AnyFunction> {
  readonly [kTask]: true;
  /** `file:` (or other) URL of the module, as the worker will import it. */
  readonly moduleUrl: string;
  readonly exportName: string;
  /** Type-only: the function's signature. Never set at run time. */
  readonly __signature?: F;
}

/** Anything a Pool or Process accepts as its function. */
export type TaskLike<F extends AnyFunction = AnyFunction> = F | TaskHandle<F>;

type FnOf<T> = T extends TaskHandle<infer F> ? F : T extends AnyFunction ? T : never;
/** The argument tuple of a task. */
export type TaskArgs<T> = Parameters<FnOf<T>>;
/** The settled result of a task (Promises unwrapped). */
export type TaskResult<T> = Awaited<ReturnType<FnOf<T>>>;

/**
 * A handle to `exportName` of the module at `moduleUrl` (ESM or CommonJS). Pass
 * `new URL('./tasks.js', import.meta.url)`; a plain absolute path works too, and a relative path
 * is resolved against `process.cwd()`. Type it with `task<typeof import('./tasks.js').fn>(…)`.
 */
export function task<F extends AnyFunction = AnyFunction>(moduleUrl: string | URL, exportName = 'default'): TaskHandle<F> {
  let url: string;
  if (moduleUrl instanceof URL) url = moduleUrl.href;
  else if (typeof moduleUrl === 'string' && moduleUrl.length > 0) {
    if (/^[a-zA-Z][a-zA-Z\d+.-]*:/.test(moduleUrl) && !/^[a-zA-Z]:[\\/]/.test(moduleUrl)) url = moduleUrl;
    else url = pathToFileURL(isAbsolute(moduleUrl) ? moduleUrl : `${process.cwd()}/${moduleUrl}`).href;
  } else throw invalidType('moduleUrl', 'a non-empty string or an instance of URL', moduleUrl);
  if (typeof exportName !== 'string' || exportName.length === 0) {
    throw invalidType('exportName', 'a non-empty string', exportName);
  }
  return Object.freeze({ [kTask]: true as const, moduleUrl: url, exportName });
}

export function isTaskHandle(value: unknown): value is TaskHandle {
  return typeof value === 'object' && value !== null && (value as { [kTask]?: unknown })[kTask] === true;
}

/** The structured-cloneable description of a task that crosses to a worker. */
export type TaskSpec =
  | { kind: 'inline'; source: string; name: string }
  | { kind: 'module'; url: string; exportName: string }
  | { kind: 'kernel'; name: KernelName };

const specCache = new WeakMap<object, TaskSpec>();

/** Validates `fn` and returns its wire form (cached per function object). */
export function toTaskSpec(fn: unknown, argName = 'fn'): TaskSpec {
  if ((typeof fn === 'function' || typeof fn === 'object') && fn !== null) {
    const cached = specCache.get(fn);
    if (cached) return cached;
  }
  let spec: TaskSpec;
  const kernel = kernelNameOf(fn);
  if (kernel) spec = { kind: 'kernel', name: kernel };
  else if (isTaskHandle(fn)) spec = { kind: 'module', url: fn.moduleUrl, exportName: fn.exportName };
  else if (typeof fn === 'function') {
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}$/.test(source)) {
      throw invalidType(
        argName,
        'a self-contained function written in JavaScript, a task() handle or a native kernel (built-in and bound functions have no source to send to a worker)',
        fn,
      );
    }
    if (/^class[\s{]/.test(source)) throw invalidType(argName, 'a function, not a class', fn);
    spec = { kind: 'inline', source, name: fn.name };
  } else {
    throw invalidType(argName, 'a function, a task() handle or a native kernel', fn);
  }
  if ((typeof fn === 'function' || typeof fn === 'object') && fn !== null) specCache.set(fn, spec);
  return spec;
}

export function describeTask(spec: TaskSpec): string {
  switch (spec.kind) {
    case 'inline':
      return spec.name || '<anonymous function>';
    case 'module':
      return `${spec.exportName} from ${spec.url}`;
    case 'kernel':
      return `native.${spec.name}`;
  }
}
