/**
 * `backend: 'native'`: kernels from `native` on a rayon thread pool owned by the Pool.
 *
 * Each batch becomes one off-thread napi task; inside it rayon schedules every item as its own
 * stealable job, so a batch whose items grow in cost still keeps every thread busy. When no
 * native binary loads, the same kernels run in pure TypeScript on `processes` worker threads:
 * slower, but still parallel, off the event loop, with the same results and API.
 */
import { PoolTerminatedError } from '../../errors.js';
import { checkKernelInput, type KernelName } from '../../native/api.js';
import { binding, fromNative } from '../../native/binding.js';
import type { TaskSpec } from '../../task.js';
import { describeTask } from '../../task.js';
import type { Backend, BackendOptions, Batch } from '../backend.js';
import { WorkerBackend } from '../workers/backend.js';

interface BatchEntry {
  readonly op: object | undefined;
  cancelled: boolean;
}

type NativePoolHandle = InstanceType<NonNullable<typeof binding>['NativePool']>;

export class NativeBackend implements Backend {
  readonly kind = 'native' as const;
  /** A map with no chunksize goes to rayon whole: its work stealing balances every item. */
  readonly splits = true;
  #pool: NativePoolHandle | null;
  /** Without a binary: worker threads running the pure-TS kernels. */
  readonly #fallback: WorkerBackend | null;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Each pending batch's reject, with the operation it belongs to (for cancel()). */
  readonly #rejectors = new Map<(error: Error) => void, BatchEntry>();
  readonly #threads: number;
  #terminated = false;

  constructor(options: BackendOptions) {
    this.#threads = options.processes;
    this.#pool = binding ? new binding.NativePool(options.processes) : null;
    this.#fallback = binding ? null : new WorkerBackend('thread', options);
  }

  check(spec: TaskSpec): void {
    if (spec.kind !== 'kernel') {
      throw new TypeError(
        `The native backend runs only native kernels (native.isPrime, native.sumPrimes, native.sumPrimesBigInt); ` +
          `got ${describeTask(spec)}. Use backend 'thread' or 'process' for JavaScript functions.`,
      );
    }
  }

  run(spec: TaskSpec, batch: Batch): Promise<unknown[]> {
    if (this.#terminated) return Promise.reject(new PoolTerminatedError());
    this.check(spec);
    const name = (spec as { name: KernelName }).name;
    let work: Promise<unknown[]>;
    const entry: BatchEntry = { op: batch.op, cancelled: false };
    try {
      const inputs = batch.items.map((item) => checkKernelInput(name, batch.star ? (item as unknown[])[0] : item, 'n'));
      work = this.#pool
        ? this.#runNative(name, inputs, entry)
        : this.#fallback!.run(spec, { items: inputs, star: false, op: batch.op, split: batch.split });
      if (batch.single) work = work.then((values) => values[0] as never);
    } catch (error) {
      return Promise.reject(error);
    }
    // terminate() must settle every pending batch at once, even while rayon is still busy.
    const settled = new Promise<unknown[]>((resolve, reject) => {
      this.#rejectors.set(reject, entry);
      work.then(resolve, reject).finally(() => this.#rejectors.delete(reject));
    });
    const tracked = work.catch(() => {});
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return settled;
  }

  #runNative(name: KernelName, inputs: (number | bigint)[], entry: BatchEntry): Promise<unknown[]> {
    const pool = this.#pool!;
    const call = inputs.some((x) => typeof x === 'bigint')
      ? pool.mapBigints(
          name,
          inputs.map((x) => BigInt(x)),
        )
      : pool.mapNumbers(name, inputs as number[]);
    return call.catch((error: unknown) => {
      // Stopped because cancel() replaced the rayon pool for another operation: run it again there.
      if (pool !== this.#pool && this.#pool && !entry.cancelled) return this.#runNative(name, inputs, entry);
      throw fromNative(error);
    }) as Promise<unknown[]>;
  }

  /**
   * Rejects the operation's batches at once and stops their kernels at the next stop check. The
   * binary has one stop flag per rayon pool, so the pool is replaced: the batches of other
   * operations it stopped run again on the new one.
   */
  cancel(op: object, reason: Error): void {
    this.#fallback?.cancel(op, reason);
    let hit = false;
    for (const [reject, entry] of this.#rejectors) {
      if (entry.op !== op) continue;
      entry.cancelled = true;
      hit = true;
      reject(reason);
    }
    if (!hit || !this.#pool) return;
    const stopped = this.#pool;
    this.#pool = new binding!.NativePool(this.#threads);
    stopped.shutdown();
  }

  async drain(): Promise<void> {
    await this.#fallback?.drain();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    this.#shutdown();
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    const error = new PoolTerminatedError();
    for (const reject of this.#rejectors.keys()) reject(error);
    this.#rejectors.clear();
    this.#shutdown();
    await this.#fallback?.terminate();
    // Items already running in rayon cannot be interrupted; wait for them so no thread outlives us.
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #shutdown(): void {
    this.#pool?.shutdown();
    this.#pool = null;
    this.#terminated = true;
  }
}
