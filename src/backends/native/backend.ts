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

type NativePoolHandle = InstanceType<NonNullable<typeof binding>['NativePool']>;

export class NativeBackend implements Backend {
  readonly kind = 'native' as const;
  #pool: NativePoolHandle | null;
  /** Without a binary: worker threads running the pure-TS kernels. */
  readonly #fallback: WorkerBackend | null;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #rejectors = new Set<(error: Error) => void>();
  #terminated = false;

  constructor(options: BackendOptions) {
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
    try {
      const inputs = batch.items.map((item) => checkKernelInput(name, batch.star ? (item as unknown[])[0] : item, 'n'));
      work = this.#pool ? this.#runNative(name, inputs) : this.#fallback!.run(spec, { items: inputs, star: false });
      if (batch.single) work = work.then((values) => values[0] as never);
    } catch (error) {
      return Promise.reject(error);
    }
    // terminate() must settle every pending batch at once, even while rayon is still busy.
    const settled = new Promise<unknown[]>((resolve, reject) => {
      this.#rejectors.add(reject);
      work.then(resolve, reject).finally(() => this.#rejectors.delete(reject));
    });
    const tracked = work.catch(() => {});
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return settled;
  }

  #runNative(name: KernelName, inputs: (number | bigint)[]): Promise<unknown[]> {
    const pool = this.#pool!;
    const call = inputs.some((x) => typeof x === 'bigint')
      ? pool.mapBigints(name, inputs.map((x) => BigInt(x)))
      : pool.mapNumbers(name, inputs as number[]);
    return call.catch((error: unknown) => {
      throw fromNative(error);
    }) as Promise<unknown[]>;
  }

  async drain(): Promise<void> {
    await this.#fallback?.drain();
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    this.#shutdown();
  }

  async terminate(): Promise<void> {
    this.#terminated = true;
    const error = new PoolTerminatedError();
    for (const reject of this.#rejectors) reject(error);
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
