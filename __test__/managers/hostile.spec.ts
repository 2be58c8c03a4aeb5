// Hostile input against a real server: each bad client gets an error reply or a closed
// connection, and a good client is served afterwards.
import { serialize } from 'node:v8';

import test, { type ExecutionContext } from 'ava';

import { BaseManager, Manager } from '../../index.js';
import { CALL, CREATE, RawClient } from '../helpers/raw-manager-client.js';
import { within } from '../helpers/pool.js';

const KEY = Buffer.from('hostile-test-key');

async function start(t: ExecutionContext, options: { handshakeTimeout?: number; maxFrameBytes?: number } = {}) {
  const manager = new Manager({ authkey: KEY, ...options });
  await manager.start();
  t.teardown(() => manager.shutdown());
  return { manager, path: manager.address as string };
}

/** A good client: authenticates, creates a dict, writes and reads it back over its socket. */
async function goodClientServed(t: ExecutionContext, path: string): Promise<void> {
  const client = await within(t, 20_000, RawClient.authenticated(path, KEY), 'the good client handshake');
  try {
    const [, ok, token] = await within(t, 20_000, client.request([CREATE, 1, 'dict', []]));
    t.is(ok, 1, 'the good client can create');
    const id = (token as { i: number }).i;
    t.deepEqual(await within(t, 20_000, client.request([CALL, 2, id, 'set', ['k', 'v']])), [2, 1, undefined]);
    t.deepEqual(await within(t, 20_000, client.request([CALL, 3, id, 'get', ['k']])), [3, 1, 'v']);
  } finally {
    client.destroy();
  }
}

async function closedWithin(t: ExecutionContext, client: RawClient, ms: number, what: string): Promise<void> {
  await within(t, ms, client.closed, what);
  t.true(client.isClosed);
}

test('a connection that never finishes the handshake is closed after handshakeTimeout', async (t) => {
  // Long enough for the good client's own handshake on a loaded machine (300 ms was not).
  const { path } = await start(t, { handshakeTimeout: 1500 });
  // Taken before connecting, so it is before the server's timer starts whatever the load.
  const begin = Date.now();
  const silent = await RawClient.open(path);
  await closedWithin(t, silent, 10_000, 'closing a silent connection');
  t.true(Date.now() - begin >= 1490, 'not before the timeout');
  const slow = await RawClient.open(path);
  await slow.nextBytes(); // the challenge, never answered
  await closedWithin(t, slow, 10_000, 'closing a connection that stalls mid-handshake');
  await goodClientServed(t, path);
});

test('before authenticating: an oversized frame, garbage, or a request closes the connection and runs nothing', async (t) => {
  const { manager, path } = await start(t);
  const huge = await RawClient.open(path);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(0x7fffffff);
  huge.socket.write(header);
  await closedWithin(t, huge, 4000, 'closing on an oversized pre-auth frame');

  const garbage = await RawClient.open(path);
  garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await closedWithin(t, garbage, 4000, 'closing on garbage');

  const eager = await RawClient.open(path);
  await eager.nextBytes();
  eager.send([CREATE, 1, 'dict', []]);
  await closedWithin(t, eager, 4000, 'closing on a request instead of a digest');
  t.is(manager.getServer().numberOfObjects(), 0, 'nothing was created');
  await goodClientServed(t, path);
});

test('a wrong key: the server sends FAILURE and closes; the client refuses a server with another key', async (t) => {
  const { path } = await start(t);
  await t.throwsAsync(RawClient.authenticated(path, Buffer.from('wrong key')), { message: /rejected|closed/ });
  class M extends BaseManager {}
  const other = new M({ address: path, authkey: 'another key' });
  await t.throwsAsync(other.connect(), { name: 'AuthenticationError' });
  await goodClientServed(t, path);
});

