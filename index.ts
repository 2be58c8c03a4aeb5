/**
 * napi-multiprocessing: Python's `multiprocessing` programming model for Node.js.
 * Everything public is exported from here; each concept lives in its own module under `src/`.
 */
export { Pool, type PoolOptions, type MapAsyncOptions, type BackendKind } from './src/pool/pool.js';
export { AsyncResult, type ResultCallbacks } from './src/pool/async_result.js';
export { task, type TaskHandle, type TaskLike, type TaskArgs, type TaskResult } from './src/task.js';
export { native, type Native, type NativeKernel } from './src/native/api.js';
export { Process, activeChildren, cpuCount, currentProcess, type ProcessOptions, type ProcessInfo } from './src/process/process.js';
export {
  TimeoutError,
  Empty,
  Full,
  EOFError,
  BrokenBarrierError,
  ProcessError,
  WorkerCrashedError,
  PoolTerminatedError,
  RemoteError,
  AuthenticationError,
} from './src/errors.js';
export {
  Value,
  SharedArray,
  RawValue,
  RawArray,
  type Typecode,
  type IntegerTypecode,
  type BigIntTypecode,
  type FloatTypecode,
  type ElementOf,
  type TypedArrayFor,
} from './src/sharedctypes/sharedctypes.js';
export {
  Lock,
  RLock,
  Semaphore,
  BoundedSemaphore,
  Event,
  Acquirable,
  type AcquireOptions,
  type Held,
} from './src/synchronize/locks.js';
export { Condition, Barrier, type BarrierOptions } from './src/synchronize/condition.js';
export { Queue, JoinableQueue, SimpleQueue, type QueueOptions } from './src/queues/queues.js';
export { Pipe, Connection } from './src/connection/pipe.js';
export type { SumPrimesIntoOptions } from './src/native/into.js';
