// The seed's distributed example, worker side: connects to the master, takes up to ten tasks
// (waiting a second for each), and puts their results. Run: npx tsx examples/distributed/worker.ts
// MASTER_HOST (default 127.0.0.1), PORT (default 5000) and AUTHKEY say where the master is.
import { BaseManager, Empty } from 'napi-multiprocessing';

interface RemoteQueue<T> {
  get(options?: { timeout?: number }): Promise<T>;
  put(item: T): Promise<void>;
}

class QueueManager extends BaseManager {}
// No factory here: the master has them; these names are what we may ask it for.
QueueManager.register('getTaskQueue');
QueueManager.register('getResultQueue');

const manager = new QueueManager({
  address: { host: process.env.MASTER_HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 5000) },
  authkey: process.env.AUTHKEY ?? 'abc',
});
console.log(`Connect to server ${process.env.MASTER_HOST ?? '127.0.0.1'}...`);
await manager.connect();

const tasks = await manager.proxy<RemoteQueue<number>>('getTaskQueue');
const results = await manager.proxy<RemoteQueue<string>>('getResultQueue');
for (let i = 0; i < 10; i++) {
  let n: number;
  try {
    n = await tasks.get({ timeout: 1000 });
  } catch (error) {
    if (error instanceof Empty) {
      console.log('task queue is empty.');
      continue;
    }
    // The master got every result and shut down (or died): nothing more to do.
    if ((error as { code?: string }).code === 'ERR_MANAGER_CLOSED') break;
    throw error;
  }
  console.log(`run task ${n} * ${n}...`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await results.put(`${n} * ${n} = ${n * n}`);
}
console.log('worker exit.');
