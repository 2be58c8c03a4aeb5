/**
 * A divisible map (`Pool.map` with no chunksize): the backend cuts it into slices as workers
 * free up, each sized from the task's measured cost (see `CostTable.slice`), instead of the pool
 * fixing the chunks before anything is known about the task.
 */
import type { TransferListItem } from 'node:worker_threads';

import { encode, hasShared } from '../../reduction/transfer.js';
import { processRefusal } from '../../shm/memory.js';
import type { TaskSpec } from '../../task.js';
import { packInto, packNumbers, unpackInto } from '../../worker/numbers.js';
import { type Batch, kReject, kResolve, type Sink } from '../backend.js';
import type { PendingJob, SliceShape } from './dispatch.js';

/** A spare buffer above this is not kept: its pages are better returned than held by an idle pool. */
const MAX_SPARE_BYTES = 32 * 1024 * 1024;

/**
 * A pool's shared buffer for maps of numbers, kept from one map to the next: touching a fresh
 * buffer of megabytes for the first time costs more (page faults) than packing the numbers into
 * it. A map gives it back only once every slice it sent has come back, so no worker can still be
 * writing to it when the next map packs its items there.
 */
export class SpareNumbers {
  #buffer: SharedArrayBuffer | undefined;

  /** A Float64Array of `count` numbers in shared memory: the spare if it is big enough. */
  take(count: number): Float64Array {
    const bytes = count * Float64Array.BYTES_PER_ELEMENT;
    const spare = this.#buffer;
    if (spare && spare.byteLength >= bytes) {
      this.#buffer = undefined;
      return new Float64Array(spare, 0, count);
    }
    return new Float64Array(new SharedArrayBuffer(bytes));
  }

