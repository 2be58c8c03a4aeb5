/**
 * The messages between a pool (or a Process) and its workers, and how errors cross.
 * Thread workers and child processes speak the same protocol (structured clone on both: the
 * child's IPC uses `serialization: 'advanced'`).
 */
import { RemoteError, rebuildableErrors } from '../errors.js';
import type { HandoverLink } from '../shm/handover.js';
import type { HandedOver } from '../shm/outbox.js';
import type { TaskSpec } from '../task.js';

/**
 * One message's jobs, all of one task and one calling convention, in columns rather than an
 * object per job: a batch of thousands of tiny jobs is then a few arrays to clone, not thousands
 * of objects. Job `i` is `ids[i]`, its calls `lists[i]` (encoded by `transfer.ts`): single
 * arguments, or argument tuples when `star`.
 */
export interface RunMessage {
  t: 'run';
  /** Specs this worker has not seen yet; afterwards the task id `sid` stands for it. */
  specs?: [number, TaskSpec][];
  sid: number;
  star: boolean;
  ids: number[];
  lists: unknown[];
  /** Some job holds shared objects: every list is then encoded (`transfer.ts`); else each is the plain list. */
  shared: boolean;
  /** Each job is one call (applyAsync): `lists[i]` is its argument tuple, and its result comes back unwrapped. */
  single: boolean;
}

export type ToWorker =
  /** `handover`: a thread worker's channel for the messages it leaves undelivered (handover.ts). */
  | {
      t: 'init';
      name: string;
      role: 'pool' | 'process';
      daemon?: boolean;
      initializer?: TaskSpec;
      initargs: unknown[];
      handover?: HandoverLink;
    }
  | RunMessage
  /** `self`: a Process subclass's own fields, the `this` of its overridden run(). */
  | { t: 'target'; target: TaskSpec; args: unknown[]; self?: unknown }
  /** An idle thread worker is asked to end itself: its output is flushed first (see entry.ts). */
  | { t: 'stop' };

/**
 * The outcomes of a message's jobs, in the same columns: job `ids[i]` gave `values[i]`, its
 * results in order (encoded), or its SerializedError when `i` is listed in `failed`.
 */
export interface JobResults {
  ids: number[];
  /** A Float64Array when every value is a number (see numbers.ts). */
  values: ArrayLike<unknown>;
  /** Each value is its job's one result (RunMessage's `single`), not a list of them. */
  single?: boolean;
  failed?: number[];
  /** As RunMessage's: the successful values are encoded only when some holds shared objects. */
  shared?: boolean;
}

export type FromWorker =
  | { t: 'ready' }
  | { t: 'startup-error'; error: SerializedError }
  /** `ms`: time spent in the task's calls (not in loading it), for the dispatcher's sizing. */
  | ({ t: 'done'; ms: number } & JobResults)
  | { t: 'target-done'; ok: boolean; error?: SerializedError }
  /**
   * Sent before a job's 'done' when what its tasks put is not all delivered yet (the worker
   * delivers it in the background): the pool keeps the worker ref'd until 'delivered'.
   */
  | { t: 'holding' }
  | { t: 'delivered' }
  /**
   * Sent by a pool worker as it exits (process.exit, an uncaught error, an unhandled rejection):
   * the results its current batch had finished, and the job it was running, if any. Every other
   * job it held had not started. `results` is absent when they could not be sent.
   */
  | { t: 'exiting'; results?: JobResults; running?: number; error?: SerializedError }
  /** Sent by a child process as it ends: what its outboxes held, for the parent to deliver. */
  | { t: 'handed'; outboxes: HandedOver[] };

export interface SerializedError {
  __napiMpError: true;
  /** Built-in constructor to rebuild (TypeError, RangeError, …) or 'Error'. */
  ctor: string;
  name: string;
  message: string;
  stack: string;
  /** Own enumerable properties that survive structured clone (e.g. `code`). */
  props: Record<string, unknown>;
  /** A thrown non-Error value, passed through as is. */
  raw?: unknown;
  isRaw?: boolean;
  /** The error's own `cause`, chained under the RemoteError on the caller's side. */
  cause?: SerializedError;
  /** AggregateError's `errors`. */
  errors?: SerializedError[];
}

const BUILTINS: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Built-ins rebuilt from more than a message. */
const SPECIAL = new Set(['AggregateError', 'DOMException']);

function builtinName(error: Error): string {
  if (error instanceof AggregateError) return 'AggregateError';
  if (typeof DOMException === 'function' && error instanceof DOMException) return 'DOMException';
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    const name = (proto.constructor as { name?: string } | undefined)?.name;
    if (name && name in BUILTINS && proto === BUILTINS[name]!.prototype) return name;
  }
  return 'Error';
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (!(error instanceof Error)) {
    const raw = cloneable(error) ? error : String(error);
    return { __napiMpError: true, ctor: 'Error', name: 'Error', message: String(raw), stack: '', props: {}, raw, isRaw: true };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause' || key === 'errors') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  const ctor = builtinName(error);
  const serialized: SerializedError = {
    __napiMpError: true,
    ctor,
    name: error.name,
    message: error.message,
    stack: error.stack ?? `${error.name}: ${error.message}`,
    props,
  };
  // Nested errors, a few levels deep (a cycle must not recurse forever).
  if (depth < 8) {
    if (error.cause !== undefined) serialized.cause = serializeError(error.cause, depth + 1);
    if (ctor === 'AggregateError') serialized.errors = (error as AggregateError).errors.map((e) => serializeError(e, depth + 1));
  }
  return serialized;
}

/**
 * The caller's error: same class (built-ins), name, message and own properties; the worker's stack
 * text in `cause` as a RemoteError; the stack is the caller's, so it shows where the work was awaited.
 */
export function deserializeError(data: SerializedError): unknown {
  if (data.isRaw) return data.raw;
  let error: Error & Record<string, unknown>;
  if (data.ctor === 'AggregateError') {
    error = new AggregateError((data.errors ?? []).map(deserializeError), data.message) as unknown as Error &
      Record<string, unknown>;
  } else if (data.ctor === 'DOMException' && typeof DOMException === 'function') {
    error = new DOMException(data.message, data.name) as unknown as Error & Record<string, unknown>;
  } else {
    const Ctor = BUILTINS[data.ctor] ?? Error;
    error = new Ctor(data.message) as unknown as Error & Record<string, unknown>;
    // One of this package's errors (TimeoutError, Empty, …) thrown in the task: same class here.
    const own = data.ctor === 'Error' && Object.hasOwn(rebuildableErrors, data.name) ? rebuildableErrors[data.name]! : undefined;
    if (own && data.props.code === own.code) Object.setPrototypeOf(error, own.prototype);
  }
  if (error.name !== data.name && !SPECIAL.has(data.ctor)) {
    Object.defineProperty(error, 'name', { value: data.name, enumerable: false, configurable: true, writable: true });
  }
  for (const [key, value] of Object.entries(data.props)) {
    if (key !== 'cause') error[key] = value;
  }
  Object.defineProperty(error, 'cause', {
    value: new RemoteError(data.stack, data.cause ? { cause: deserializeError(data.cause) } : undefined),
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return error;
}

export function isSerializedError(value: unknown): value is SerializedError {
  return typeof value === 'object' && value !== null && (value as SerializedError).__napiMpError === true;
}
