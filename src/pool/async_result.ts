/**
 * `AsyncResult`: Python's `ApplyResult`/`MapResult`, made awaitable. Times are in milliseconds.
 */
import { TimeoutError, codedError } from '../errors.js';
import { validateTimeout } from '../validate.js';
import { after } from '../shm/waiting.js';

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

export class AsyncResult<R> implements PromiseLike<R> {
  readonly #promise: Promise<R>;
  #state: State<R> = { status: 'pending' };

  /** @internal Pools create AsyncResults; users receive them from applyAsync/mapAsync. */
  constructor(work: Promise<R>, callbacks: ResultCallbacks<R> = {}) {
    this.#promise = work;
    const { callback, errorCallback } = callbacks;
    // Registered first, so callbacks run before anyone awaiting the result resumes. Handling the
    // rejection here also means a failure nobody asks about is not a crash (Python never raises
    // it either).
    work.then(
      (value) => {
        this.#state = { status: 'fulfilled', value };
        if (callback) runCallback('callback', () => callback(value));
      },
      (error: unknown) => {
        this.#state = { status: 'rejected', error };
        if (errorCallback) runCallback('errorCallback', () => errorCallback(error));
      },
    );
  }

  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.#promise.then(onfulfilled, onrejected);
  }

  /** The result; rejects with the task's error, or with TimeoutError once `timeoutMs` passes (the work goes on). */
  get(timeoutMs?: number): Promise<R> {
    let timeout: number | undefined;
    try {
      timeout = validateTimeout(timeoutMs, 'timeoutMs');
    } catch (error) {
      // A Promise-returning call reports a bad argument as a rejection, as Pool's methods do.
      return Promise.reject(error);
    }
    if (timeout === undefined || this.#state.status !== 'pending') return this.#promise;
    return new Promise<R>((resolve, reject) => {
      const cancel = after(timeout, () => reject(new TimeoutError(`The result was not ready within ${timeout} ms`)));
      this.#promise.then(
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

  /** Resolves once the result is ready, or once `timeoutMs` passes; rejects only for a bad `timeoutMs`. */
  wait(timeoutMs?: number): Promise<void> {
    let timeout: number | undefined;
    try {
      timeout = validateTimeout(timeoutMs, 'timeoutMs');
    } catch (error) {
      return Promise.reject(error);
    }
    const settled = this.#promise.then(
      () => undefined,
      () => undefined,
    );
    if (timeout === undefined || this.#state.status !== 'pending') return settled;
    return new Promise<void>((resolve) => {
      const cancel = after(timeout, resolve);
      void settled.then(() => {
        cancel();
        resolve();
      });
    });
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