test('after authenticating: a frame over maxFrameBytes, or an undecodable one, closes that connection only', async (t) => {
  const { path } = await start(t, { maxFrameBytes: 64 * 1024 });
  const big = await RawClient.authenticated(path, KEY);
  big.send([CALL, 1, 1, 'set', ['x'.repeat(100_000)]]);
  await closedWithin(t, big, 4000, 'closing on an oversized frame');

  const garbage = await RawClient.authenticated(path, KEY);
  const frame = Buffer.alloc(20, 0xff);
  frame.writeUInt32LE(16, 0);
  garbage.socket.write(frame);
  await closedWithin(t, garbage, 4000, 'closing on an undecodable frame');

  const notARequest = await RawClient.authenticated(path, KEY);
  notARequest.send({ hello: 'world' });
  await closedWithin(t, notARequest, 4000, 'closing on a frame that is not a request');
  await goodClientServed(t, path);
});

test('unknown typeid, unknown object, methods not exposed or inherited: error replies, connection kept', async (t) => {
  const { path } = await start(t);
  const client = await RawClient.authenticated(path, KEY);
  t.teardown(() => client.destroy());
  const codeOf = async (message: unknown[]) => {
    const [, ok, error] = await within(t, 10_000, client.request(message));
    t.is(ok, 0);
    return (error as { props: { code?: string } }).props.code;
  };
  t.is(await codeOf([CREATE, 1, 'nope', []]), 'ERR_UNKNOWN_TYPEID');
  t.is(await codeOf([CREATE, 2, '__proto__', []]), 'ERR_UNKNOWN_TYPEID');
  t.is(await codeOf([CREATE, 3, 'toString', []]), 'ERR_UNKNOWN_TYPEID');
  const [, , token] = await client.request([CREATE, 4, 'dict', []]);
  const id = (token as { i: number }).i;
  for (const method of [
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    'valueOf',
    '__defineGetter__',
    'then',
    'prototype',
    'nothing',
    '',
  ]) {
    t.is(await codeOf([CALL, 5, id, method, []]), 'ERR_METHOD_NOT_EXPOSED', method);
  }
  t.is(await codeOf([CALL, 6, id, 5, []]), 'ERR_METHOD_NOT_EXPOSED');
  t.is(await codeOf([CALL, 7, 999_999, 'get', []]), 'ERR_NO_SUCH_OBJECT');
  t.is(await codeOf([CALL, 8, '1', 'get', []]), 'ERR_NO_SUCH_OBJECT');
  t.is(await codeOf([CALL, 9, id, 'get', 'not an array']), 'ERR_INVALID_ARG_TYPE');
  // A forged token for an object that does not exist is refused too.
  t.is(
    await codeOf([CALL, 10, id, 'set', ['k', { __napiMpProxy: 1, t: 'dict', i: 424242, x: [], k: 'dict' }]]),
    'ERR_NO_SUCH_OBJECT',
  );
  // And the connection still works.
  t.deepEqual(await client.request([CALL, 11, id, 'size', []]), [11, 1, 0]);
  await goodClientServed(t, path);
});

test('one client flooding requests without reading replies does not starve another, and loses nothing', async (t) => {
  const { path } = await start(t);
  const flooder = await RawClient.authenticated(path, KEY);
  t.teardown(() => flooder.destroy());
  const [, , token] = await flooder.request([CREATE, 1, 'dict', []]);
  const id = (token as { i: number }).i;
  const big = 'x'.repeat(16 * 1024);
  t.deepEqual(await flooder.request([CALL, 2, id, 'set', ['big', big]]), [2, 1, undefined]);
  // Stop reading, then ask for 3,000 copies of 16 KiB (48 MiB of replies).
  flooder.socket.pause();
  const before = process.memoryUsage().arrayBuffers;
  const total = 3000;
  for (let i = 0; i < total; i++) flooder.send([CALL, 100 + i, id, 'get', ['big']]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let round = 0; round < 3; round++) await goodClientServed(t, path);
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The server stopped reading the flooder instead of buffering its 48 MiB of replies.
  const grown = process.memoryUsage().arrayBuffers - before;
  t.true(grown < 24 * 1024 * 1024, `buffers grew by ${(grown / 1048576).toFixed(1)} MiB`);
  // Every reply is there once the flooder reads again.
  flooder.socket.resume();
  for (let i = 0; i < total; i++) {
    const [callId, ok, value] = await within(t, 60_000, flooder.reply(), 'the flooder replies');
    if (callId !== 100 + i || ok !== 1 || value !== big) {
      t.fail(`reply ${i}: ${String(callId)} ${String(ok)}`);
      return;
    }
  }
  t.pass();
});

