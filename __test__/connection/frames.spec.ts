/**
 * The client reads into one reused buffer and hands frames over without copying them; what is
 * left of a read (the start of the next frame, or part of a big one) must be copied before the
 * buffer is read into again. Cut a stream of frames at random points, overwrite the buffer after
 * every read, and every value must still arrive intact and in order.
 */
import { Socket } from 'node:net';

import test from 'ava';

import { FrameSocket } from '../../src/connection/frame_socket.js';
import { frameValue, valueFrame } from '../../src/connection/framing.js';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

test('frames cut anywhere across reads into one reused buffer arrive intact, big ones too', async (t) => {
  const next = random(12);
  const values: unknown[] = [];
  for (let i = 0; i < 400; i++) {
    const size = next() < 0.05 ? 70_000 + Math.floor(next() * 200_000) : Math.floor(next() * 300);
    values.push(i % 3 === 0 ? [i, 'x'.repeat(size)] : { i, s: 'é'.repeat(size), m: new Map([[i, size]]) });
  }
  const stream = Buffer.concat(values.map((value) => valueFrame(value)));
  const io = new FrameSocket(new Socket(), 1 << 20);
  const received: unknown[] = [];
  io.start((data, start, end) => received.push(frameValue(data, start, end)));
  await Promise.resolve();
  const scratch = Buffer.alloc(64 * 1024);
  for (let at = 0; at < stream.length; ) {
    const n = Math.min(stream.length - at, 1 + Math.floor(next() * (next() < 0.5 ? 64 : scratch.length)));
    stream.copy(scratch, 0, at, at + n);
    io.receiveBorrowed(scratch.subarray(0, n));
    scratch.fill(0xaa);
    at += n;
  }
  t.is(received.length, values.length);
  t.deepEqual(received, values);
  io.destroy();
});
