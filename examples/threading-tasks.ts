// The targets of examples/threading.ts. They live in a module because they use an import
// (currentThread): an inline function may use only its arguments and globals.
import { currentThread, type Lock, type Value } from 'napi-multiprocessing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function music(song: string, loops: number): Promise<void> {
  for (let i = 0; i < loops; i++) {
    console.log(`I was listening to ${song}. (${currentThread().name})`);
    await sleep(100);
  }
}

export async function movie(title: string, loops: number): Promise<void> {
  for (let i = 0; i < loops; i++) {
    console.log(`I was at the ${title}! (${currentThread().name})`);
    await sleep(250);
  }
}

/** `with lock: counter.value += 1`, `times` times: the read-modify-write is safe only under the lock. */
export function count(counter: Value<'i'>, lock: Lock, times: number): void {
  for (let i = 0; i < times; i++) {
    lock.acquireSync();
    try {
      counter.value += 1;
    } finally {
      lock.release();
    }
  }
}
