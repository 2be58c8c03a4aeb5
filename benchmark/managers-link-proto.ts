/**
 * Prototype for the manager's shared-memory link (benchmark/managers.md): round trips of a small
 * frame between two processes over a pair of FrameRings, each side spinning synchronously for
 * the other (no event loop, no manager), against the same with a futex block instead of a spin,
 * and with `sched_yield` between two looks. The ceiling of what a link can do on this machine at
 * this moment.
 *
 *   MODES=spin,block,yield npx tsx benchmark/managers-link-proto.ts [ms]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { type SharedMemory, unwire, wire } from '../src/shm/memory.js';
import { binding } from '../src/native/binding.js';
import { DIRECTION_WORDS, FrameRing, RING_BYTES } from '../src/shm/frame-ring.js';

const CTRL = 2 * DIRECTION_WORDS;
const ms = Number(process.argv[2] ?? 1000);

function rings(memory: SharedMemory, side: 0 | 1) {
  const ctrl = new Int32Array(memory, 0, CTRL);
  const a = new FrameRing(ctrl, 0, new Uint8Array(memory, CTRL * 4, RING_BYTES));
  const b = new FrameRing(ctrl, 1, new Uint8Array(memory, CTRL * 4 + RING_BYTES, RING_BYTES));
  return side === 0 ? { out: a, in: b } : { out: b, in: a };
}

const frame = Buffer.from([4, 0, 0, 0, 9, 1, 2, 3]);

/** Waits for a frame: spinning, yielding the core, or blocking on the futex (the writer wakes it). */
function take(r: FrameRing, mode: string): void {
  if (mode === 'spin') while (!r.ready);
  else if (mode === 'yield') while (!r.ready) binding!.yieldCpu();
  else while (!r.ready) r.block(1000);
  r.read(64);
}

function send(r: FrameRing): void {
  r.tryWrite(frame, frame.length);
  r.wakeReader();
}

if (process.argv[2] === 'child') {
  process.once('message', ({ wired, mode, ms: run }: { wired: unknown; mode: string; ms: number }) => {
    const r = rings(unwire(wired as never), 1);
    const end = performance.now() + run + 500;
    for (;;) {
      take(r.in, mode);
      send(r.out);
      if (performance.now() > end) break;
    }
    process.exit(0);
  });
} else {
  const { allocateShared } = await import('../src/shm/memory.js');
  for (const mode of (process.env.MODES ?? 'spin,block,yield,spin,block,yield').split(',')) {
    const memory = allocateShared(CTRL * 4 + 2 * RING_BYTES);
    const child = fork(fileURLToPath(import.meta.url), ['child'], { execArgv: ['--import=tsx'] });
    child.send({ wired: wire(memory), mode, ms });
    const r = rings(memory, 0);
    send(r.out);
    take(r.in, mode); // the child is up
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      send(r.out);
      take(r.in, mode);
      n++;
    }
    console.log(`${mode}: ${Math.round((n / (performance.now() - start)) * 1000).toLocaleString('en-US')} round trips/s`);
    child.kill();
  }
}
