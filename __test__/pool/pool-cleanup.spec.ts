import test from 'ava';

import { Pool } from '../../index.js';
import { eventually, fixture, isProcessAlive, osThreadCount, within } from '../helpers/pool.js';

// Serial: these count OS threads and child processes, which other tests' pools would disturb.

test.serial('process: no child process is left running after terminate() or join()', async (t) => {
  for (const stop of ['terminate', 'join'] as const) {
    const pool = new Pool({ backend: 'process', processes: 2 });
    const who = await pool.map(
      fixture('whoAmI'),
      Array.from({ length: 8 }, () => undefined),
      1,
    );
    const pids = [...new Set(who.map((w) => w.pid))];
    t.true(pids.length >= 1 && !pids.includes(process.pid));
    t.true(pids.every(isProcessAlive));
    if (stop === 'terminate') await within(t, 15_000, pool.terminate());
    else {
      pool.close();
      await within(t, 15_000, pool.join());
    }
    t.true(await eventually(() => pids.every((pid) => !isProcessAlive(pid))), `${stop}: children ${pids} are gone`);
  }
});

test.serial('thread: no worker thread is left running after terminate() or join()', async (t) => {
  for (const stop of ['terminate', 'join'] as const) {
    const before = osThreadCount();
    const pool = new Pool({ backend: 'thread', processes: 4 });
    await pool.map(fixture('square'), [1, 2, 3, 4, 5, 6, 7, 8], 1);
    const during = osThreadCount();
    t.true(during >= before + 4, `${during} threads with 4 workers, ${before} before`);
    if (stop === 'terminate') await within(t, 15_000, pool.terminate());
    else {
      pool.close();
      await within(t, 15_000, pool.join());
    }
    t.true(await eventually(() => osThreadCount() <= during - 4), `${stop}: ${osThreadCount()} threads left, ${during} during`);
  }
});
