/**
 * Frees the shared memory an idle pool worker no longer uses.
 *
 * A shared object a task received (a Queue's 64 KiB buffer, a SharedArray…) stays allocated until
 * every thread that holds it collects its garbage. A worker that has gone idle allocates nothing,
 * so V8 never collects there, and 4,000 queues used once by a pool would stay allocated (250 MiB)
 * for as long as its workers live. So a worker that made or revived shared objects during its
 * tasks runs one full collection once it has been idle for a moment.
 */
import { sharedObjectsMade } from '../shm/made.js';

const IDLE_COLLECT_MS = 1_000;

/** `sharedObjectsMade()` at the last collection: nothing new since, nothing to free. */
let collectedAt = 0;
let timer: NodeJS.Timeout | undefined;
let gc: (() => void) | undefined;

/** A task starts: no collection while it runs. */
export function workerBusy(): void {
  clearTimeout(timer);
  timer = undefined;
}

/** The worker has nothing to do: collect soon if its tasks used shared objects. */
export function workerIdle(): void {
  if (sharedObjectsMade() === collectedAt) return;
  clearTimeout(timer);
  timer = setTimeout(collect, IDLE_COLLECT_MS);
  timer.unref();
}

function collect(): void {
  timer = undefined;
  collectedAt = sharedObjectsMade();
  gc ??= exposedGc();
  // Not fetched this time (see exposedGc): the next idle moment tries again.
  if (gc === undefined) collectedAt = 0;
  gc?.();
}

/** Tries before exposedGc gives up for now; each try is two flag changes and a new context. */
const GC_TRIES = 8;

/**
 * V8's collector, which Node only exposes with --expose-gc: set it just long enough to fetch it
 * from a new context. V8's flags belong to the process, so another thread doing the same (two
 * pool workers that went idle together) may turn the flag off between this thread's setting it
 * and its new context: then that context has no `gc`, and this tries again. Undefined when every
 * try lost that race (never an exception: this runs on an idle worker's timer).
 */
export function exposedGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return global as () => void;
  // Loaded here, not at the top: a worker that never needs a collection never loads them.
  const v8 = process.getBuiltinModule('node:v8');
  const vm = process.getBuiltinModule('node:vm');
  for (let tries = 0; tries < GC_TRIES; tries++) {
    v8.setFlagsFromString('--expose-gc');
    try {
      const found: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
      if (typeof found === 'function') return found as () => void;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  return undefined;
}
