// The shared-memory link between a manager and its clients on this machine (src/managers/link.ts):
// calls take it, order holds across it and the socket, and either side's death is handled as
// over the socket alone. Serial: the frame counts are per process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { Manager, Pool, SyncManager, task } from '../../index.js';
import { LINK_ENV, linkFrames, openLinkMemory } from '../../src/managers/link.js';
import type * as Tasks from '../fixtures/manager-tasks.js';
import { CALL, CREATE, RawClient } from '../helpers/raw-manager-client.js';
import { within } from '../helpers/pool.js';

// Links are the default: a stray NAPI_MULTIPROCESSING_MANAGER_LINK=0 in the environment would turn
// them off for this file's workers (which inherit it at their start).
delete process.env[LINK_ENV];

const tasks = new URL('../fixtures/manager-tasks.ts', import.meta.url);
const t_ = <K extends keyof typeof Tasks>(name: K) => task<(typeof Tasks)[K]>(tasks, name);

test.serial('a process worker: sequential calls go through the link, not the socket', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const d = await manager.dict<number, number>();
  const before = { ...linkFrames };
  const n = 2000;
  t.is(await within(t, 120_000, pool.apply(t_('sequentialSetGet'), [d, n])), (n * (n - 1)) / 2);
  // This process serves the manager: its links received the worker's requests.
  // The first call may go before the link is set up.
  t.true(linkFrames.ringIn - before.ringIn >= 2 * n - 2, `${linkFrames.ringIn - before.ringIn} frames by the ring`);
  t.true(linkFrames.socketIn - before.socketIn < 10, `${linkFrames.socketIn - before.socketIn} frames by the socket`);
  t.is(await d.get(n - 1), n - 1);
});

test.serial('an idle linked client beside: the manager waits for the one that talks, not for any ring', async (t) => {
  await using manager = new Manager();
  // A thread worker that called once is linked too, and then idle.
  await using threads = new Pool({ processes: 1 });
  await using pool = new Pool({ processes: 1, backend: 'process' });
  t.is(await within(t, 120_000, threads.apply(t_('sequentialSetGet'), [await manager.dict<number, number>(), 10])), 45);
  const d = await manager.dict<number, number>();
  const before = { ...linkFrames };
  const n = 2000;
  t.is(await within(t, 120_000, pool.apply(t_('sequentialSetGet'), [d, n])), (n * (n - 1)) / 2);
  t.true(linkFrames.ringIn - before.ringIn >= 2 * n - 2, `${linkFrames.ringIn - before.ringIn} frames by the ring`);
  // A turn that a poke starts knows who poked: a wait for any ring (which cannot block on one
  // client's futex nor hand it the core) is only for clients that talk at once.
  t.is(linkFrames.anyWaits - before.anyWaits, 0);
});

test.serial('a process worker: 100 calls in flight through the link all complete', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const d = await manager.dict<number, number>();
  const loop = task<(d: unknown, n: number, inflight: number) => Promise<{ checksum: number }>>(
    new URL('../../benchmark/tasks/managers.mjs', import.meta.url),
    'setGetLoop',
  );
  const before = linkFrames.ringIn;
  const n = 5000;
  t.is((await within(t, 120_000, pool.apply(loop, [d, n, 100]))).checksum, (n * (n - 1)) / 2);
  t.true(linkFrames.ringIn - before >= 2 * n, `${linkFrames.ringIn - before} frames by the ring`);
});

test.serial('with NAPI_MULTIPROCESSING_MANAGER_LINK=0, a process worker stays on its socket', async (t) => {
  process.env[LINK_ENV] = '0';
  try {
    await using manager = new Manager();
    await using pool = new Pool({ processes: 1, backend: 'process' });
    const d = await manager.dict<number, number>();
    const before = linkFrames.ringIn;
    t.is(await within(t, 120_000, pool.apply(t_('sequentialSetGet'), [d, 200])), (200 * 199) / 2);
    t.is(linkFrames.ringIn, before);
  } finally {
    delete process.env[LINK_ENV];
  }
});

