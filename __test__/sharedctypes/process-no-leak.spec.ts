// Memory shared with process workers is never left behind: it has no name in /dev/shm or the
// temporary directory (the native core uses anonymous memfd segments), and every process that
// mapped it ends with its parent, however the parent ends (the memory goes with the last one).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import anyTest from 'ava';

import { eventually } from '../helpers/pool.js';
import { fixturePath } from '../helpers/node.js';
import { processShared } from '../../src/shm/memory.js';

// Where memory cannot be shared between processes, sending is a TypeError instead: process-fallback.spec.ts.
const test = processShared ? anyTest : anyTest.skip;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const listing = (dir: string) => new Set(readdirSync(dir));

for (const mode of ['normal', 'kill-worker', 'killed'] as const) {
  test(`no shared memory left in /dev/shm or the temp directory, no process left: parent ends ${mode}`, async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'napi-mp-leak-'));
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
    const shmBefore = listing('/dev/shm');
    const child = spawn(process.execPath, ['--import=tsx', fixturePath('shm-parent.ts'), mode], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const report = await new Promise<{ pids: number[]; counter: number; got: number }>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error('the parent did not report within 120 s')), 120_000);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('\n')) {
          clearTimeout(guard);
          resolve(JSON.parse(out.split('\n')[0]!));
        }
      });
      child.once('exit', (code) => reject(new Error(`the parent exited (${code}) before reporting: ${out}`)));
    });
    t.is(report.counter, 2000, 'the workers shared the Value');
    t.is(report.got, 1, 'a worker put into the Queue');
    t.true(
      report.pids.every((pid) => pid !== child.pid && alive(pid)),
      `the workers run: ${JSON.stringify(report.pids.map((pid) => [pid, alive(pid)]))}`,
    );
    if (mode === 'killed') child.kill('SIGKILL');
    else child.stdin!.end('go\n');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('exit', (c, s) => resolve([c, s])),
    );
    if (mode === 'killed') t.is(signal, 'SIGKILL');
    else t.is(code, 0);
    t.true(await eventually(() => report.pids.every((pid) => !alive(pid)), 30_000), 'every worker ended with its parent');
    t.deepEqual(
      [...listing('/dev/shm')].filter((name) => !shmBefore.has(name)),
      [],
      'nothing new in /dev/shm',
    );
    // tsx (which runs the TypeScript fixtures) keeps its compile cache there: not ours.
    t.deepEqual(
      readdirSync(tmp).filter((name) => !name.startsWith('tsx-')),
      [],
      'nothing in the temp directory',
    );
  });
}
