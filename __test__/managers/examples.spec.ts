// The examples in examples/, run as a user runs them (tsx; they import the package by name, so
// they use the build in dist/, as the dual-package test does).
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import test from 'ava';

import { within } from '../helpers/pool.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runToEnd(file: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import=tsx', file],
      { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${file}: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

test("examples/manager.ts: the seed's Manager example", async (t) => {
  const out = await within(t, 150_000, runToEnd('examples/manager.ts'));
  t.regex(out, /^Map\(12\) \{/m);
  for (let i = 0; i < 10; i++) t.regex(out, new RegExp(`\\b${i} => '1'`));
  t.regex(out, /'2' => 2/);
  t.regex(out, /0\.25 => null/);
  t.regex(out, /^15$/m);
});

test('examples/distributed: a master and a worker in separate processes', async (t) => {
  const master = spawn(process.execPath, ['--import=tsx', 'examples/distributed/master.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', AUTHKEY: 'example-test-key' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => master.kill('SIGKILL'));
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => master.once('exit', resolve));
  const port = await within(
    t,
    60_000,
    new Promise<number>((resolve) => {
      createInterface({ input: master.stdout }).on('line', (line) => {
        lines.push(line);
        const serving = /^Serving on port (\d+)$/.exec(line);
        if (serving) resolve(Number(serving[1]));
      });
    }),
    'the master start',
  );
  const worker = await within(
    t,
    120_000,
    runToEnd('examples/distributed/worker.ts', { PORT: String(port), AUTHKEY: 'example-test-key' }),
  );
  t.is(worker.match(/^run task \d+ \* \d+\.\.\.$/gm)?.length, 10);
  t.regex(worker, /worker exit\.$/m);
  t.is(await within(t, 60_000, exited), 0);
  const results = lines.filter((line) => line.startsWith('Result: '));
  t.is(results.length, 10);
  for (const line of results) {
    const [, a, b, product] = /^Result: (\d+) \* (\d+) = (\d+)$/.exec(line)!;
    t.is(Number(a) * Number(b), Number(product));
  }
  t.is(lines.at(-1), 'master exit.');
});
