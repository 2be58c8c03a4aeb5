// The seed's distributed example, master side: a task queue and a result queue served to workers
// on other machines. Run: npx tsx examples/distributed/master.ts (then start workers).
// PORT (default 5000) and AUTHKEY choose where and with which secret; use a real secret, and
// the `tls` option, on a network you do not trust.
import { BaseManager, Queue } from 'napi-multiprocessing';

const tasks = new Queue<number>();
const results = new Queue<string>();

class QueueManager extends BaseManager {}
// Closures are fine: the manager serves from this very process.
QueueManager.register('getTaskQueue', () => tasks);
QueueManager.register('getResultQueue', () => results);

const manager = new QueueManager({
  address: { host: '0.0.0.0', port: Number(process.env.PORT ?? 5000) },
  authkey: process.env.AUTHKEY ?? 'abc',
});
await manager.start();
console.log(`Serving on port ${(manager.address as { port: number }).port}`);

for (let i = 0; i < 10; i++) {
  const n = Math.floor(Math.random() * 10000);
  console.log(`Put task ${n}...`);
  await tasks.put(n);
}
console.log('Try get results...');
for (let i = 0; i < 10; i++) {
  const r = await results.get({ timeout: 60_000 });
  console.log(`Result: ${r}`);
}
await manager.shutdown();
console.log('master exit.');