/** Random values: data of every kind, token look-alikes, deep and odd shapes. */
function randomValue(depth = 0): unknown {
  const r = Math.random();
  if (depth > 3 || r < 0.3) {
    const atoms = [0, -1, 1.5, NaN, 2 ** 53, 'x', '', '__proto__', 'constructor', null, undefined, true, 10n, new Date(0)];
    return atoms[Math.floor(Math.random() * atoms.length)];
  }
  if (r < 0.5) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomValue(depth + 1));
  if (r < 0.6)
    return {
      __napiMpProxy: Math.floor(Math.random() * 4),
      t: randomValue(depth + 1),
      i: Math.floor(Math.random() * 50),
      x: ['get'],
      k: 'dict',
    };
  if (r < 0.7) return new Map([[randomValue(depth + 1), randomValue(depth + 1)]]);
  return { a: randomValue(depth + 1), ['__proto__']: randomValue(depth + 1) };
}

const METHODS = [
  'get',
  'set',
  'copy',
  'update',
  'pop',
  'append',
  'extend',
  'sort',
  'insert',
  'put',
  'getNowait',
  'acquire',
  'release',
  'wait',
  'constructor',
  '__proto__',
  'toString',
  'then',
  'x',
];
const TYPEIDS = [
  'dict',
  'list',
  'Namespace',
  'Value',
  'Array',
  'Queue',
  'Lock',
  'RLock',
  'Semaphore',
  'Event',
  'Condition',
  'Barrier',
  'nope',
  '__proto__',
];

function randomFrame(): Buffer {
  const r = Math.random();
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  if (r < 0.05) {
    // Bytes of any tag and content, with a correct length.
    const body = Buffer.from(Array.from({ length: 1 + Math.floor(Math.random() * 40) }, () => Math.floor(Math.random() * 256)));
    const frame = Buffer.alloc(4 + body.length);
    frame.writeUInt32LE(body.length, 0);
    body.copy(frame, 4);
    return frame;
  }
  if (r < 0.1) {
    const body = serialize(randomValue());
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32LE(body.length + 1, 0);
    body.copy(frame, 5);
    return frame;
  }
  const id = Math.floor(Math.random() * 40);
  const callId = Math.random() < 0.95 ? Math.floor(Math.random() * 1e6) : randomValue();
  const args =
    Math.random() < 0.9
      ? (Array.from({ length: Math.floor(Math.random() * 3) }, () => randomValue()) as unknown[])
      : randomValue();
  const shapes: unknown[][] = [
    [CALL, callId, id, pick(METHODS), args],
    [CREATE, callId, pick(TYPEIDS), args],
    [2, Math.random() < 0.8 ? [id, id + 1] : randomValue()],
    [3, id, Math.random().toString(36)],
    [4, id, Math.random().toString(36)],
    [Math.floor(Math.random() * 10) - 2, randomValue()],
  ];
  // Valid messages are built by the same codec a client uses.
  return encodeFrame(pick(shapes));
}

let encodeFrame: (value: unknown) => Buffer;

test('fuzz: 10,000 random frames after authenticating; the server stays up and serves a good client', async (t) => {
  ({ valueFrame: encodeFrame } = await import('../../src/connection/framing.js'));
  const { path } = await start(t);
  let client = await RawClient.authenticated(path, KEY);
  let closes = 0;
  const SENTINEL = 2 ** 52;
  for (let i = 0; i < 10_000; i++) {
    if (client.isClosed) {
      closes++;
      client = await within(t, 20_000, RawClient.authenticated(path, KEY), 'reconnecting');
    }
    // Each frame is followed by a request whose reply proves the server dealt with the frame
    // (replies come in order for calls that do not wait), unless the frame closed the connection.
    client.socket.write(randomFrame());
    client.send([CALL, SENTINEL, 0, 'x', []]);
    try {
      for (;;) {
        const reply = await within(t, 20_000, client.reply(), 'the sentinel reply');
        if (reply[0] === SENTINEL) break;
      }
    } catch (error) {
      if (!client.isClosed) throw error;
    }
  }
  client.destroy();
  t.log(`${closes} of 10,000 frames closed their connection`);
  await goodClientServed(t, path);
});
