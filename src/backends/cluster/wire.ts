/**
 * What travels through Redis between a cluster pool and its workers: plain data only.
 *
 * A job names its task (module names and an export name, or a native kernel's name) and carries
 * its arguments as v8-serialised bytes (structured-clone fidelity: bigints, Maps, Dates, typed
 * arrays survive). Deserialising builds values, never runs code; a worker looks the task up among
 * the modules it was started with and runs nothing else.
 */
import { deserialize, serialize } from 'node:v8';

import { describeTask, type TaskSpec } from '../../task.js';
import { encode } from '../../reduction/transfer.js';
import { serializeError, type SerializedError } from '../../worker/protocol.js';
import { NAME_SCHEME, moduleKeys } from './names.js';

/** The part of a job that says what to run. */
export type WireTask = { kind: 'module'; keys: string[]; exportName: string } | { kind: 'kernel'; name: string };

export interface JobData {
  v: 1;
  task: WireTask;
  star: boolean;
  /** base64 of `v8.serialize(items)`. */
  items: string;
  /** The Redis list this job's result goes to (one per pool session). */
  reply: string;
}

export interface WireResult {
  id: string;
  ok: boolean;
  values?: unknown[];
  error?: SerializedError;
  /** The worker that ran it (`host:pid`), and how long it took there. */
  node: string;
  ms: number;
}

export function wireTask(spec: TaskSpec): WireTask {
  if (spec.kind === 'kernel') return { kind: 'kernel', name: spec.name };
  if (spec.kind !== 'module') throw new TypeError(`${describeTask(spec)} cannot be sent to cluster workers`);
  const keys = spec.url.startsWith(NAME_SCHEME) ? [spec.url] : moduleKeys(spec.url);
  return { kind: 'module', keys, exportName: spec.exportName };
}

export function describeWireTask(task: WireTask): string {
  return task.kind === 'kernel' ? `native.${task.name}` : `${task.exportName} from ${task.keys[0]}`;
}

function refuseShared(type: string): TypeError {
  return new TypeError(
    `A ${type} cannot be sent to cluster workers: it lives in memory shared between threads of one process, ` +
      `and cluster workers run on other processes or machines. Send plain values.`,
  );
}

/** The job's arguments as text for BullMQ's JSON job data. */
export function packItems(items: unknown[]): string {
  encode(items, [], refuseShared);
  try {
    return serialize(items).toString('base64');
  } catch (error) {
    throw new TypeError(
      `The arguments could not be sent to cluster workers (${(error as Error).message}). ` +
        `Arguments must be structured-cloneable: plain data, arrays, Maps, Sets, typed arrays, Errors.`,
      { cause: error },
    );
  }
}

export function unpackItems(text: string): unknown[] {
  const items = deserialize(Buffer.from(text, 'base64')) as unknown;
  if (!Array.isArray(items)) throw new TypeError('The job arguments are not a list');
  return items;
}

export function packResult(result: WireResult): Buffer {
  try {
    return serialize(result);
  } catch (error) {
    const failure = new TypeError(
      `The result of the task could not be sent back from the cluster worker (${(error as Error).message}). ` +
        `Results must be structured-cloneable: plain data, arrays, Maps, Sets, typed arrays, Errors.`,
    );
    return serialize({ id: result.id, ok: false, error: serializeError(failure), node: result.node, ms: result.ms });
  }
}

export function unpackResult(bytes: Buffer): WireResult | undefined {
  try {
    const result = deserialize(bytes) as WireResult;
    return typeof result === 'object' && result !== null && typeof result.id === 'string' ? result : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An error the worker's local pool rebuilt (class, props, the task's stack in a RemoteError
 * cause), serialised again with that original stack, so the caller gets it as if run locally.
 */
export function relayError(error: unknown, depth = 0): SerializedError {
  const serialized = serializeError(error);
  const cause =
    error instanceof Error ? (error.cause as { name?: string; remoteStack?: unknown; cause?: unknown } | undefined) : undefined;
  if (cause && cause.name === 'RemoteError' && typeof cause.remoteStack === 'string') {
    serialized.stack = cause.remoteStack;
    if (cause.cause !== undefined && depth < 8) serialized.cause = relayError(cause.cause, depth + 1);
    else delete serialized.cause;
  }
  return serialized;
}

/** Checks the shape of job data read from Redis (anyone who can write to Redis can write a job). */
export function checkJobData(data: unknown): JobData {
  const d = data as Partial<JobData> | null;
  const task = d?.task as Partial<{ kind: string; keys: unknown; exportName: unknown; name: unknown }> | undefined;
  const taskOk =
    task !== undefined &&
    ((task.kind === 'kernel' && typeof task.name === 'string') ||
      (task.kind === 'module' &&
        Array.isArray(task.keys) &&
        task.keys.every((k) => typeof k === 'string') &&
        typeof task.exportName === 'string'));
  if (d?.v !== 1 || !taskOk || typeof d.star !== 'boolean' || typeof d.items !== 'string' || typeof d.reply !== 'string') {
    throw new TypeError('Not a napi-multiprocessing job (unknown data shape)');
  }
  return d as JobData;
}
