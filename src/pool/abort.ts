/**
 * AbortSignal support for Pool operations, in Node's own convention: an aborted operation
 * rejects with an Error named 'AbortError' (code 'ABORT_ERR') whose `cause` is `signal.reason`.
 */
import { invalidType, validateOptions, type OptionNames } from '../validate.js';

export interface SignalOptions {
  /** Aborting rejects the operation with an AbortError and stops its work. */
  signal?: AbortSignal;
}

export const SIGNAL_OPTIONS: OptionNames<SignalOptions> = { signal: true };

export function abortError(signal: AbortSignal): Error & { code: string } {
  const error = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}

export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidType('signal', 'an instance of AbortSignal', value);
  return value;
}

/** The `{ signal }` options object that map, starmap, imap and apply take as their last argument. */
export function signalOf(options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  validateOptions<SignalOptions>(options, 'options', SIGNAL_OPTIONS);
  return checkSignal(options.signal);
}

/**
 * `map(fn, xs, { signal })` as well as `map(fn, xs, chunksize, { signal })`: an object where the
 * chunksize goes is the options.
 */
export function splitChunksize(chunksize: unknown, options: unknown): [unknown, unknown] {
  if (typeof chunksize === 'object' && chunksize !== null && options === undefined) return [undefined, chunksize];
  return [chunksize, options];
}

/**
 * Runs `start(op)` as one abortable operation: on abort, the result rejects with an AbortError at
 * once and `cancel(op, error)` stops the work. An already-aborted signal rejects without starting.
 */
export function abortable<T>(
  signal: AbortSignal | undefined,
  start: (op: object | undefined) => Promise<T>,
  cancel: (op: object, error: Error) => void,
): Promise<T> {
  if (!signal) return start(undefined);
  if (signal.aborted) return Promise.reject(abortError(signal));
  const op = {};
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      const error = abortError(signal);
      reject(error);
      cancel(op, error);
    };
  });
  aborted.catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  const work = start(op);
  const forget = () => signal.removeEventListener('abort', onAbort);
  work.then(forget, forget);
  return Promise.race([work, aborted]);
}
