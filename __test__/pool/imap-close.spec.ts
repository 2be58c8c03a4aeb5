// close() while an imap is held: the rest of the input is read (as Python does), but bounded and
// without starving the event loop; an abandoned imap stops reading its input.
import test from 'ava';

import { Pool } from '../../index.js';
import { backends, within } from '../helpers/pool.js';

/** Far more than any read-ahead: reading it all means the bound was not kept. */
const LIMIT = 50_000;
/** 64 chunks per worker (2 workers, chunksize 1), and the item in hand. */
const BOUND = 2 * 64 + 2;

function counted() {
  const input = { pulled: 0, closed: false };
  function* naturals() {
    try {
      for (let i = 0; i < LIMIT; i++) {
        input.pulled++;
        yield i;
      }
    } finally {
      input.closed = true;
    }
  }
  return { input, items: naturals() };
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const backend of backends) {
  test(`${backend}: close() with an endless imap held keeps the event loop running and the reading bounded`, async (t) => {
    const pool = new Pool({ backend, processes: 2 });
    try {
      const { input, items } = counted();
      // Tasks that do not finish while the test looks: nothing makes room for more input.
      const held = pool.imap((x: number) => new Promise((resolve) => setTimeout(() => resolve(x), 60_000)), items);
      pool.close();
      const pulledWhenTimerFired = await within(
        t,
        20_000,
        new Promise<number>((resolve) => setTimeout(() => resolve(input.pulled), 100)),
      );
      t.true(pulledWhenTimerFired <= BOUND, `${pulledWhenTimerFired} items read before a 100 ms timer fired`);
      await pause(300);
      t.true(input.pulled <= BOUND, `${input.pulled} items read after close()`);
      void held;
    } finally {
      await pool.terminate();
    }
  });

  test(`${backend}: an imap abandoned by return() or break stops reading its input, even after close()`, async (t) => {
    const pool = new Pool({ backend, processes: 2 });
    try {
      for (const method of ['imap', 'imapUnordered'] as const) {
        const untouched = counted();
        await pool[method]((x: number) => x, untouched.items).return!(undefined);
        const broken = counted();
        for await (const v of pool[method]((x: number) => x, broken.items)) if (v >= 10) break;
        const closing = counted();
        const held = pool[method]((x: number) => x, closing.items);
        await held.next();
        await held.return!(undefined);
        for (const [how, { input }] of Object.entries({ untouched, broken, closing })) {
          t.true(input.closed, `${method}, ${how}: the input was closed`);
          t.true(input.pulled <= BOUND + 10, `${method}, ${how}: ${input.pulled} items read`);
        }
      }
      pool.close();
      await within(t, 30_000, pool.join());
    } finally {
      await pool.terminate();
    }
  });
}
