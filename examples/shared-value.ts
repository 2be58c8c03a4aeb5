/**
 * The seed's shared-memory example: a child Process changes a Value('d') and a SharedArray('i')
 * (Python's Array) that the main program created, and the main program sees the change.
 *
 *   node --import tsx examples/shared-value.ts [thread|process]
 *
 * 'thread' (the default) shares the memory between worker threads; 'process' between child
 * processes, through the native core (without it, a TypeError says why).
 */
import { Process, SharedArray, Value } from 'napi-multiprocessing';

const backend = (process.argv[2] ?? 'thread') as 'thread' | 'process';

function f(n: Value<'d'>, a: SharedArray<'i'>) {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a.set(i, -a.get(i));
}

const num = new Value('d', 0.0);
const arr = new SharedArray('i', Array.from({ length: 10 }, (_, i) => i));
const p = new Process({ target: f, args: [num, arr], backend });
p.start();
await p.join();
console.log(num.value);
console.log(arr.toArray());
