/**
 * napi-multiprocessing: Python's `multiprocessing` programming model for Node.js.
 * Everything public is exported from here; each concept lives in its own module under `src/`.
 */
export { Pool, type PoolOptions, type ApplyAsyncOptions, type MapAsyncOptions, type BackendKind } from './src/pool/pool.js';
export type { SignalOptions } from './src/pool/abort.js';
export { AsyncResult, type ResultCallbacks } from './src/pool/async_result.js';
export { task, type TaskHandle, type TaskLike, type TaskArgs, type TaskResult } from './src/task.js';
export { native, type Native, type NativeKernel, type SimdPath } from './src/native/api.js';
export { JobServer, type JobServerOptions, type SubmitOptions, type Job, type NodeStats } from './src/jobserver/jobserver.js';
export {
  Process,
  activeChildren,
  cpuCount,
  currentProcess,
  type ProcessOptions,
  type ProcessInfo,
} from './src/process/process.js';
export { Thread, currentThread, mainThread, type ThreadOptions, type ThreadInfo } from './src/process/thread.js';
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
export { BaseManager, ManagerServer, type BaseManagerOptions } from './src/managers/base.js';
export { SyncManager, Manager } from './src/managers/sync_manager.js';
export { BaseProxy, type Proxied } from './src/managers/proxy.js';
export type { RegisterOptions } from './src/managers/registry.js';
export type { Address } from './src/connection/address.js';
export {
  DictProxy,
  ListProxy,
  NamespaceProxy,
  ValueProxy,
  ArrayProxy,
  QueueProxy,
  JoinableQueueProxy,
  AcquirerProxy,
  EventProxy,
  ConditionProxy,
  BarrierProxy,
  type BlockOptions,
} from './src/managers/proxies.js';
