import type { TransferListItem, Worker } from 'node:worker_threads';

import { decode, encode } from '../../src/reduction/transfer.js';
import { tsWorker } from './ts-worker.js';

const fixture = new URL('../fixtures/shared-worker.ts', import.meta.url);

/** Rejects when `ms` pass first, so that no test can hang on a lost wake-up. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface Running<R> {
  worker: Worker;
  result: Promise<R>;
}

/**
 * Runs scenario `name` of fixtures/shared-worker.ts in a new worker thread. Shared objects in
 * `args` cross with the package's transfer contract (encode here, decode there), as a Pool
 * task argument would; the result comes back the same way.
 */
export function startInWorker<R = unknown>(name: string, args: unknown[], deadlineMs = 60_000): Running<R> {
  const transfer: TransferListItem[] = [];
  const worker = tsWorker(fixture, { workerData: { name, args: encode(args, transfer) }, transferList: transfer });
  const result = new Promise<R>((resolve, reject) => {
    worker.once('message', (message: { ok: boolean; value: unknown }) => {
      if (message.ok) resolve(decode(message.value) as R);
      else reject(message.value);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker for '${name}' exited with code ${code} before answering`)));
  });
  const guarded = withDeadline(result, deadlineMs, `worker scenario '${name}'`).finally(() => void worker.terminate());
  return { worker, result: guarded };
}

export function inWorker<R = unknown>(name: string, ...args: unknown[]): Promise<R> {
  return startInWorker<R>(name, args).result;
}
