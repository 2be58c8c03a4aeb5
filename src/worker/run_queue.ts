/**
 * How long this thread has waited for a CPU: what a job's measured time leaves out.
 *
 * A pool sizes its messages from what the last ones cost (CostTable in backends/workers/
 * dispatch.ts). Wall time alone misleads it on a loaded machine: a worker descheduled for a few
 * milliseconds during a one-call job of 30 µs reports a call a hundred times dearer than it is, and
 * a divisible map then ramps up from one call at a time instead of jumping to the size the true
 * cost asks for (seen in CI: slices 1, 1, 2, 4, ... 512). CPU time would not do either: a task that
 * awaits I/O costs its wall time, not its few µs of CPU. So a job's time is its wall time less the
 * time the thread was runnable but not running, which Linux counts per thread (the second field of
 * /proc/thread-self/schedstat, "time spent waiting on a runqueue", in ns).
 */
const fs = process.getBuiltinModule('node:fs');

/** This thread's schedstat, opened once (an open of a /proc path costs ~5 µs, a read ~1.4 µs). -1: not available. */
let fd: number | undefined;
const text = Buffer.alloc(96);

function open(): number {
  try {
    // /proc/thread-self names the opening thread: each worker thread opens its own (Node closes
    // the descriptors a worker thread opened when it ends, terminated or not).
    return fs.openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return -1; // not Linux, or /proc not mounted: jobs are measured by wall time alone
  }
}

/** Milliseconds this thread has waited on a run queue since it started; NaN where unknown. */
export function runQueueWaitMs(): number {
  fd ??= open();
  if (fd < 0) return Number.NaN;
  try {
    const length = fs.readSync(fd, text, 0, text.length, 0);
    const line = text.toString('latin1', 0, length);
    const from = line.indexOf(' ') + 1;
    const to = line.indexOf(' ', from);
    return from > 0 && to > from ? Number(line.slice(from, to)) / 1e6 : Number.NaN;
  } catch {
    fd = -1;
    return Number.NaN;
  }
}

/**
 * `wallMs` of a job less the time its thread waited for a CPU meanwhile (`waitedBefore`: this
 * thread's runQueueWaitMs() as the job began, while running, as now: so every wait counted
 * between the two reads lies inside the job).
 */
export function withoutRunQueueWait(wallMs: number, waitedBefore: number): number {
  const waited = runQueueWaitMs() - waitedBefore;
  return waited > 0 ? Math.max(wallMs - waited, 0) : wallMs;
}
