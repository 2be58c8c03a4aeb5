import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import test, { type ExecutionContext } from 'ava';

import { AuthenticationError, BaseManager, BaseProxy, type Proxied, SyncManager } from '../../index.js';
import { within } from '../helpers/pool.js';

const serverScript = fileURLToPath(new URL('../fixtures/manager-server.ts', import.meta.url));
const AUTHKEY = 'remote-test-key';

interface Counter {
  increment(by?: number): number;
  value(): number;
  child(): Counter;
  slow(ms: number): Promise<number>;
  fail(): never;
}

class RemoteManager extends SyncManager {}
RemoteManager.register('getTaskQueue');
RemoteManager.register('getResultQueue');
RemoteManager.register('Counter');
RemoteManager.register('Restricted');

/** Starts the manager process; resolves with its address once it serves. */
async function serve(t: ExecutionContext, mode: 'tcp' | 'tls', env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import=tsx', serverScript, mode], {
    env: { ...process.env, MANAGER_AUTHKEY: AUTHKEY, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const line = await within(
    t,
    60_000,
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the manager process exited with ${code}`)));
    }),
    'the manager process start',
  );
  return { child: child as ChildProcess, address: JSON.parse(line) as { host: string; port: number } };
}

test('connect() over TCP: built-in types, a registered class, methodToTypeid, exposed, errors', async (t) => {
  const { address } = await serve(t, 'tcp');
  t.is(address.host, '127.0.0.1');
  t.true(address.port > 0);
  await using m = new RemoteManager({ address, authkey: AUTHKEY });
  await m.connect();
  const d = await m.dict<string, number>({ a: 1 });
  await d.set('b', 2);
  t.deepEqual(
    await d.copy(),
    new Map([
      ['a', 1],
      ['b', 2],
    ]),
  );

  const counter = await m.proxy<Counter>('Counter');
  t.true(counter instanceof BaseProxy);
  t.is(await counter.increment(), 1);
  t.is(await counter.increment(4), 5);
  t.is(await counter.slow(10), 10);
  const child = await counter.child();
  t.true(child instanceof BaseProxy, 'methodToTypeid: the result stays in the manager');
  t.is(await child.value(), 50);
  t.false('_secret' in counter, 'a _name is not exposed');
  t.false('incrementSync' in counter, 'a …Sync method is not exposed by default');
  await t.throwsAsync(counter.fail(), { instanceOf: RangeError, code: 'E_COUNTER', message: 'counter failed' });

  const restricted = (await m.proxy<Counter>('Restricted')) as unknown as Record<string, unknown>;
  t.is(typeof restricted.value, 'function');
  t.is(restricted.increment, undefined);

  // The generated method has the typeid's name too.
  const viaMethod = await (m as unknown as { Counter(): Promise<Proxied<Counter>> }).Counter();
  t.is(await viaMethod.value(), 0);
});

test('the issue example: package Queues registered on a BaseManager subclass, used remotely', async (t) => {
  const { address } = await serve(t, 'tcp');
  class QueueManager extends BaseManager {}
  QueueManager.register('getTaskQueue');
  QueueManager.register('getResultQueue');
  await using m = new QueueManager({ address, authkey: AUTHKEY });
  await m.connect();
  type Q = { put(x: number | null): Promise<void>; get(): Promise<number> };
  const tasks = await m.proxy<Q>('getTaskQueue');
  const results = await m.proxy<Q>('getResultQueue');
  for (const n of [1, 2, 3]) await tasks.put(n);
  // Another proxy of the same queue sees what was put (the factory returns the one object).
  const again = await m.proxy<Q>('getTaskQueue');
  t.is(await again.get(), 1);
  await results.put(10);
  t.is(await results.get(), 10);
});

test('a wrong authkey -> AuthenticationError, in both directions', async (t) => {
  const { address } = await serve(t, 'tcp');
  const wrong = new RemoteManager({ address, authkey: 'not the key' });
  await t.throwsAsync(wrong.connect(), { instanceOf: AuthenticationError, code: 'ERR_AUTHENTICATION' });
  await t.throwsAsync(wrong.dict(), { instanceOf: AuthenticationError });
  // A good client is still served.
  await using right = new RemoteManager({ address, authkey: AUTHKEY });
  await right.connect();
  t.is(await (await right.list([1])).length(), 1);
});

test('when the manager process dies, pending and later calls reject with ERR_MANAGER_CLOSED within 5 s', async (t) => {
  const { child, address } = await serve(t, 'tcp');
  await using m = new RemoteManager({ address, authkey: AUTHKEY });
  await m.connect();
  const q = await m.Queue();
  const d = await m.dict();
  const pending = q.get();
  const start = Date.now();
  child.kill('SIGKILL');
  await t.throwsAsync(within(t, 10_000, pending), { code: 'ERR_MANAGER_CLOSED' });
  t.true(Date.now() - start < 5000, `rejected after ${Date.now() - start} ms`);
  await t.throwsAsync(within(t, 10_000, d.get(1)), { code: 'ERR_MANAGER_CLOSED' });
});

test('TLS: a client with the CA is served; a plaintext client is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'napi-mp-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  } catch {
    t.log('openssl is not available: TLS not tested here');
    t.pass();
    return;
  }
  const { address } = await serve(t, 'tls', { TLS_KEY: key, TLS_CERT: cert });
  await using secure = new RemoteManager({ address, authkey: AUTHKEY, tls: { ca: readFileSync(cert), servername: 'localhost' } });
  await secure.connect();
  const d = await secure.dict<string, string>();
  await d.set('over', 'tls');
  t.is(await d.get('over'), 'tls');
  const plain = new RemoteManager({ address, authkey: AUTHKEY, handshakeTimeout: 2000 });
  await t.throwsAsync(within(t, 20_000, plain.connect()));
  const untrusting = new RemoteManager({ address, authkey: AUTHKEY, tls: { servername: 'localhost' } });
  await t.throwsAsync(within(t, 20_000, untrusting.connect()), { code: 'ERR_MANAGER_CLOSED' });
});

test('register() checks its arguments; typeids cannot replace what every manager needs', (t) => {
  class M extends BaseManager {}
  t.throws(() => M.register('' as string), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => M.register('x', 5 as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => M.register('constructor', () => ({})), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => M.register('shutdown', () => ({})), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => M.register('then', () => ({})), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => M.register('x', () => ({}), { exposed: ['__proto__'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => M.register('x', () => ({}), { exposd: [] } as never), { instanceOf: TypeError, message: /exposd/ });
  // A subclass's registrations do not leak into its parent.
  class Child extends M {}
  Child.register('onlyChild', () => ({}));
  t.false('onlyChild' in M.prototype);
  t.true('onlyChild' in Child.prototype);
});

test('serveForever() settles when the manager shuts down; closures work as factories', async (t) => {
  let made = 0;
  class Local extends BaseManager {}
  Local.register('thing', () => ({ id: ++made, hello: () => 'hi' }));
  const m = new Local({ address: { host: '127.0.0.1', port: 0 } });
  const server = m.getServer();
  const serving = server.serveForever();
  const thing = await m.proxy<{ hello(): string }>('thing');
  t.is(await thing.hello(), 'hi');
  t.is(made, 1);
  t.is(server.numberOfObjects(), 1);
  t.true(typeof m.address === 'object' && m.address.port > 0);
  setTimeout(() => void server.shutdown(), 50);
  await within(t, 10_000, serving);
});
