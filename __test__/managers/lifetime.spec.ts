import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import test, { type ExecutionContext } from 'ava';

import { Manager, Pool, Queue, SyncManager, task } from '../../index.js';
import { isProcessAlive, within } from '../helpers/pool.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const script = fileURLToPath(new URL('../fixtures/manager-lifetime.ts', import.meta.url));
const KEY = 'lifetime-key';

function run(mode: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import=tsx', script, mode], {
    env: { ...process.env, MANAGER_AUTHKEY: KEY, ...env },
    stdio: [env.HOLD === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, next, exited };
}

async function collect(check: () => boolean): Promise<boolean> {
  for (let round = 0; round < 40; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (check()) return true;
  }
  return check();
}

test('10,000 short-lived dicts on the main thread: the manager frees them once their proxies are gone', async (t) => {
  await using manager = new Manager();
  const server = manager.getServer();
  for (let i = 0; i < 10_000; i++) {
    const d = await manager.dict();
    await d.set('i', i);
  }
  t.true(await collect(() => server.numberOfObjects() < 100), `${server.numberOfObjects()} objects left`);
  // Objects still referred to are kept, including one only held inside another.
  const outer = await manager.dict<string, unknown>();
  await outer.set('inner', await manager.list([1]));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const inner = (await outer.get('inner')) as { length(): Promise<number> };
  t.is(await inner.length(), 1);
});

test('10,000 short-lived dicts from a process worker: freed too', async (t) => {
  await using manager = new Manager();
  await using pool = new Pool({ processes: 1, backend: 'process' });
  const server = manager.getServer();
  const d = await manager.dict();
  const n = await within(
    t,
    120_000,
    pool.apply(
      task<typeof import('../fixtures/manager-tasks.js').manyShortLivedDicts>(
        new URL('../fixtures/manager-tasks.ts', import.meta.url),
        'manyShortLivedDicts',
      ),
      [d, manager.address as string, 10_000],
    ),
  );
  t.is(n, 10_000);
  t.true(await collect(() => server.numberOfObjects() < 100), `${server.numberOfObjects()} objects left`);
});

async function serveInChild(t: ExecutionContext, mode: string, env: Record<string, string> = {}) {
  const child = run(mode, env);
  t.teardown(() => child.child.kill('SIGKILL'));
  const address = JSON.parse(await within(t, 60_000, child.next(), 'the child manager start')) as string;
  return { ...child, address };
}

test('a manager ends with the process that started it: its socket is removed, its clients get ERR_MANAGER_CLOSED', async (t) => {
  const { address, exited, child } = await serveInChild(t, 'serve', { HOLD: 'stdin' });
  t.true(existsSync(address));
  const client = new SyncManager({ address, authkey: KEY });
  await client.connect();
  const d = await client.dict();
  await d.set('x', 1);
  const q = await client.Queue();
  const pending = q.get();
  child.stdin!.end('go\n');
  t.is(await within(t, 60_000, exited), 0, 'the process ended by itself: serving does not keep it alive');
  await t.throwsAsync(within(t, 10_000, pending), { code: 'ERR_MANAGER_CLOSED' });
  await t.throwsAsync(within(t, 10_000, d.get('x')), { code: 'ERR_MANAGER_CLOSED' });
  t.false(existsSync(address));
  t.false(existsSync(dirname(address)));
});

test('process.exit() removes the socket directory too', async (t) => {
  const { address, exited } = await serveInChild(t, 'serve-then-exit');
  t.is(await within(t, 60_000, exited), 3);
  t.false(existsSync(dirname(address)));
});

test('an idle client does not keep Node alive; a client waiting on a call does, until it is answered', async (t) => {
  const queue = new Queue<string>();
  class Serving extends SyncManager {}
  Serving.register('getQueue', () => queue);
  await using manager = new Serving({ address: { host: '127.0.0.1', port: 0 }, authkey: KEY });
  await manager.start();
  const env = { MANAGER_ADDRESS: JSON.stringify(manager.address) };

  const idle = run('idle-client', env);
  t.is(await within(t, 60_000, idle.next()), '1');
  t.is(await within(t, 30_000, idle.exited, 'the idle client exit'), 0);

  const waiting = run('waiting-client', env);
  t.teardown(() => waiting.child.kill('SIGKILL'));
  t.is(await within(t, 60_000, waiting.next()), 'waiting');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.true(isProcessAlive(waiting.child.pid!), 'still waiting for its call');
  await queue.put('answered');
  t.is(await within(t, 30_000, waiting.next()), 'answered');
  t.is(await within(t, 30_000, waiting.exited), 0);
});
