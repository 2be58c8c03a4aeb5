/**
 * Every error class the package throws, in one module (as piscina keeps its errors), each with a
 * stable `name` and `code` so callers can branch without parsing messages.
 */

/** Marks the package's error classes, in whichever build (ESM or CJS) defined them. */
const kErrorClass = Symbol.for('napi-multiprocessing.errorClass');

/** Base of the package's own errors: a stable `code`, and `name` taken from the subclass. */
export class MultiprocessingError extends Error {
  static readonly [kErrorClass] = true;

  /**
   * `instanceof` also holds for the same class from the package's other build: a program that
   * both imports and requires the package (say, through two dependencies) has two copies of
   * every class, and an error from one must still match the other's.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    for (let proto = Object.getPrototypeOf(value); proto; proto = Object.getPrototypeOf(proto)) {
      const ctor = (proto as { constructor?: { name?: string; [kErrorClass]?: boolean } }).constructor;
      if (ctor?.[kErrorClass] === true && ctor.name === this.name) return true;
    }
    return false;
  }

  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, 'name', {
      value: new.target.name,
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}

/**
 * The base of an error class that is only a `code` and a default message (`new Empty()`,
 * `new Empty('why')`): one constructor for them all; each still gets its own `name` from
 * MultiprocessingError (`new.target`).
 */
function withCode(code: string, defaultMessage: string) {
  return class extends MultiprocessingError {
    constructor(message = defaultMessage, options?: ErrorOptions) {
      super(message, code, options);
    }
  };
}

/** A timeout passed (`AsyncResult.get`, lock acquisition, queue get/put, join). */
export class TimeoutError extends withCode('ERR_TIMEOUT', 'The operation timed out') {}

/** Python's `queue.Empty`. */
export class Empty extends withCode('ERR_QUEUE_EMPTY', 'The queue is empty') {}

/** Python's `queue.Full`. */
export class Full extends withCode('ERR_QUEUE_FULL', 'The queue is full') {}

/** The other end of a Pipe (or a closed queue) will never send again. */
export class EOFError extends withCode('ERR_EOF', 'The other end of the connection is closed') {}

/** A Barrier was aborted or reset while a party waited on it. */
export class BrokenBarrierError extends withCode('ERR_BROKEN_BARRIER', 'The barrier is broken') {}

/** Misuse of a Process, or a process-level failure. */
export class ProcessError extends MultiprocessingError {
  constructor(message: string, code = 'ERR_PROCESS', options?: ErrorOptions) {
    super(message, code, options);
  }
}

/**
 * A worker died while it held tasks (exit, uncaught error in a timer, signal, out of memory).
 * Python's Pool hangs forever in this case; ours rejects the task that worker was running (the
 * whole batch it was running when it was killed by a signal or ran out of memory, since it could
 * not say which) and hands the tasks it had not started to another worker.
 */
export class WorkerCrashedError extends MultiprocessingError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(message: string, details: { exitCode?: number | null; signal?: string | null } = {}, options?: ErrorOptions) {
    super(message, 'ERR_WORKER_CRASHED', options);
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
  }
}

/** The Pool was terminated before this result was produced. */
export class PoolTerminatedError extends withCode('ERR_POOL_TERMINATED', 'The pool was terminated before the task finished') {}

/**
 * Carries the worker-side stack of an error thrown by a task. The caller receives an error of the
 * original class and message whose `cause` is a RemoteError (as CPython chains `RemoteTraceback`).
 */
export class RemoteError extends MultiprocessingError {
  /** The stack text as the worker printed it. */
  readonly remoteStack: string;
  constructor(remoteStack: string, options?: ErrorOptions) {
    super(`\n"""\n${remoteStack}\n"""`, 'ERR_REMOTE', options);
    this.remoteStack = remoteStack;
  }
}

/** A manager or listener rejected (or failed) the authkey handshake. */
export class AuthenticationError extends withCode('ERR_AUTHENTICATION', 'Authentication failed') {}

/** A plain Error with a `code`, for state errors the API names by code only (ERR_POOL_RUNNING…). */
export function codedError(code: string, message: string): Error & { code: string } {
  const error = new Error(message) as Error & { code: string };
  error.code = code;
  return error;
}

/**
 * The classes a task's error is rebuilt as on the caller's side, by name and code (a TimeoutError
 * thrown in a worker is a TimeoutError in the caller too). Classes whose constructor takes more
 * than a message are rebuilt with their own properties copied over.
 */
export const rebuildableErrors: Record<string, { code: string; prototype: Error }> = {
  TimeoutError: { code: 'ERR_TIMEOUT', prototype: TimeoutError.prototype },
  Empty: { code: 'ERR_QUEUE_EMPTY', prototype: Empty.prototype },
  Full: { code: 'ERR_QUEUE_FULL', prototype: Full.prototype },
  EOFError: { code: 'ERR_EOF', prototype: EOFError.prototype },
  BrokenBarrierError: { code: 'ERR_BROKEN_BARRIER', prototype: BrokenBarrierError.prototype },
  WorkerCrashedError: { code: 'ERR_WORKER_CRASHED', prototype: WorkerCrashedError.prototype },
  PoolTerminatedError: { code: 'ERR_POOL_TERMINATED', prototype: PoolTerminatedError.prototype },
  AuthenticationError: { code: 'ERR_AUTHENTICATION', prototype: AuthenticationError.prototype },
};