test.serial('frames larger than the ring go over the socket, in order with those of the ring', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const l = await manager.list();
  const before = linkFrames.socketIn;
  const lengths = await within(t, 120_000, pool.apply(t_('appendAcrossPaths'), [l]));
  t.deepEqual(lengths, [1, 100_000, 2, 3, 70_000, 4, 200_000, 5]);
  t.true(linkFrames.socketIn - before >= 3, 'the large appends came by the socket');
});

test.serial('a client killed while it calls: the manager goes on serving its other clients', async (t) => {
  await using manager = new Manager();
  const d = await manager.dict<number, number>();
  const doomed = new Pool({ processes: 1, backend: 'process' });
  void doomed.apply(t_('callForever'), [d]).catch(() => {});
  // Wait until it is calling through its link, then kill it mid-loop.
  const start = linkFrames.ringIn;
  await within(
    t,
    60_000,
    (async () => {
      while (linkFrames.ringIn - start < 1000) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    'the doomed client calling',
  );
  await doomed.terminate();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  t.is(await within(t, 120_000, pool.apply(t_('sequentialSetGet'), [d, 500])), (500 * 499) / 2);
  await d.set(1, 42);
  t.is(await d.get(1), 42);
});

test.serial('the manager killed while a linked client calls: the client gets ERR_MANAGER_CLOSED', async (t) => {
  const script = fileURLToPath(new URL('../fixtures/manager-lifetime.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import=tsx', script, 'serve'], {
    env: { ...process.env, MANAGER_AUTHKEY: 'link-key', HOLD_MS: '600000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  const line = await within(
    t,
    60_000,
    new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
  );
  const client = new SyncManager({ address: JSON.parse(line) as string, authkey: 'link-key' });
  await client.connect();
  const d = await client.dict<number, number>();
  const before = linkFrames.ringOut;
  let calls = 0;
  const loop = (async () => {
    for (let i = 0; ; i++) {
      await d.set(i % 10, i);
      calls++;
    }
  })();
  await within(
    t,
    60_000,
    (async () => {
      while (calls < 500) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    'the client calling',
  );
  t.true(linkFrames.ringOut - before >= 500, 'the calls went through the link');
  child.kill('SIGKILL');
  const error = await within(
    t,
    10_000,
    loop.then(
      () => undefined,
      (e: unknown) => e,
    ),
    'the loop failing',
  );
  t.is((error as { code?: string }).code, 'ERR_MANAGER_CLOSED');
});

test.serial('a client that breaks its ring is disconnected; the others are served', async (t) => {
  const key = Buffer.from('link-hostile-key');
  await using manager = new Manager({ authkey: key });
  await manager.start();
  const path = manager.address as string;
  const cases: ((ctrl: Int32Array, data: Uint8Array) => void)[] = [
    (ctrl) => (ctrl[0] = 6), // a tail that is not a frame boundary
    (ctrl) => (ctrl[0] = 1 << 30), // more than the ring holds
    (ctrl, data) => {
      new DataView(data.buffer, data.byteOffset).setUint32(0, 1 << 30, true); // a length far too long
      ctrl[0] = 16;
    },
  ];
  for (const breakRing of cases) {
    const raw = await within(t, 20_000, RawClient.authenticated(path, key));
    const [, ok, wired] = await within(t, 20_000, raw.request([5, 1]));
    t.is(ok, 1, 'a local client is given a link');
    const memory = openLinkMemory(wired);
    breakRing(new Int32Array(memory, 0, 64), new Uint8Array(memory, 256, 64 * 1024));
    raw.send([-1]);
    await within(t, 10_000, raw.closed, 'closing the connection');
  }
  // A good client, on its own link.
  const good = await within(t, 20_000, RawClient.authenticated(path, key));
  t.deepEqual((await good.request([CREATE, 1, 'dict', []])).slice(0, 2), [1, 1]);
  good.destroy();
  const d = await manager.dict();
  await d.set('k', 'v');
  t.is(await d.get('k'), 'v');
  void CALL;
});
