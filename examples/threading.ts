/**
 * The seed's threading tutorial: Thread(target, args) with start/join and daemon, a Thread
 * subclass overriding run(), currentThread().name, and a Lock around a shared counter.
 *
 *   node --import tsx examples/threading.ts
 */
import { Lock, Thread, Value, currentThread, task } from 'napi-multiprocessing';

type Tasks = typeof import('./threading-tasks.js');
const tasks = new URL('./threading-tasks.ts', import.meta.url);
const music = task<Tasks['music']>(tasks, 'music');
const movie = task<Tasks['movie']>(tasks, 'movie');
const count = task<Tasks['count']>(tasks, 'count');

class MyThread extends Thread {
  constructor(readonly n: number) {
    super();
  }

  override run() {
    console.log(`MyThread run n=${this.n} in ${this.name}`);
  }
}

console.log(currentThread().name);
const threads = [new Thread({ target: music, args: ['a song', 2] }), new Thread({ target: movie, args: ['movies', 2] })];
for (const t of threads) {
  t.daemon = true; // a daemon does not keep the program alive; joining it still waits for it
  t.start();
}
for (const t of threads) await t.join();
console.log(`all over: ${threads.map((t) => t.name).join(', ')}`);

const mine = new MyThread(3);
mine.start();
await mine.join();

// `lock: false`: no lock of its own, so the explicit Lock is what keeps the count exact.
const counter = new Value('i', 0, { lock: false });
const lock = new Lock();
const counters = Array.from({ length: 4 }, () => new Thread({ target: count, args: [counter, lock, 10_000] }));
for (const t of counters) t.start();
for (const t of counters) await t.join();
console.log(`counter: ${counter.value}`);
