import test from 'ava';

import { activeChildren, cpuCount, currentProcess, Pool, Process, task } from '../../index.js';
import { backends, fixture, within } from '../helpers/pool.js';

for (const backend of backends) {
  test(`${backend}: start, join, exit code 0; the target's end is the process's end despite pending timers`, async (t) => {
    const p = new Process({ target: fixture('processMain'), args: [0], name: 'worker-a', backend });
    t.is(p.exitCode, null);
    t.false(p.isAlive());
    t.is(p.pid, undefined);
    p.start();
    t.true(p.isAlive());
    t.is(typeof p.pid, 'number');
    t.true(activeChildren().includes(p));
    await within(t, 30_000, p.join());
    t.is(p.exitCode, 0);
    t.false(p.isAlive());
    t.false(activeChildren().includes(p));
    t.is(p.name, 'worker-a');
  });

  test(`${backend}: a target that throws exits with 1`, async (t) => {
    const p = new Process({ target: fixture('processMain'), args: [1], backend });
    p.start();
    await within(t, 30_000, p.join());
    t.is(p.exitCode, 1);
  });

  test(`${backend}: an inline async target with arguments`, async (t) => {
    const p = new Process({
      target: async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
      args: [20],
      backend,
    });
    p.start();
    await within(t, 30_000, p.join());
    t.is(p.exitCode, 0);
  });

  test(`${backend}: join(timeout) returns while it still runs; terminate gives -15, kill gives -9`, async (t) => {
    const p = new Process({ target: fixture('processHang'), backend });
    p.start();
    const start = performance.now();
    await p.join(100);
    t.true(performance.now() - start < 5000);
    t.true(p.isAlive());
    t.is(p.exitCode, null);
    p.terminate();
    await within(t, 15_000, p.join());
    t.is(p.exitCode, -15);

    const q = new Process({ target: fixture('processHang'), backend });
    q.start();
    q.kill();
    await within(t, 15_000, q.join());
    t.is(q.exitCode, -9);
  });

  test(`${backend}: start twice is ERR_ALREADY_STARTED`, async (t) => {
    const p = new Process({ target: fixture('square'), args: [2], backend });
    p.start();
    t.throws(() => p.start(), { code: 'ERR_ALREADY_STARTED' });
    await within(t, 30_000, p.join());
    t.is(p.exitCode, 0);
  });
}

test('process backend: process.exit(n) in the target is exit code n', async (t) => {
  const p = new Process({ target: fixture('exitWith'), args: [4], backend: 'process' });
  p.start();
  await within(t, 30_000, p.join());
  t.is(p.exitCode, 4);
  t.not(p.pid, process.pid);
});

test('Process options are validated; names default to Process-N', async (t) => {
  t.throws(() => new Process({ target: 5 as never }), { instanceOf: TypeError, message: /"target"/ });
  t.throws(() => new Process({ target: () => {}, args: 1 as never }), { instanceOf: TypeError, message: /"args"/ });
  t.throws(() => new Process({ target: () => {}, backend: 'native' as never }), { instanceOf: TypeError, message: /backend/ });
  t.regex(new Process({ target: () => {} }).name, /^Process-\d+$/);
  const p = new Process({ target: () => {} });
  await t.throwsAsync(p.join(), { code: 'ERR_NOT_STARTED' });
});

test("daemon may be set before start, as Python's p.daemon = True; checked, and fixed once started", async (t) => {
  const p = new Process({ target: () => {} });
  p.daemon = true;
  t.true(p.daemon);
  t.throws(
    () => {
      p.daemon = 'yes' as never;
    },
    { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"daemon"/ },
  );
  t.true(p.daemon);
  p.start();
  t.throws(
    () => {
      p.daemon = false;
    },
    { code: 'ERR_ALREADY_STARTED', message: /daemon/ },
  );
  t.true(p.daemon);
  await within(t, 30_000, p.join());
  t.is(p.exitCode, 0);
});

test('cpuCount and currentProcess, in the main thread and in pool workers', async (t) => {
  const { availableParallelism } = await import('node:os');
  t.is(cpuCount(), availableParallelism());
  t.is(currentProcess().name, 'MainProcess');
  t.is(currentProcess().pid, process.pid);
  await using pool = new Pool({ processes: 1 });
  const inWorker = await pool.apply(task<() => { name: string }>(new URL('../fixtures/current.mjs', import.meta.url), 'current'));
  t.regex(inWorker.name, /^PoolWorker-\d+$/);
});

test('a daemon Process does not keep Node alive and is stopped when the parent exits; a non-daemon does', async (t) => {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { isProcessAlive, eventually } = await import('../helpers/pool.js');
  const script = fileURLToPath(new URL('../fixtures/daemon-parent.ts', import.meta.url));
  const run = (mode: string) =>
    new Promise<{ ms: number; pid: number }>((resolve, reject) => {
      const start = performance.now();
      execFile(process.execPath, ['--import=tsx', script, mode], { timeout: 120_000 }, (error, stdout) => {
        if (error) reject(error);
        else resolve({ ms: performance.now() - start, pid: Number(stdout.trim()) });
      });
    });
  const daemon = await run('daemon');
  t.true(await eventually(() => !isProcessAlive(daemon.pid)), 'the daemon child is gone with its parent');
  const normal = await run('normal');
  t.true(normal.ms > 1400, `the parent waited for its non-daemon child (${normal.ms.toFixed(0)} ms)`);
  t.false(isProcessAlive(normal.pid));
});

for (const backend of backends) {
  test(`${backend}: awaiting join() on a daemon keeps Node alive until it ends; inside, currentProcess().daemon is true`, async (t) => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(new URL('../fixtures/daemon-join.ts', import.meta.url));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import=tsx', script, backend], { timeout: 120_000 }, (error, out) =>
        error ? reject(error) : resolve(out),
      );
    });
    const [seen, joined] = stdout.trim().split('\n');
    t.like(JSON.parse(seen!), { daemon: true });
    t.is(joined, 'joined 0');
  });
}

test('process backend: a signal outside the common ones still gives -N', async (t) => {
  const { constants } = await import('node:os');
  const p = new Process({ target: fixture('processHang'), backend: 'process' });
  p.start();
  // Wait until the child has started its target (it is alive and connected).
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.kill(p.pid!, 'SIGUSR2');
  await within(t, 30_000, p.join());
  t.is(p.exitCode, -constants.signals.SIGUSR2);
});
