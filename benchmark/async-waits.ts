/**
 * Async waits across processes (issue 13): round trips where one side awaits `get()` / `recv()`
 * on process-shared memory, so that every wait goes through the native async futex waiter.
 *   - main thread (await put/get on a Queue) <-> process worker (blocking echo)
 *   - main thread (send / await recv on a Pipe) <-> process worker (blocking echo, then awaiting
 *     echo: both ends async, as benchmark/managers.md measured before issue 13)
 *   - process worker <-> process worker, both awaiting get()/put()
 *   - process worker <-> process worker, a Semaphore ping-pong awaiting acquire() (waits only)
 * Each figure is the best of three rounds, with the CPU time (all threads of the awaiting process)
 * each trip cost in that round: under a loaded machine it varies less than the rate.
 *
 *   npx tsx benchmark/async-waits.ts            (BENCH_QUICK=1 for a short run)
 */
import { Barrier, Pipe, Pool, Queue, Semaphore, task } from '../index.js';
import type * as Tasks from './tasks/async-waits.js';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = 3;
const TRIPS = quick ? 2_000 : 20_000;

const tasks = new URL('./tasks/async-waits.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

/** Trips per second and CPU µs per trip, from a round's wall and CPU ms. */
type Round = [perSecond: number, cpuPerTrip: number];

const rate = ([ms, cpuMs]: [number, number], trips = TRIPS): Round => [trips / (ms / 1000), (cpuMs * 1000) / trips];

async function best(label: string, round: () => Promise<Round>): Promise<void> {
  let top: Round = [0, 0];
  for (let r = 0; r < ROUNDS; r++) {
    const got = await round();
    if (got[0] > top[0]) top = got;
  }
  console.log(`  ${label}: ${Math.round(top[0]).toLocaleString('en-US')} /s, ${top[1].toFixed(1)} µs CPU per trip`);
}

/** Times `trips` in this process: wall and CPU ms. */
async function timed(trips: () => Promise<void>): Promise<[number, number]> {
  const [t0, cpu0] = [performance.now(), process.cpuUsage()];
  await trips();
  const cpu = process.cpuUsage(cpu0);
  return [performance.now() - t0, (cpu.user + cpu.system) / 1000];
}

async function mainQueueTrips(pool: Pool): Promise<Round> {
  const [out, back] = [new Queue<number>(), new Queue<number>()];
  const start = new Barrier(2);
  const echo = pool.apply(t_('echoQueueSync'), [out, back, start]);
  await start.wait();
  const taken = await timed(async () => {
    for (let i = 0; i < TRIPS; i++) {
      await out.put(i);
      if ((await back.get()) !== i) throw new Error('out of order');
    }
  });
  await out.put(-1);
  await echo;
  return rate(taken);
}

async function mainPipeTrips(pool: Pool, echoing: 'echoPipeSync' | 'echoPipeAsync'): Promise<Round> {
  const [here, there] = Pipe<number>();
  const start = new Barrier(2);
  const echo = pool.apply(t_(echoing), [there, start]);
  await start.wait();
  const taken = await timed(async () => {
    for (let i = 0; i < TRIPS; i++) {
      here.send(i);
      if ((await here.recv()) !== i) throw new Error('out of order');
    }
  });
  here.send(-1);
  await echo;
  return rate(taken);
}

async function workerQueueTrips(pool: Pool): Promise<Round> {
  const [out, back] = [new Queue<number>(), new Queue<number>()];
  const start = new Barrier(2);
  const [taken] = await Promise.all([
    pool.apply(t_('pingAsync'), [out, back, start, TRIPS]),
    pool.apply(t_('echoQueueAsync'), [out, back, start]),
  ]);
  return rate(taken);
}

/** Every turn is one wait that the other process ends: the async wait's cost, nearly alone. */
async function semaphoreTurns(pool: Pool): Promise<Round> {
  const [a, b] = [new Semaphore(1), new Semaphore(0)];
  const start = new Barrier(2);
  const [taken] = await Promise.all([
    pool.apply(t_('turns'), [a, b, start, TRIPS]),
    pool.apply(t_('turns'), [b, a, start, TRIPS]),
  ]);
  return rate(taken);
}

console.log(`async waits across processes (${quick ? 'quick' : 'full'} run; ${TRIPS} trips; best of ${ROUNDS})`);
const pool = new Pool({ backend: 'process', processes: 2 });
await best('Queue round trips, main thread awaiting <-> process worker', () => mainQueueTrips(pool));
await best('Pipe round trips, main thread awaiting <-> process worker', () => mainPipeTrips(pool, 'echoPipeSync'));
await best('Pipe round trips, main thread awaiting <-> process worker awaiting', () => mainPipeTrips(pool, 'echoPipeAsync'));
await best('Queue round trips, 2 process workers both awaiting', () => workerQueueTrips(pool));
await best('Semaphore turns, 2 process workers awaiting acquire()', () => semaphoreTurns(pool));
await pool[Symbol.asyncDispose]();
