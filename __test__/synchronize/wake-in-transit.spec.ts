import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import test from 'ava';

const script = fileURLToPath(new URL('../fixtures/wake-in-transit.ts', import.meta.url));

function runFixture(mode: 'changed' | 'unchanged'): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import=tsx', script, mode], { timeout: 120_000 }, (error, stdout) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout });
    });
  });
}

test('an async wait on process-shared memory whose word changed is answered when the event loop runs out of work', async (t) => {
  // Before: the process ended with the wait unanswered whenever the waker's wake-up was still on
  // its way (a Pipe recv in a test lost its last message, on Node 24 about 1 run in 10).
  t.deepEqual(await runFixture('changed'), { code: 0, stdout: '{"outcome":"ok"}\n' });
});

test('an endless async wait that nothing can end still lets the process exit', async (t) => {
  t.deepEqual(await runFixture('unchanged'), { code: 0, stdout: '' });
});
