// Shared objects and process workers with and without the native core: with it they are shared
// between processes; without it (the pure-TypeScript fallback) sending one to a process worker is
// a TypeError that says why, and threads still share them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import test from 'ava';

import { fixturePath } from '../helpers/node.js';
import { processShared } from '../../src/shm/memory.js';

const run = promisify(execFile);

async function refusalIn(env: Record<string, string | undefined>) {
  const { stdout } = await run(process.execPath, ['--import=tsx', fixturePath('process-refusal.ts')], {
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { pool: unknown; process: unknown; counter: number };
}

test('without the native addon, a shared object sent to a process worker is a TypeError naming why', async (t) => {
  const out = await refusalIn({ NAPI_MULTIPROCESSING_NO_NATIVE: '1' });
  for (const [what, type] of [
    ['pool', 'Value'],
    ['process', 'Lock'],
  ] as const) {
    const error = out[what] as { name: string; code: string; message: string };
    t.is(error.name, 'TypeError', what);
    t.is(error.code, 'ERR_INVALID_ARG_TYPE', what);
    t.regex(error.message, new RegExp(`^A ${type} cannot be sent to a 'process' worker: .*native addon is not loaded`), what);
  }
  t.is(out.counter, 2, 'threads still share it');
});

(processShared ? test : test.skip)('with the native addon, the same objects reach process workers and are shared', async (t) => {
  const out = await refusalIn({ NAPI_MULTIPROCESSING_NO_NATIVE: undefined });
  t.is(out.pool, 5, 'the process worker added 5 to the shared Value');
  t.deepEqual(out.process, { exitCode: 0, locked: false }, 'the child process released the Lock this process held');
  t.is(out.counter, 7, 'the thread worker then added 2 to the same memory');
});
