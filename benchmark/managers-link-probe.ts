/**
 * Where a sequential manager call over the shared-memory link spends its time (benchmark/managers.md):
 * a manager in this process, a client in a child process (connected with the manager's address and
 * authkey, as a process worker's proxy would be), `n` iterations of `await d.set(i, i)` then
 * `await d.get(i)`; CPU (user/system) and context switches per call on both sides, and the link's
 * counters on both sides.
 *
 *   npx tsx benchmark/managers-link-probe.ts [n] [rounds]
 *
 * `INFLIGHT=100` keeps that many loops in flight at once (the bench's "100 calls in flight" row).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { SyncManager } from '../index.js';
import { linkFrames } from '../src/managers/link.js';

const n = Number(process.argv[2] ?? 20000);
const rounds = Number(process.argv[3] ?? 3);
const inflight = Number(process.env.INFLIGHT ?? 1);

/** Voluntary and involuntary context switches of every thread of this process. */
function switches(): { vol: number; invol: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  return {
    vol: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]),
    invol: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]),
  };
}

interface Sample {
  ms: number;
  user: number;
  system: number;
  vol: number;
  invol: number;
  frames: typeof linkFrames;
}

function begin(): () => Sample {
  const cpu = process.cpuUsage();
  const sw = switches();
  const frames = { ...linkFrames };
  const start = performance.now();
  return () => {
    const ms = performance.now() - start;
    const c = process.cpuUsage(cpu);
    const s = switches();
    const f = { ...linkFrames };
    for (const k of Object.keys(f) as (keyof typeof linkFrames)[]) f[k] -= frames[k];
    return { ms, user: c.user, system: c.system, vol: s.vol - sw.vol, invol: s.invol - sw.invol, frames: f };
  };
}

if (process.argv[2] === 'child') {
  process.on('message', async ({ address, authkey, n: count }: { address: string; authkey: string; n: number }) => {
    const m = new SyncManager({ address, authkey: Buffer.from(authkey, 'hex') });
    await m.connect();
    const d = await m.dict<number, number>();
    for (let i = 0; i < 500; i++) {
      await d.set(i, i);
      await d.get(i);
    }
    const end = begin();
    let next = 0;
    await Promise.all(
      Array.from({ length: inflight }, async () => {
        while (next < count) {
          const i = next++;
          await d.set(i, i);
          await d.get(i);
        }
      }),
    );
    process.send!(end());
  });
} else {
  const authkey = Buffer.alloc(32, 7);
  await using manager = new SyncManager({ authkey });
  await manager.start();
  const child = fork(fileURLToPath(import.meta.url), ['child'], { execArgv: ['--import=tsx'] });
  for (let r = 0; r < rounds; r++) {
    const got = new Promise<Sample>((resolve) => child.once('message', (s) => resolve(s as Sample)));
    // The manager's side is measured from the child's first call to its report, warm-up included.
    const end = begin();
    child.send({ address: manager.address, authkey: authkey.toString('hex'), n });
    const client = await got;
    const server = end();
    const calls = 2 * n;
    const per = (x: number) => (x / calls).toFixed(2);
    console.log(
      `round ${r}: ${Math.round((calls / client.ms) * 1000)} calls/s | client user ${per(client.user)} sys ${per(client.system)} µs, ` +
        `vcs ${per(client.vol)} ivcs ${per(client.invol)} | manager user ${per(server.user)} sys ${per(server.system)} µs, ` +
        `vcs ${per(server.vol)} ivcs ${per(server.invol)} (incl. warm-up)\n  client frames ${JSON.stringify(client.frames)}\n  manager frames ${JSON.stringify(server.frames)}`,
    );
  }
  child.kill();
}
