// Process-worker side of benchmark/async-waits.ts: echo loops, blocking or awaiting, timed by the
// worker itself after a common start (a Barrier), so that process start-up is not measured.
import type { Barrier, Connection, Queue, Semaphore } from '../../index.js';

/** Wall ms and CPU ms (all threads of this process) since `t0` / `cpu0`. */
function spent(t0: number, cpu0: NodeJS.CpuUsage): [number, number] {
  const cpu = process.cpuUsage(cpu0);
  return [performance.now() - t0, (cpu.user + cpu.system) / 1000];
}

/** Echoes what comes on `from` to `to` until -1, blocking (the other side is the one measured). */
export function echoQueueSync(from: Queue<number>, to: Queue<number>, start: Barrier): number {
  start.waitSync();
  let n = 0;
  for (let x = from.getSync(); x !== -1; x = from.getSync(), n++) to.putSync(x);
  return n;
}

/** Echoes what comes on `conn` back until -1, blocking. */
export function echoPipeSync(conn: Connection<number>, start: Barrier): number {
  start.waitSync();
  let n = 0;
  for (let x = conn.recvSync(); x !== -1; x = conn.recvSync(), n++) conn.send(x);
  return n;
}

/** Echoes what comes on `conn` back until -1, awaiting (as a manager's proxy calls would). */
export async function echoPipeAsync(conn: Connection<number>, start: Barrier): Promise<number> {
  await start.wait();
  let n = 0;
  for (let x = await conn.recv(); x !== -1; x = await conn.recv(), n++) conn.send(x);
  return n;
}

/** Sends 0..n-1 through `out`, each time awaiting the echo on `back`; returns wall and CPU ms. */
export async function pingAsync(out: Queue<number>, back: Queue<number>, start: Barrier, n: number): Promise<[number, number]> {
  await start.wait();
  const [t0, cpu0] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < n; i++) {
    await out.put(i);
    if ((await back.get()) !== i) throw new Error('out of order');
  }
  const taken = spent(t0, cpu0);
  await out.put(-1);
  return taken;
}

/** Echoes what comes on `from` to `to` until -1, awaiting. */
export async function echoQueueAsync(from: Queue<number>, to: Queue<number>, start: Barrier): Promise<number> {
  await start.wait();
  let n = 0;
  for (let x = await from.get(); x !== -1; x = await from.get(), n++) await to.put(x);
  return n;
}

/** `n` turns of a ping-pong between two Semaphores: each turn awaits `mine`, then releases `theirs`. */
export async function turns(mine: Semaphore, theirs: Semaphore, start: Barrier, n: number): Promise<[number, number]> {
  await start.wait();
  const [t0, cpu0] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < n; i++) {
    await mine.acquire();
    theirs.release();
  }
  return spent(t0, cpu0);
}
