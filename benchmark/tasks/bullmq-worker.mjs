// BullMQ used directly, for the cluster workload's comparison: a plain BullMQ Worker running one
// job per task, each job one call of a function of primes.mjs (the same code the pools run).
// Usage: node bullmq-worker.mjs REDIS_URL QUEUE; prints 'ready', drains on SIGTERM.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { noop, sumPrimes } from './primes.mjs';

const [url, queue] = process.argv.slice(2);
const tasks = { noop, sumPrimes };
const connection = new Redis(url, { maxRetriesPerRequest: null });
const run = (job) => {
  if (!Object.hasOwn(tasks, job.data.fn)) throw new Error(`no task ${job.data.fn}`);
  return tasks[job.data.fn](job.data.x);
};
const worker = new Worker(queue, async (job) => run(job), { connection, concurrency: 1 });
await worker.waitUntilReady();
console.log('ready');
process.once('SIGTERM', async () => {
  await worker.close();
  await connection.quit();
});