  give(numbers: Float64Array): void {
    const buffer = numbers.buffer as SharedArrayBuffer;
    if (buffer.byteLength <= MAX_SPARE_BYTES && buffer.byteLength > (this.#buffer?.byteLength ?? 0)) this.#buffer = buffer;
  }

  clear(): void {
    this.#buffer = undefined;
  }
}

export class SplitSource {
  #next = 0;
  /**
   * The largest slice allowed next: each may be at most twice the one before, or an eighth of
   * what the cost known now asks for. A cost learnt from a few cheap calls says little about the
   * next ones (the seed's inputs grow), so slices grow as the evidence does rather than jumping
   * to a quarter of the map at once; but a map that starts with a cost learnt from another map's
   * dearer calls is not held to single calls once its own cheap ones are back.
   */
  #ramp = 0;
  #running = 0;
  /** Calls whose results are back. */
  #done = 0;
  #failure: { error: unknown } | undefined;
  #settled = false;
  /**
   * For thread workers, a map of numbers (numbers.ts) in shared memory, one buffer for the whole
   * map, each slice packed into its place as it is cut: a slice crosses as a view, uncopied, and
   * the worker writes its results over it, so no buffer is allocated per slice on either side.
   */
  readonly #numbers: Float64Array | undefined;
  /** Every call is in `#numbers` already (a lent list of numbers, packed as the map began). */
  readonly #packed: boolean;
  /**
   * The calls, in a list this map owns (the pool's copy of the input, or one made here from a lent
   * list), which becomes the map's results: each slice's are written over its calls (which went
   * out when it was cut) as they come back, while the workers run the next ones. No second array
   * of the map's length, and the list keeps its elements kind when the results share it. When
   * every call is packed, the results get an array of their own, made as the first slice is back.
   */
  #list: unknown[] | undefined;
  readonly length: number;
  readonly star: boolean;
  readonly op: object | undefined;

  constructor(
    /** Its place in submission order, among the queued jobs' ids. */
    readonly id: number,
    readonly sid: number,
    readonly spec: TaskSpec,
    batch: Batch,
    readonly forProcess: boolean,
    readonly sink: Sink,
    /** Where a thread pool keeps its buffer for maps of numbers between maps; none for processes. */
    readonly spare: SpareNumbers | undefined,
  ) {
    const { items, star, op, lent } = batch;
    this.length = items.length;
    this.star = star;
    this.op = op;
    // (Not for a list that starts with something else: it would most likely stay unused.)
    const numeric = spare && !star && items.length >= 2 && typeof items[0] === 'number';
    this.#numbers = numeric ? spare.take(items.length) : undefined;
    // A lent list is read now, before the caller can change it: straight into the buffer when it
    // holds only numbers (the only copy made), else copied as the pool would have.
    this.#packed = lent === true && this.#numbers !== undefined && packInto(items, 0, items.length, this.#numbers);
    this.#list = this.#packed ? undefined : lent ? Array.from(items) : items;
  }

  /** Calls not yet handed out; 0 once failed to encode or cancelled. */
  get left(): number {
    return this.length - this.#next;
  }

  /** The next slice, as `shape` sizes it, as one job with id `id`; undefined when none are left. */
  cut(shape: SliceShape, id: number): PendingJob | undefined {
    const start = this.#next;
    const size = this.#size(shape);
    const end = Math.min(this.length, start + size);
    if (end <= start) return undefined;
    this.#next = end;
    const transfer: TransferListItem[] = [];
    let items: unknown;
    let shared = false;
    try {
      const numbers = this.#numbersOf(start, end);
      if (numbers) {
        items = numbers;
      } else {
        const slice = this.#list!.slice(start, end);
        items = encode(slice, transfer, this.forProcess ? processRefusal : undefined);
        shared = hasShared(items);
        if (!shared) items = slice;
      }
    } catch (error) {
      // As an unpicklable chunk in Python: the map fails with it, and nothing more goes out.
      this.#next = this.length;
      this.#fail(error);
      this.#finishIfDone();
      return undefined;
    }
    this.#running++;
    const sink: Sink = {
      [kResolve]: (values) => this.#sliceDone(start, values as ArrayLike<unknown>),
      [kReject]: (error) => this.#sliceFailed(error),
    };
    return {
      id,
      sid: this.sid,
      items,
      shared,
      count: end - start,
      star: this.star,
      spec: this.spec,
      sink,
      transfer,
      single: false,
      packed: true,
      op: this.op,
      message: 0,
      retries: 0,
    };
  }

  /** `items[start, end)` as a Float64Array when all are numbers (numbers.ts). */
  #numbersOf(start: number, end: number): Float64Array | undefined {
    if (this.star) return undefined;
    const all = this.#numbers;
    if (this.#packed) return all!.subarray(start, end);
    if (!all) return packNumbers(this.#list!, start, end);
    return packInto(this.#list!, start, end, all) ? all.subarray(start, end) : undefined;
  }

  /**
   * Calls in the next slice: what `shape` asks, within the ramp. Once most of the map is measured,
   * also at least a round trip's worth, and a smaller remainder goes with it. Before that the
   * cost comes from the first calls, which for the seed are the cheapest by far: a floor learnt
   * from them would hand one worker its dearest calls at once.
   */
  #size(shape: SliceShape): number {
    const left = this.left;
    const least = this.#done >= left ? shape.least : 1;
    const size = Math.min(Math.max(shape.batch, least), Math.max(this.#ramp, 1, Math.floor(shape.batch / 8)));
    this.#ramp = size * 2;
    return left - size < least ? left : size;
  }

  /** Rejects at once (cancel, terminate, a failed start); slices still out are ignored when they return. */
  abandon(error: unknown): void {
    this.#next = this.length;
    if (this.#settled) return;
    this.#settled = true;
    this.sink[kReject](error);
  }

  #sliceDone(start: number, values: ArrayLike<unknown>): void {
    const results = (this.#list ??= new Array<unknown>(this.length));
    if (values instanceof Float64Array) unpackInto(results, start, values);
    else for (let i = 0; i < values.length; i++) results[start + i] = values[i];
    this.#done += values.length;
    this.#running--;
    this.#finishIfDone();
  }

  #sliceFailed(error: unknown): void {
    this.#running--;
    this.#fail(error);
    this.#finishIfDone();
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
  }

  /** As Python (3.8+): the first error wins, but the map settles only when every slice has finished. */
  #finishIfDone(): void {
    if (this.#settled || this.#running > 0 || this.left > 0) return;
    this.#settled = true;
    // Every slice is back (abandon() settles first, with slices perhaps still being written).
    if (this.#numbers) this.spare?.give(this.#numbers);
    if (this.#failure) {
      this.sink[kReject](this.#failure.error);
      return;
    }
    this.sink[kResolve](this.#list ?? []);
  }
}
