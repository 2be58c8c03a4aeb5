// The table of a connection's calls in flight: every call is found once, by its id only, whatever
// stays pending while later ids wrap around the table.
import test from 'ava';

import { PendingCalls } from '../../src/managers/calls.js';

test('calls are taken once each, by their exact id', (t) => {
  const calls = new PendingCalls<string>();
  for (let id = 1; id <= 300; id++) calls.set(id, `call ${id}`);
  t.is(calls.size, 300);
  t.is(calls.take(301), undefined);
  t.is(calls.take(5 + 256 * 7), undefined, 'an id sharing a slot with a waiting call');
  for (const id of ['1', 1.5, Number.NaN, -1, null, undefined]) t.is(calls.take(id), undefined, String(id));
  for (let id = 300; id >= 1; id--) t.is(calls.take(id), `call ${id}`);
  t.is(calls.take(7), undefined, 'already taken');
  t.is(calls.size, 0);
});

test('a call that stays pending while ids wrap around is still found, and so are the later ones', (t) => {
  const calls = new PendingCalls<number>();
  calls.set(1, 1);
  for (let id = 2; id < 5000; id++) {
    calls.set(id, id);
    t.is(calls.take(id), id);
  }
  t.is(calls.size, 1);
  t.is(calls.take(1), 1);
});

test('drain gives every waiting call, oldest first, and empties the table', (t) => {
  const calls = new PendingCalls<number>();
  calls.set(3, 3);
  for (let id = 4; id < 600; id++) {
    calls.set(id, id);
    if (id % 3 !== 0) calls.take(id);
  }
  const expected = Array.from({ length: 600 }, (_, id) => id).filter((id) => id >= 3 && id % 3 === 0);
  t.deepEqual(calls.drain(), expected);
  t.is(calls.size, 0);
  t.is(calls.take(3), undefined);
  t.deepEqual(calls.drain(), []);
});
