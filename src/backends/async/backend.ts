/**
 * `backend: 'async'`: gevent.pool's model behind the Pool API. Calls run on the calling thread,
 * at most `processes` of them in flight at once, so it suits I/O-bound work (fetch, databases,
 * files) where the cost is waiting, not computing. Nothing crosses a thread: arguments and
 * results travel by reference, a function may use its enclosing scope, and an error reaches the
 * caller as the very object that was thrown.
 */
import { PoolTerminatedError } from '../../errors.js';
import { isTaskHandle, type AnyFunction, type TaskLike } from '../../task.js';
import { invalidType } from '../../validate.js';
import type { Backend, BackendOptions, Batch, LocalSpec, RunnableSpec } from '../backend.js';

export interface AsyncBackendOptions extends BackendOptions {
  /** The initializer as given (not its worker form): it runs here, once, before the first call. */
  initializerFn?: TaskLike;
}

interface Call {
  readonly spec: LocalSpec;
  readonly args: unknown[];
  readonly op: object | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** The local form of anything a Pool accepts; a task() handle's module is imported on first use. */
export function localSpec(fn: unknown, argName = 'fn'): LocalSpec {
  if (typeof fn === 'function') {
    const f = fn as AnyFunction;
    return { kind: 'local', name: f.name, resolve: () => f };
  }
  if (isTaskHandle(fn)) {
    let loading: Promise<AnyFunction> | undefined;
    const { moduleUrl, exportName } = fn;
    const load = async (): Promise<AnyFunction> => {
      const mod = (await import(moduleUrl)) as Record<string, unknown>;
      // An ESM named export, or a CommonJS export reached through `default`.
      const found = mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName];
      if (typeof found !== 'function') {
        throw new TypeError(`Module ${moduleUrl} has no exported function '${exportName}' (found ${typeof found})`);
      }
      return found as AnyFunction;
    };
    return { kind: 'local', name: exportName, resolve: () => (loading ??= load()) };
  }
  throw invalidType(argName, 'a function, a task() handle or a native kernel', fn);
}

export class AsyncBackend implements Backend {
  readonly kind = 'async' as const;
  readonly #limit: number;
  readonly #queue: Call[] = [];
  readonly #running = new Set<Call>();
  /** The initializer's run; every call waits for it (and fails with its error). */
  readonly #ready: Promise<void>;
  #terminated = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: AsyncBackendOptions) {
    this.#limit = options.processes;
    const init = options.initializerFn;
    this.#ready = init === undefined ? Promise.resolve() : this.#initialize(localSpec(init, 'initializer'), options.initargs);
    this.#ready.catch(() => {});
  }

  async #initialize(spec: LocalSpec, initargs: unknown[]): Promise<void> {
    const fn = await spec.resolve();
    await fn(...initargs);
  }

  check(_spec: RunnableSpec): void {
    // Everything a Pool accepts runs here: functions (closures too), task() handles, kernels.
  }

  spec(fn: unknown): LocalSpec {
    return localSpec(fn);
  }

  run(spec: RunnableSpec, batch: Batch): Promise<unknown[]> {
    if (this.#terminated) return Promise.reject(new PoolTerminatedError());
    const calls = batch.items.map(
      (item) =>
        new Promise<unknown>((resolve, reject) => {
          const args = batch.star ? (item as unknown[]) : [item];
          this.#queue.push({ spec: spec as LocalSpec, args, op: batch.op, resolve, reject });
        }),
    );
    this.#pump();
    const all = Promise.all(calls);
    return batch.single ? (all.then((values) => values[0]) as Promise<never>) : all;
  }

  #pump(): void {
    while (!this.#terminated && this.#running.size < this.#limit && this.#queue.length > 0) {
      this.#start(this.#queue.shift()!);
    }
    this.#maybeIdle();
  }

  #start(call: Call): void {
    this.#running.add(call);
    const finish = (settle: () => void) => {
      // A call abandoned by cancel() or terminate() was already settled and its slot freed.
      if (!this.#running.delete(call)) return;
      settle();
      this.#pump();
    };
    this.#ready
      .then(() => call.spec.resolve())
      .then((fn) => fn(...call.args))
      .then(
        (value) => finish(() => call.resolve(value)),
        (error: unknown) => finish(() => call.reject(error)),
      );
  }

  /** Drops the op's queued calls; stops waiting for its running ones (their promises are abandoned). */
  cancel(op: object, reason: Error): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const call = this.#queue[i]!;
      if (call.op !== op) continue;
      this.#queue.splice(i, 1);
      call.reject(reason);
    }
    for (const call of this.#running) {
      if (call.op !== op) continue;
      this.#running.delete(call);
      call.reject(reason);
    }
    this.#pump();
  }

  #maybeIdle(): void {
    if (this.#queue.length > 0 || this.#running.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  async drain(): Promise<void> {
    if (this.#queue.length > 0 || this.#running.size > 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  /** Rejects every call not finished; calls already running cannot be stopped, only abandoned. */
  async terminate(): Promise<void> {
    this.#terminated = true;
    const error = new PoolTerminatedError();
    for (const call of this.#queue.splice(0)) call.reject(error);
    for (const call of this.#running) call.reject(error);
    this.#running.clear();
    this.#maybeIdle();
  }
}
