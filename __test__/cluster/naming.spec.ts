/**
 * How a module task finds its module on another machine (where the code lives at another path),
 * what the worker command refuses, and what a cluster pool does without Redis or without BullMQ.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import anyTest, { type TestFn } from 'ava';

import { Pool, task } from '../../index.js';
import { within } from '../helpers/pool.js';
import { NO_REDIS, type RedisServer, haveRedis, root, startRedis, startWorker, stopChild, workerArgs } from './helpers.js';

const test = anyTest as TestFn<{ redis: RedisServer; dir: string }>;
const tasksUrl = new URL('./fixtures/tasks.mjs', import.meta.url);

interface Run {
  code: number | null;
  out: string;
}

function run(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${timeoutMs} ms (hang):\n${out}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test.before((t) => {
  t.context = { redis: undefined as never, dir: mkdtempSync(join(tmpdir(), 'napi-mp-cluster-')) };
});

test.after.always((t) => {
  rmSync(t.context.dir, { recursive: true, force: true });
});

test('the worker command refuses bad arguments with a usage message', async (t) => {
  const noConnection = await run(['bin/cli.ts', 'worker', '--tasks', 'x.js']);
  t.is(noConnection.code, 2);
  t.regex(noConnection.out, /--connection is required/);
  const nativeTasks = await run([
    'bin/cli.ts',
    'worker',
    '--connection',
    'redis://127.0.0.1:1',
    '--backend',
    'native',
    '--tasks',
    'x.js',
  ]);
  t.is(nativeTasks.code, 2);
  t.regex(nativeTasks.out, /--backend native runs only native kernels/);
  const badUrl = await run(['bin/cli.ts', 'worker', '--connection', 'http://127.0.0.1:1']);
  t.is(badUrl.code, 2);
  t.regex(badUrl.out, /redis:\/\/ or rediss:\/\/ URL/);
  const help = await run(['bin/cli.ts', 'worker', '--help']);
  t.is(help.code, 0);
  t.regex(help.out, /--tasks MODULE/);
});

test('a module that cannot be imported stops the worker at start, naming it', async (t) => {
  const missing = await run(['bin/cli.ts', 'worker', '--connection', 'redis://127.0.0.1:1', '--tasks', './no/such/tasks.mjs']);
  t.is(missing.code, 1);
  t.regex(missing.out, /--tasks \.\/no\/such\/tasks\.mjs: cannot import file:\/\/.*no\/such\/tasks\.mjs/);
});

test('without bullmq installed, the pool says what to install', async (t) => {
  const script = join(t.context.dir, 'no-bullmq.mts');
  writeFileSync(
    script,
    `import { Pool, native } from ${JSON.stringify(join(root, 'index.ts'))};
const pool = new Pool({ backend: 'cluster', connection: 'redis://127.0.0.1:1' });
try { await pool.map(native.isPrime, [1]); } catch (e) { console.log(e.code, e.message); }
await pool.terminate();`,
  );
  const result = await run(['--import', './__test__/cluster/fixtures/cluster-missing-deps.mjs', script]);
  t.is(result.code, 0);
  t.regex(result.out, /ERR_MISSING_OPTIONAL_DEPENDENCY .*'bullmq'.*npm install bullmq ioredis/);
});

test('with no Redis to reach, the work fails with the connection error instead of waiting forever', async (t) => {
  await using pool = new Pool({ backend: 'cluster', connection: 'redis://127.0.0.1:1' });
  const error = await t.throwsAsync(within(t, 60_000, pool.map(task(tasksUrl, 'square'), [1, 2])));
  t.is((error as Error & { code: string }).code, 'ERR_CLUSTER_CONNECTION');
  t.regex(error!.message, /Could not connect to Redis at redis:\/\/127\.0\.0\.1:1 /);
});

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test.serial('a pool that is never closed lets the process exit once idle', async (t) => {
    const redis = await startRedis();
    const worker = await startWorker(workerArgs(redis, 'idle'));
    try {
      const script = join(t.context.dir, 'never-closed.mts');
      writeFileSync(
        script,
        `import { Pool, task } from ${JSON.stringify(join(root, 'index.ts'))};
const pool = new Pool({ backend: 'cluster', connection: ${JSON.stringify(redis.url)}, queue: 'idle' });
console.log(JSON.stringify(await pool.map(task(${JSON.stringify(tasksUrl.href)}, 'square'), [1, 2, 3])));`,
      );
      const result = await run([script], 30_000);
      t.is(result.code, 0);
      t.is(result.out.trim(), '[1,4,9]');
    } finally {
      await stopChild(worker.child, 'SIGKILL');
      await redis.stop();
    }
  });

  test.serial('a task travels by package and path, or by a name given on the worker command line', async (t) => {
    const redis = await startRedis();
    // The same package deployed elsewhere: another directory, the same package name and layout.
    const elsewhere = join(t.context.dir, 'deployed');
    mkdirSync(join(elsewhere, '__test__/cluster/fixtures'), { recursive: true });
    writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ name: 'napi-multiprocessing', type: 'module' }));
    cpSync(new URL(tasksUrl), join(elsewhere, '__test__/cluster/fixtures/tasks.mjs'));
    // Code outside any named package, served under a name.
    const loose = join(t.context.dir, 'loose.mjs');
    writeFileSync(loose, 'export function triple(x) { return 3 * x; }\n');
    const worker = await startWorker(
      workerArgs(redis, 'naming', { tasks: [join(elsewhere, '__test__/cluster/fixtures/tasks.mjs'), `triple=${loose}`] }),
    );
    try {
      await using pool = new Pool({ backend: 'cluster', connection: redis.url, queue: 'naming' });
      // Submitted from this checkout's path; run from the copy, found by package and path.
      const results = await within(
        t,
        30_000,
        pool.starmap(task<(x: number, ms: number) => { value: number }>(tasksUrl, 'slowSquare'), [[4, 1]]),
      );
      t.is(results[0]!.value, 16);
      t.regex(worker.output(), /serves napi-multiprocessing\/__test__\/cluster\/fixtures\/tasks\.mjs \| file:\/\/.*deployed/);
      t.is(await within(t, 30_000, pool.apply(task('cluster:triple', 'triple'), [5])), 15);
      t.regex(worker.output(), /serves cluster:triple \| file:\/\/.*loose\.mjs/);
    } finally {
      await stopChild(worker.child, 'SIGKILL');
      await redis.stop();
    }
  });
}
