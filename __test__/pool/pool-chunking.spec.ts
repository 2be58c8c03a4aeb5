import test from 'ava';

import { Pool } from '../../index.js';
import { backends, fixture, runLengths, within } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: an explicit chunksize is honoured exactly, map and starmap`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 10 }, () => undefined);
    // Warm: the pool now knows the task is cheap, and would batch it if it were free to.
    await pool.map(
      fixture('jobMark'),
      Array.from({ length: 2000 }, () => undefined),
    );
    for (const [chunksize, expected] of [
      [3, [3, 3, 3, 1]],
      [1, Array.from({ length: 10 }, () => 1)],
      [10, [10]],
    ] as const) {
      t.deepEqual(
        runLengths(await within(t, 30_000, pool.map(fixture('jobMark'), xs, chunksize))),
        [...expected],
        `chunksize ${chunksize}`,
      );
      const tuples = xs.map(() => [] as []);
      t.deepEqual(
        runLengths(await pool.starmap(fixture('jobMark'), tuples, chunksize)),
        [...expected],
        `starmap, chunksize ${chunksize}`,
      );
    }
  });

  test(`${backend}: with no chunksize, tiny tasks travel many to a job`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 5000 }, () => undefined);
    const jobs = runLengths(await within(t, 30_000, pool.map(fixture('jobMark'), xs)));
    t.is(
      jobs.reduce((a, b) => a + b, 0),
      xs.length,
    );
    t.true(jobs.length < xs.length / 10, `${xs.length} calls in ${jobs.length} jobs`);
    // A cold pool learns the cost from one call, then lets each job grow to at most twice the one
    // before, or to an eighth of a fair share (half the map over the workers): a few cheap first
    // calls never hand one worker a quarter of the map at once.
    t.is(jobs[0], 1);
    const eighth = Math.ceil(xs.length / (2 * 2) / 8);
    for (let i = 1; i < jobs.length - 1; i++)
      t.true(jobs[i]! <= Math.max(2 * jobs[i - 1]!, eighth), `job ${i}: ${jobs.slice(0, i + 1).join(', ')}`);
  });

  test(`${backend}: with no chunksize, a map whose calls are cheaper than the last map's is not held to doubling from one call`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    // The pool learns a dear cost (50 ms a call), then maps the same task at next to no cost: the
    // first jobs, cut from the old cost, hold one call each; once their answers are back the
    // slices are cut from the new cost, not doubled one round trip at a time from there. (50 ms:
    // on a loaded machine a worker preempted for a few ms during a one-call job must still
    // measure a cost several times below the old one.)
    await within(
      t,
      60_000,
      pool.starmap(
        fixture('jobMarkAfter'),
        Array.from({ length: 8 }, (_, i) => [i, 50] as [number, number]),
      ),
    );
    const tuples = Array.from({ length: 5000 }, (_, i) => [i, 0] as [number, number]);
    const jobs = runLengths(await within(t, 30_000, pool.starmap(fixture('jobMarkAfter'), tuples)));
    t.is(jobs[0], 1);
    // (The last job may be bigger anyway: it takes a remainder too small to go alone.)
    t.true(
      jobs.slice(0, -1).some((n, i) => i > 0 && n > 2 * jobs[i - 1]!),
      jobs.join(', '),
    );
  });

  test(`${backend}: with no chunksize, a cheap map's last jobs still hold many calls (no job shorter than a round trip)`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const xs = Array.from({ length: 20_000 }, () => undefined);
    // Warm: the cost is known, so this map is sliced from the measured cost from its first job.
    await within(t, 30_000, pool.map(fixture('jobMark'), xs.slice(0, 5000)));
    const jobs = runLengths(await within(t, 30_000, pool.map(fixture('jobMark'), xs)));
    t.is(
      jobs.reduce((a, b) => a + b, 0),
      xs.length,
    );
    // The slices ramp up, then shrink towards the end. A call here costs about a microsecond: a
    // job of a few calls is all round trip, and a worker waits on it, so the shrinking stops well
    // before that. (The bound is loose: a loaded machine inflates the measured cost.)
    const tail = jobs.slice(jobs.indexOf(Math.max(...jobs)));
    t.true(Math.min(...tail) >= 10, jobs.join(', '));
  });

  test(`${backend}: with no chunksize, long tasks go one to a job (they balance as one task per item)`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    // Each call costs at least 20 ms: well above what the pool puts in one job.
    const tuples = Array.from({ length: 12 }, (_, i) => [i, 20] as [number, number]);
    const marks = await within(t, 60_000, pool.starmap(fixture('jobMarkAfter'), tuples));
    t.deepEqual(
      runLengths(marks),
      Array.from({ length: 12 }, () => 1),
      marks.join(', '),
    );
  });
}

for (const backend of backends) {
  test(`${backend}: numbers come back exactly as sent, -0, NaN and the largest safe integers included`, async (t) => {
    await using pool = new Pool({ backend, processes: 2 });
    const odd = [-0, 0, Number.NaN, 1.5, -(2 ** 53) + 1, 2 ** 53 - 1, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity];
    const xs = Array.from({ length: 3000 }, (_, i) => odd[i % odd.length]! * (i % 7 === 0 ? 1 : i));
    for (const chunksize of [undefined, 100]) {
      const back = await within(
        t,
        30_000,
        pool.map((x: number) => x, xs, chunksize),
      );
      t.true(Array.isArray(back), 'a plain array');
      t.true(
        back.every((x, i) => Object.is(x, xs[i])),
        `chunksize ${chunksize}`,
      );
      const mixed = await pool.map((x: number) => (x > 1e6 ? String(x) : x), xs, chunksize);
      t.true(mixed.every((x, i) => Object.is(x, xs[i]! > 1e6 ? String(xs[i]) : xs[i])));
      // Numbers, then a promise part-way through a list: the rest of the list is awaited in order.
      const later = await pool.map((x: number) => (x > 1e6 ? Promise.resolve(x) : x), xs, chunksize);
      t.true(later.every((x, i) => Object.is(x, xs[i])));
    }
  });
}
