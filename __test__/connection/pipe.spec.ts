import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test, { type ExecutionContext } from 'ava';

import { EOFError, Pipe } from '../../index.js';
import { inWorker, withDeadline } from '../helpers/shared.js';

test('duplex Pipe: send/recv both ways, bytes, poll', async (t) => {
  const [a, b] = Pipe<unknown>();
  t.false(await b.poll(), 'nothing sent yet');
  const start = performance.now();
  t.false(await b.poll(60));
  await t.throwsAsync(b.poll(-1), { instanceOf: RangeError });
  const ms = performance.now() - start;
  t.true(ms >= 55 && ms < 60 + 3_000, `${ms} ms`);
  a.send({ x: [1, 2] });
  a.sendBytes(Buffer.from('hello world'), 6, 5);
  t.true(await b.poll());
  t.deepEqual(await b.recv(), { x: [1, 2] });
  t.is((await b.recvBytes()).toString(), 'world');
  b.send('back');
  t.is(a.recvSync(), 'back');
  setTimeout(() => b.send('later'), 20);
  t.true(await a.poll(null), 'poll(null) waits as long as it takes');
  t.is(await a.recv(), 'later');
  a.sendBytes(new Uint8Array(10));
  await t.throwsAsync(() => b.recvBytes(4), { code: 'ERR_MESSAGE_TOO_LONG' } as never);
  t.throws(() => a.sendBytes(Buffer.alloc(4), 5), { instanceOf: RangeError, message: /"offset"/ });
  t.throws(() => a.sendBytes('text' as never), { instanceOf: TypeError, message: /"buf"/ });
});

test('recv on a closed peer: what was sent first, then EOFError; sending to a closed peer: EPIPE', async (t) => {
  const [a, b] = Pipe<number>();
  a.send(1);
  a.send(2);
  a.close();
  t.true(a.closed);
  t.is(await b.recv(), 1);
  t.is(b.recvSync(), 2);
  await t.throwsAsync(() => b.recv(), { instanceOf: EOFError });
  t.throws(() => b.recvSync(), { instanceOf: EOFError });
  t.true(await b.poll(), 'at EOF, poll says recv would not wait');
  t.throws(() => b.send(3), { code: 'EPIPE' } as never);
  t.throws(() => a.send(3), { code: 'ERR_CONNECTION_CLOSED' } as never);

  // A receiver already waiting is woken by the close.
  const [c, d] = Pipe();
  const waiting = d.recv();
  setTimeout(() => c.close(), 20);
  await t.throwsAsync(withDeadline(waiting, 30_000, 'recv woken by close'), { instanceOf: EOFError });
});

test('simplex Pipe(false): the first end only receives, the second only sends', async (t) => {
  const [reader, writer] = Pipe<string>(false);
  t.true(reader.readable);
  t.false(reader.writable);
  t.false(writer.readable);
  writer.send('one way');
  t.is(await reader.recv(), 'one way');
  t.throws(() => reader.send('x'), { code: 'ERR_CONNECTION_READ_ONLY' } as never);
  await t.throwsAsync(() => writer.recv(), { code: 'ERR_CONNECTION_WRITE_ONLY' } as never);
  t.throws(() => Pipe('no' as never), { instanceOf: TypeError, message: /"duplex"/ });
});

test('a Pipe end in a worker: request/response, then EOF in both directions', async (t) => {
  // The deadline's timer also holds the event loop: the sender's answer ends its worker, and a
  // recv's wake-up may still be on its way when that was the loop's last handle. The package
  // answers such a wait at 'beforeExit' (wake-in-transit.spec), but ava fails a test whose loop
  // empties in its own 'beforeExit' listener, before that answer can run.
  await withDeadline(pipeRequestsThenEOF(t), 60_000, 'request/response, then EOF');
});

async function pipeRequestsThenEOF(t: ExecutionContext): Promise<void> {
  const [mine, theirs] = Pipe<unknown>();
  const worker = inWorker<number>('pipeEcho', theirs);
  for (let i = 0; i < 1_000; i++) {
    mine.send({ i });
    t.deepEqual(await mine.recv(), [{ i }, 'ack']);
  }
  mine.close();
  t.is(await worker, 1_000);

  const [rx, tx] = Pipe<number>(false);
  const sender = inWorker('pipeSendAndClose', tx, 5_000);
  let sum = 0;
  for (let i = 0; i < 5_000; i++) sum += await rx.recv();
  t.is(sum, (4_999 * 5_000) / 2);
  t.deepEqual([...(await rx.recvBytes())], [1, 2, 3]);
  await t.throwsAsync(() => rx.recv(), { instanceOf: EOFError });
  await sender;
}

test('recvSync of large messages sent by the same thread: pollSync, recvSync, recvBytesSync, then the process exits', async (t) => {
  // In a child process: before the fix recvSync spun forever (and the undelivered rest kept the
  // process alive), which no in-process deadline can catch.
  const script = fileURLToPath(new URL('../fixtures/same-thread-reads.ts', import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', script, 'pipe'], { timeout: 120_000 }, (error, out) =>
      error ? reject(error) : resolve(out),
    );
  });
  t.deepEqual(JSON.parse(stdout), { poll: true, first: true, second: 'small', bytes: true, pollAfter: false });
});
