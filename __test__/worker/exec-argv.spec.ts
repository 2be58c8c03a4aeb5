// Workers get the parent's Node flags that apply to them, and not those that say what the parent
// itself runs (a script from -e or stdin, its --input-type, a test runner, an inspector port).
import test from 'ava';

import { workerExecArgv, workerNodeOptions } from '../../src/worker/exec_argv.js';
import { runNode } from '../helpers/node.js';

const entry = new URL('../../index.ts', import.meta.url).href;
const script = `
import { Pool, Process } from ${JSON.stringify(entry)};
const pool = new Pool({ processes: 1, backend: 'process' });
const argv = await pool.apply(() => process.execArgv, []);
pool.close();
await pool.join();
const p = new Process({ target: () => {}, backend: 'process' });
p.start();
await p.join();
const threads = new Pool({ processes: 1 });
const doubled = await threads.apply((x) => x * 2, [21]);
threads.close();
await threads.join();
console.log(JSON.stringify({ argv, exitCode: p.exitCode, doubled }));
`;

const ways: Record<string, { args: string[]; input?: string }> = {
  'node --input-type=module -e': { args: ['--import=tsx', '--expose-gc', '--input-type=module', '-e', script] },
  'a module piped on stdin': { args: ['--import=tsx', '--expose-gc', '--input-type', 'module'], input: script },
};

for (const [how, { args, input }] of Object.entries(ways)) {
  test(`process and thread workers start from ${how}, with the flags that apply to them`, async (t) => {
    const { code, stdout, stderr } = await runNode(args, { input, timeoutMs: 100_000 });
    t.is(stderr, '');
    t.is(code, 0);
    const { argv, exitCode, doubled } = JSON.parse(stdout) as { argv: string[]; exitCode: number; doubled: number };
    t.deepEqual(argv, ['--import=tsx', '--expose-gc']);
    t.is(exitCode, 0);
    t.is(doubled, 42);
  });
}

test('workerExecArgv keeps what loads code or sets limits, and drops what says what the parent runs', (t) => {
  const kept = [
    '--import=tsx',
    '--require',
    './setup.cjs',
    '--conditions=dev',
    '--enable-source-maps',
    '--max-old-space-size=512',
    '--expose-gc',
  ];
  const dropped = [
    ['-e', 'code'],
    ['--eval=code'],
    ['-p', 'code'],
    ['-pe', 'code'],
    ['--print', 'code'],
    ['--input-type', 'module'],
    ['--input-type=commonjs'],
    ['--test'],
    ['--test-only'],
    ['--test-reporter', 'spec'],
    ['--test-name-pattern=x'],
    ['--experimental-test-coverage'],
    ['--watch'],
    ['--watch-path', 'src'],
    ['--watch-preserve-output'],
    ['-c'],
    ['--check'],
    ['-i'],
    ['--interactive'],
    ['--snapshot-blob', 'snap.blob'],
    ['--build-snapshot'],
    ['--inspect-port', '9300'],
  ];
  for (const kind of ['process', 'thread'] as const) {
    t.deepEqual(workerExecArgv(kind, [...kept, ...dropped.flat()]), kept, kind);
  }
  // A child gets an inspector of its own when the parent has one, on a free port.
  t.deepEqual(workerExecArgv('process', ['--inspect']), ['--inspect=0']);
  t.deepEqual(workerExecArgv('process', ['--inspect-brk=9229', '--import=tsx']), ['--import=tsx', '--inspect=0']);
  t.deepEqual(workerExecArgv('process', ['--inspect=0.0.0.0:9229']), ['--inspect=0.0.0.0:0']);
  t.deepEqual(workerExecArgv('process', ['--inspect-wait=localhost']), ['--inspect=localhost:0']);
  t.deepEqual(workerExecArgv('thread', ['--inspect', '--no-warnings']), ['--no-warnings']);
  t.is(workerNodeOptions('--input-type=module --max-old-space-size=100'), '--max-old-space-size=100');
  t.is(workerNodeOptions('--no-warnings --input-type module'), '--no-warnings');
  t.is(workerNodeOptions('--no-warnings'), '--no-warnings');
  t.is(workerNodeOptions(undefined), undefined);
});
