/**
 * The seed's communication examples: a producer and a consumer Process sharing a Queue, a Pipe
 * between the main program and a child, and a Lock that keeps the children's prints whole.
 *
 *   node --import tsx examples/communication.ts [thread|process]
 *
 * 'thread' (the default) shares these objects between worker threads; 'process' between child
 * processes, through the native core (without it, a TypeError says why).
 */
import { type Connection, Lock, Pipe, Process, Queue } from 'napi-multiprocessing';

const backend = (process.argv[2] ?? 'thread') as 'thread' | 'process';

async function write(q: Queue<string>) {
  for (const value of ['A', 'B', 'C']) {
    console.log(`Put ${value} to queue...`);
    await q.put(value);
  }
}

async function read(q: Queue<string>, n: number) {
  for (let i = 0; i < n; i++) console.log(`Get ${await q.get()} from queue.`);
}

function child(conn: Connection) {
  conn.send([42, null, 'hello']);
  conn.close();
}

function lockedPrint(lock: Lock, i: number) {
  lock.acquireSync();
  try {
    console.log('hello world', i);
  } finally {
    lock.release();
  }
}

const q = new Queue<string>();
const producer = new Process({ target: write, args: [q], backend });
const consumer = new Process({ target: read, args: [q, 3], backend });
producer.start();
consumer.start();
await producer.join();
await consumer.join();

const [parentConn, childConn] = Pipe();
const p = new Process({ target: child, args: [childConn], backend });
p.start();
console.log(await parentConn.recv());
await p.join();

const lock = new Lock();
const printers = Array.from({ length: 5 }, (_, i) => new Process({ target: lockedPrint, args: [lock, i], backend }));
for (const printer of printers) printer.start();
for (const printer of printers) await printer.join();
