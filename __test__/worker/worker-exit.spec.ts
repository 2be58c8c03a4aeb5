// How workers end: quietly when their parent goes, and never in a loop when they cannot start.
import test from 'ava';

import { fixturePath, runNode } from '../helpers/node.js';

test('process children whose pool closes at once, or that are replaced, end without EPIPE traces', async (t) => {
  const { code, stdout, stderr } = await runNode(['--import=tsx', fixturePath('quick-close.ts')], { timeoutMs: 100_000 });
  t.is(stderr, '');
  t.is(code, 0);
  t.is(stdout, 'done 20\n');
});

// The lines V8 prints when a process runs out of memory: GC trace, fatal error, native stack.
const V8_OUT_OF_MEMORY_REPORT = /^(#|<---|----- Native stack trace|\s*\d+: 0x|\[\d+:0x[0-9a-f]+\]|FATAL ERROR: )/;

for (const backend of ['thread', 'process'] as const) {
  test(`${backend}: workers that cannot start are not respawned in a loop; the work fails with a clear error`, async (t) => {
    const { code, stdout, stderr } = await runNode(['--import=tsx', fixturePath('cannot-start.ts'), backend], {
      timeoutMs: 100_000,
    });
    t.is(code, 0, stderr.slice(-2000));
    const { whileIdle, spawned, outcome } = JSON.parse(stdout) as {
      whileIdle: number;
      spawned: number;
      outcome: Record<string, string>;
    };
    t.is(whileIdle, 2, 'no worker started while the pool sat idle after its first workers died');
    // apply() may start one more round of workers (as after a failing initializer), no more.
    t.true(spawned <= 4, `${spawned} workers started in all`);
    t.is(outcome.name, 'WorkerCrashedError');
    t.regex(outcome.message!, /PoolWorker-\d+ \((thread|process).*could not start/);
    // What V8 prints as each child dies of it (process backend) is all there is on stderr.
    // (Node 22 and later add a native stack trace after it.)
    const unexpected = stderr.split('\n').filter((line) => line.trim() !== '' && !V8_OUT_OF_MEMORY_REPORT.test(line));
    t.deepEqual(unexpected, []);
  });
}
