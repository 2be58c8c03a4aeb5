/**
 * `AsyncResult`: Python's `ApplyResult`/`MapResult`, made awaitable. Times are in milliseconds.
 */
import { TimeoutError, codedError } from '../errors.js';
import { validateTimeout } from '../validate.js';
import { after } from '../shm/waiting.js';
import { kReject, kResolve, type Sink } from '../backends/backend.js';

export interface ResultCallbacks<R> {
  /** Called exactly once with the result when the work succeeds. */
  callback?: (value: R) => void;
  /** Called exactly once with the error when the work fails. */
  errorCallback?: (error: unknown) => void;
}

type State<R> = { status: 'pending' } | { status: 'fulfilled'; value: R } | { status: 'rejected'; error: unknown };

/** A callback that throws must not break the result it reports on; surface it as a warning. */
export function runCallback(kind: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.emitWarning(`napi-multiprocessing: the ${kind} threw; the result is unaffected.\n${detail}`, {
      code: 'NAPI_MULTIPROCESSING_CALLBACK_ERROR',
    });
  }
}

const PENDING = { status: 'pending' } as const;

function ignore(): void {}

/** `timeoutMs` checked; a bad one as a rejection, as Pool's Promise-returning methods report bad arguments. */
function timeoutOrRejection(timeoutMs: unknown): number | undefined | Promise<never> {
  try {
    return validateTimeout(timeoutMs, 'timeoutMs');
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Settles as `settled` does, unless `ms` pass first: then `late` settles it. */
function beforeTimeout<T>(
  settled: Promise<T>,
  ms: number,
  late: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = after(ms, () => late(resolve, reject));
    settled.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

export class AsyncResult<R> implements PromiseLike<R>, Sink {
  /** Made when first asked for (then/get/wait): a result nobody awaits costs no promise. */
  #promise: Promise<R> | undefined;
  #resolve: ((value: R) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #state: State<R> = PENDING;
  readonly #callback: ResultCallbacks<R>['callback'];
  readonly #errorCallback: ResultCallbacks<R>['errorCallback'];
  readonly #onSettled: (() => void) | undefined;

  /**
   * @internal Pools create AsyncResults; users receive them from applyAsync/mapAsync. Settled by
   * `work`, or (without it) by a backend through the Sink symbols; `onSettled` runs once after.
   */
  constructor(work: Promise<R> | undefined, callbacks: ResultCallbacks<R> = {}, onSettled?: () => void) {
    this.#callback = callbacks.callback;
    this.#errorCallback = callbacks.errorCallback;
    this.#onSettled = onSettled;
    if (!work) return;
    this.#promise = work;
    // Handling the rejection here also means a failure nobody asks about is not a crash (Python
    // never raises it either).
    work.then(
      (value) => this[kResolve](value),
      (error: unknown) => this[kReject](error),
    );
  }

  /** @internal Callbacks run before anyone awaiting the result resumes. */
  [kResolve](value: unknown): void {
    if (this.#state !== PENDING) return;
    this.#state = { status: 'fulfilled', value: value as R };
    const callback = this.#callback;
    if (callback) runCallback('callback', () => callback(value as R));
    this.#resolve?.(value as R);
    this.#onSettled?.();
  }

  /** @internal */
  [kReject](error: unknown): void {
    if (this.#state !== PENDING) return;
    this.#state = { status: 'rejected', error };
    const errorCallback = this.#errorCallback;
    if (errorCallback) runCallback('errorCallback', () => errorCallback(error));
    if (this.#reject) {
      // Handled here rather than when made: only a failure pays for it.
      this.#promise!.catch(ignore);
      this.#reject(error);
    }
    this.#onSettled?.();
  }

  /** The one promise of this result, handled, so that dropping what get() returns is no crash either. */
  #settled(): Promise<R> {
    if (this.#promise) return this.#promise;
    const state = this.#state;
    if (state.status === 'fulfilled') this.#promise = Promise.resolve(state.value);
    else if (state.status === 'rejected') {
      this.#promise = Promise.reject(state.error);
      this.#promise.catch(ignore);
    } else {
      this.#promise = new Promise<R>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    }
    return this.#promise;
  }

  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.#settled().then(onfulfilled, onrejected);
  }

  /** The result; rejects with the task's error, or with TimeoutError once `timeoutMs` passes (the work goes on). */
  get(timeoutMs?: number): Promise<R> {
    const timeout = timeoutOrRejection(timeoutMs);
    if (timeout instanceof Promise) return timeout;
    if (timeout === undefined || this.#state.status !== 'pending') return this.#settled();
    return beforeTimeout(this.#settled(), timeout, (_resolve, reject) =>
      reject(new TimeoutError(`The result was not ready within ${timeout} ms`)),
    );
  }

  /** Resolves once the result is ready, or once `timeoutMs` passes; rejects only for a bad `timeoutMs`. */
  wait(timeoutMs?: number): Promise<void> {
    const timeout = timeoutOrRejection(timeoutMs);
    if (timeout instanceof Promise) return timeout;
    const settled = this.#settled().then(
      () => undefined,
      () => undefined,
    );
    if (timeout === undefined || this.#state.status !== 'pending') return settled;
    return beforeTimeout(settled, timeout, (resolve) => resolve(undefined));
  }

  ready(): boolean {
    return this.#state.status !== 'pending';
  }

  /** Whether the work succeeded; throws (code ERR_RESULT_NOT_READY) while it is still running. */
  successful(): boolean {
    if (this.#state.status === 'pending') {
      throw codedError('ERR_RESULT_NOT_READY', 'The result is not ready yet; await it or call wait() first');
    }
    return this.#state.status === 'fulfilled';
  }

  get [Symbol.toStringTag](): string {
    return 'AsyncResult';
  }
}
