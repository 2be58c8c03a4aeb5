/**
 * JoinableQueue's count of unfinished tasks, kept in its ring's control words (ring-layout.ts):
 * raised with each accepted put (ring.ts), lowered by `taskDone`, and waited for by `join`.
 */
import { JOIN_SEQ, UNFINISHED } from './ring-layout.js';
import { wake, type Deadline, type Waiting } from './waiting.js';

export function taskDone(c: Int32Array): boolean {
  let n = Atomics.load(c, UNFINISHED);
  for (;;) {
    if (n <= 0) return false;
    const seen = Atomics.compareExchange(c, UNFINISHED, n, n - 1);
    if (seen === n) break;
    n = seen;
  }
  if (n === 1) {
    Atomics.add(c, JOIN_SEQ, 1);
    wake(c, JOIN_SEQ);
  }
  return true;
}

export function* joinSteps(c: Int32Array, deadline: Deadline): Waiting<boolean> {
  for (;;) {
    const seq = Atomics.load(c, JOIN_SEQ);
    if (Atomics.load(c, UNFINISHED) === 0) return true;
    const left = deadline.remaining();
    if (left <= 0) return false;
    yield { array: c, index: JOIN_SEQ, value: seq, timeout: left };
  }
}
