// The worker backend's dispatch decisions (src/backends/workers/dispatch.ts), checked directly:
// what a measured cost makes of the next slice of a map with no chunksize.
import test from 'ava';

import { CostTable } from '../../src/backends/workers/dispatch.js';

test('a cost several times off the known one replaces it (a map after a dearer one starts from its own cost)', (t) => {
  const costs = new CostTable();
  costs.record(1, 5, 1);
  costs.record(1, 0.001, 1);
  t.is(costs.callMs(1), 0.001);
  // Within a few times of the known cost it is drift: the new sample is weighed in.
  costs.record(1, 0.002, 1);
  t.is(costs.callMs(1), 0.0015);
});

test("a worker's last slice of a map is not held behind another: one message per worker at the end", (t) => {
  const costs = new CostTable();
  costs.record(1, 5, 1);
  t.is(costs.slice(1, 100, 2).prefetch, 2);
  t.is(costs.slice(1, 3, 2).prefetch, 2);
  t.is(costs.slice(1, 2, 2).prefetch, 1);
  t.is(costs.slice(1, 1, 2).prefetch, 1);
  // Cheap calls (a round trip's worth is 1000 of them) are held two to a worker until the end.
  costs.record(2, 1, 1000);
  t.is(costs.slice(2, 1500, 2).prefetch, 2);
});

test('a slice of cheap calls holds at least a round trip of work (about a millisecond)', (t) => {
  const costs = new CostTable();
  costs.record(1, 10, 1000);
  t.is(costs.slice(1, 1_000_000, 2).least, 100);
  costs.record(2, 5, 1);
  t.is(costs.slice(2, 1_000_000, 2).least, 1);
});
