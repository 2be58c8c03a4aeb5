/**
 * Shared-state benchmark: messages per second through a Queue vs a plain MessagePort between two
 * worker threads (one-way stream, and ping-pong round trips), and contended Lock acquire/release
 * pairs per second across two threads. Cross-thread rates are timed by the workers themselves
 * after a common start barrier; benny times the single-thread costs. Each figure is the best of
 * three rounds; the ratios compare figures of this one run.
 *
 *   npx tsx benchmark/shared.ts            (BENCH_QUICK=1 for a short run)
 */
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';

import b from 'benny';

import { Barrier, Lock, Queue, Value } from '../index.js';
import { encode } from '../src/reduction/transfer.js';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = 3;
const LOCK_PAIRS = quick ? 200_000 : 2_000_000;
const STREAM = quick ? 50_000 : 500_000;
const PINGS = quick ? 5_000 : 50_000;
const SMALL = { id: 42, name: 'small' };

const workerFile = new URL('./shared-worker.ts', import.meta.url);

function startWorker(role: string, args: unknown[]): { ms: Promise<number>; count: Promise<number> } {
  const transfer: TransferListItem[] = [];
  for (const arg of args) if (arg && typeof arg === 'object' && 'postMessage' in arg) transfer.push(arg as TransferListItem);
  const source = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerFile.href)}); })`;
  const worker = new Worker(source, { eval: true, workerData: { role, args: encode(args, transfer) }, transferList: transfer });
  let count: (n: number) => void;
  const counted = new Promise<number>((resolve) => (count = resolve));
  const ms = new Promise<number>((resolve, reject) => {
    worker.on('message', (m: { ms?: number; count?: number }) => {
      if (m.count !== undefined) count(m.count);
      if (m.ms !== undefined) resolve(m.ms);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${role} worker exited with ${code}`)));
  });
  // No terminate(): a worker ends on its own once its messages are delivered.
  return { ms, count: counted };
}

async function best(label: string, round: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await round());
  console.log(`  ${label}: ${Math.round(top).toLocaleString('en-US')} /s`);
  return top;
}

async function lockRound(): Promise<number> {
  const lock = new Lock();
  const cell = new Value('i', 0, { lock: false });
  const start = new Barrier(2);
  const runs = [0, 1].map(() => startWorker('lockPairs', [start, lock, cell, LOCK_PAIRS]));
  const ms = Math.max(...(await Promise.all(runs.map((r) => r.ms))));
  if (cell.value !== 2 * LOCK_PAIRS) throw new Error(`lock lost updates: ${cell.value} != ${2 * LOCK_PAIRS}`);
  return (2 * LOCK_PAIRS) / (ms / 1000);
}

async function streamRound(kind: 'queue' | 'port', value: unknown): Promise<number> {
  const start = new Barrier(2);
  let producer, consumer;
  if (kind === 'queue') {
    const q = new Queue<unknown>();
    consumer = startWorker('queueConsume', [start, q]);
    producer = startWorker('queueProduce', [start, q, STREAM, value]);
  } else {
    const { port1, port2 } = new MessageChannel();
    consumer = startWorker('portConsume', [start, port2]);
    producer = startWorker('portProduce', [start, port1, STREAM, value]);
  }
  const [, consumerMs, received] = await Promise.all([producer.ms, consumer.ms, consumer.count]);
  if (received !== STREAM) throw new Error(`${kind}: received ${received} of ${STREAM}`);
  return STREAM / (consumerMs / 1000);
}

async function pingRound(kind: 'queue' | 'port'): Promise<number> {
  const start = new Barrier(2);
  let ping, pong;
  if (kind === 'queue') {
    const there = new Queue<number>();
    const back = new Queue<number>();
    pong = startWorker('queuePong', [start, there, back]);
    ping = startWorker('queuePing', [start, there, back, PINGS]);
  } else {
    const { port1, port2 } = new MessageChannel();
    pong = startWorker('portPong', [start, port2]);
    ping = startWorker('portPing', [start, port1, PINGS]);
  }
  const [ms] = await Promise.all([ping.ms, pong.ms]);
  return PINGS / (ms / 1000);
}

async function singleThread(): Promise<void> {
  const lock = new Lock();
  const v = new Value('i', 0);
  const q = new Queue<number>();
  await b.suite(
    'single thread, uncontended (context)',
    b.add('Lock acquireSync + release', () => {
      lock.acquireSync();
      lock.release();
    }),
    b.add('Value.add(1)', () => {
      v.add(1);
    }),
    b.add('Queue putSync + getSync (number)', () => {
      q.putSync(1);
      q.getSync();
    }),
    b.cycle((result) => console.log(`  ${result.name}: ${Math.round(result.ops).toLocaleString('en-US')} ops/s`)),
    b.complete(),
  );
}

console.log(`shared-state benchmark (${quick ? 'quick' : 'full'}; best of ${ROUNDS} rounds)\n`);
console.log(`contended Lock, 2 threads x ${LOCK_PAIRS.toLocaleString('en-US')} acquire/release pairs:`);
const lockRate = await best('Lock pairs, total', lockRound);

console.log(`\none-way stream of ${STREAM.toLocaleString('en-US')} small messages between two workers:`);
const results: Record<string, number> = {};
for (const [label, value] of [
  ['number', 7],
  ['object', SMALL],
] as const) {
  results[`queue ${label}`] = await best(`Queue (${label})`, () => streamRound('queue', value));
  results[`port ${label}`] = await best(`MessagePort (${label})`, () => streamRound('port', value));
}
console.log(`\nping-pong, ${PINGS.toLocaleString('en-US')} round trips between two workers:`);
const queuePing = await best('Queue round trips', () => pingRound('queue'));
const portPing = await best('MessagePort round trips', () => pingRound('port'));

console.log();
await singleThread();

console.log('\nratios (this run):');
console.log(
  `  Lock pairs/s across 2 threads: ${Math.round(lockRate).toLocaleString('en-US')} (bar: 1,000,000) -> ${(lockRate / 1e6).toFixed(2)}x the bar`,
);
for (const label of ['number', 'object']) {
  console.log(
    `  Queue / MessagePort, one-way stream (${label}): ${(results[`queue ${label}`]! / results[`port ${label}`]!).toFixed(2)}x`,
  );
}
console.log(`  Queue / MessagePort, round trips: ${(queuePing / portPing).toFixed(2)}x`);
// The issue's bar, as worded: Queue messages per second against a MessagePort round trip's.
console.log(`  Queue stream (number) / MessagePort round trips: ${(results['queue number']! / portPing).toFixed(1)}x (bar: 3x)`);
