/**
 * Python refuses to start a process while a child is still importing the main module (the
 * missing `if __name__ == '__main__'` guard). Here a worker importing a task module whose top
 * level starts a Pool or a Process would start another such worker, and so on without end.
 */
import test from 'ava';

import { fixturePath, runNode } from '../helpers/node.js';

const guard = /while this worker imports the task module .*unguarded-main\.ts.*currentProcess\(\)\.name === 'MainProcess'/s;

for (const backend of ['thread', 'process'] as const) {
  for (const kind of ['pool', 'process'] as const) {
    test(`${backend} ${kind}: starting workers while a worker imports its task module fails with a clear error`, async (t) => {
      // The environment, not argv: the workers that import the fixture must take the same path.
      process.env.UNGUARDED_BACKEND = backend;
      process.env.UNGUARDED_KIND = kind;
      const run = await runNode(['--import', 'tsx', fixturePath('unguarded-main.ts')], { timeoutMs: 90_000 });
      const tops = run.stdout.split('\n').filter((line) => line.startsWith('top level in '));
      t.is(tops.length, 2, 'the main program, then one worker that stops there');
      t.regex(run.stderr, guard);
      if (kind === 'pool') {
        // The task's import failed: map rejects with the error, which ends the program.
        t.is(run.code, 1);
        t.regex(run.stderr, /code: 'ERR_START_WHILE_IMPORTING'/);
      } else {
        // As in Python, a Process whose target fails prints why and exits with 1; its parent goes on.
        t.is(run.code, 0);
        t.regex(run.stdout, /^exit code 1$/m);
      }
    });
  }
}
