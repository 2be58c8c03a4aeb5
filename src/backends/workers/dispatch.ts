/**
 * The worker backend's dispatch decisions: what each task is known to cost, how many jobs go in
 * one message, how many messages a worker may hold, and how big a slice of a divisible map is.
 */
import type { TransferListItem } from 'node:worker_threads';

import type { TaskSpec } from '../../task.js';
import type { Sink } from '../backend.js';

export interface PendingJob {
  id: number;
  sid: number;
  /** The calls: the plain list, or encoded (transfer.ts) when `shared`. */
  items: unknown;
  shared: boolean;
  /** Calls in this job, for the per-call cost. */
  count: number;
  star: boolean;
  spec: TaskSpec;
  sink: Sink;
  transfer: TransferListItem[];
  /** One call (applyAsync): `items` is its argument tuple, and it resolves with the value itself. */
  single: boolean;
  /** Its sink takes results as they arrive, a Float64Array included (see worker/numbers.ts). */
  packed: boolean;
  message: number;
  /** The operation it belongs to, for cancel(). */
  op?: object;
  /** Times this job went back to the queue because the worker holding it died before starting it. */
  retries: number;
}

/** A FIFO of jobs that takes from its head without shifting the whole array each time. */
export class JobQueue {
  #items: PendingJob[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  at(i: number): PendingJob | undefined {
    return this.#items[this.#head + i];
  }

  push(job: PendingJob): void {
    this.#items.push(job);
  }

  /** Up to `n` jobs from the head. */
  take(n: number): PendingJob[] {
    const taken = this.#items.slice(this.#head, this.#head + n);
    this.#head += taken.length;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) this.#compact();
    return taken;
  }

  /** Jobs that go back to the front (a crashed worker's unstarted ones), kept in submission order. */
  unshift(jobs: PendingJob[]): void {
    this.#compact();
    this.#items = [...jobs, ...this.#items].sort((a, b) => a.id - b.id);
  }

  /** Removes and returns the jobs `test` picks (all of them without `test`). */
  remove(test?: (job: PendingJob) => boolean): PendingJob[] {
    this.#compact();
    if (!test) return this.#items.splice(0);
    const removed = this.#items.filter(test);
    if (removed.length > 0) this.#items = this.#items.filter((job) => !test(job));
    return removed;
  }

  #compact(): void {
    if (this.#head === 0) return;
    this.#items = this.#items.slice(this.#head);
    this.#head = 0;
  }
}

export interface Shape {
  /** Jobs per message (or, for a divisible map, calls per slice). */
  batch: number;
  /** Messages a worker may hold. */
  prefetch: number;
}

/** How to cut the next slice of a divisible map. */
export interface SliceShape extends Shape {
  /**
   * The fewest calls worth a message: the work that covers a round trip. The tail of the map is
   * not cut finer than this (nor leaves a remainder smaller), so no worker waits on a message
   * holding less work than the trip that brought it.
   */
  least: number;
}

const SERIAL: Shape = { batch: 1, prefetch: 1 };
const SERIAL_SLICE: SliceShape = { ...SERIAL, least: 1 };
/** A message's work at or above this runs alone on its worker, as in Python. */
const LONG_MS = 50;
/** Below this per job, a second message per worker is worth holding (it hides the round trip). */
const MEDIUM_MS = 2;
/** Aimed-for work per message when jobs are cheap: large enough that the round trip is noise. */
const BATCH_MS = 4;
const MAX_BATCH = 4096;
/** The least work worth a slice of a divisible map: above a round trip, even a child process's. */
const MIN_SLICE_MS = 1;
/** A per-call cost this many times above or below the known one is a new regime, not drift. */
const REGIME = 4;

/** Per task: mean time of one call in ms, undefined until a first result returns. */
export class CostTable {
  readonly #perCall = new Map<number, { ms: number; weight: number }>();

  callMs(sid: number): number | undefined {
    return this.#perCall.get(sid)?.ms;
  }

  /**
   * `ms` spent on `calls` calls. The new sample weighs at least as much as everything before it,
   * so a cost that drifts (inputs growing) is followed within a few messages. A sample several
   * times off the mean replaces it: halving the distance per message, a cost learnt on another
   * map's 5 ms calls would take a dozen messages to come down to 1 µs ones.
   */
  record(sid: number, ms: number, calls: number): void {
    if (calls <= 0) return;
    const known = this.#perCall.get(sid);
    const ratio = known ? ms / calls / known.ms : 1;
    const old = ratio > REGIME || ratio < 1 / REGIME ? 0 : Math.min(known?.weight ?? 0, calls);
    const mean = known && old > 0 ? (known.ms * old + ms) / (old + calls) : ms / calls;
    this.#perCall.set(sid, { ms: mean, weight: old + calls });
  }

  /**
   * Jobs per message and messages per worker for queued jobs of `calls` calls each. Holding a
   * second message hides the round trip between two jobs; it is only worth its cost at the tail
   * (a worker sitting on a queued job while another idles) when jobs are short, so long and
   * unknown ones go out strictly one at a time, as in Python.
   */
  shape(sid: number, calls: number, queued: number, workers: number): Shape {
    const callMs = this.callMs(sid);
    if (callMs === undefined) return SERIAL;
    const jobMs = callMs * calls;
    if (jobMs >= LONG_MS) return SERIAL;
    if (jobMs >= MEDIUM_MS) return { batch: 1, prefetch: 2 };
    const share = Math.ceil(queued / Math.max(1, workers));
    return { batch: clamp(Math.floor(BATCH_MS / Math.max(jobMs, 1e-6)), 1, Math.min(MAX_BATCH, share)), prefetch: 2 };
  }

  /**
   * Calls per slice of a divisible map with `left` calls not yet handed out: one while the cost is
   * unknown (the first answer teaches it), then about BATCH_MS of work, and never more than a
   * fraction of what is left, so that the last slices are small and every worker finishes at
   * about the same time (guided self-scheduling). The last slice of each worker goes out only once
   * that worker is free: held behind another, it could leave a worker idle at the very end.
   */
  slice(sid: number, left: number, workers: number): SliceShape {
    const callMs = this.callMs(sid);
    if (callMs === undefined) return SERIAL_SLICE;
    const perCall = Math.max(callMs, 1e-7);
    const fair = Math.ceil(left / (2 * Math.max(1, workers)));
    const batch = clamp(Math.floor(BATCH_MS / perCall), 1, fair);
    const least = Math.max(1, Math.ceil(MIN_SLICE_MS / perCall));
    // (Not `least`: learnt from a map's cheap first calls, it would stop all holding early on.)
    const last = left <= workers * batch;
    return { batch, prefetch: last || callMs * batch >= LONG_MS ? 1 : 2, least };
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(n, max));
}

/** One task id per distinct task, shared by all pools, so a worker compiles each task once. */
const taskIds = new Map<string, number>();
const taskIdBySpec = new WeakMap<TaskSpec, number>();

function taskKey(spec: TaskSpec): string {
  switch (spec.kind) {
    case 'inline':
      return `inline:${spec.name}:${spec.source}`;
    case 'module':
      return `module:${spec.url}#${spec.exportName}`;
    case 'kernel':
      return `kernel:${spec.name}`;
  }
}

export function taskIdOf(spec: TaskSpec): number {
  let id = taskIdBySpec.get(spec);
  if (id !== undefined) return id;
  const key = taskKey(spec);
  id = taskIds.get(key);
  if (id === undefined) {
    id = taskIds.size + 1;
    taskIds.set(key, id);
  }
  taskIdBySpec.set(spec, id);
  return id;
}
