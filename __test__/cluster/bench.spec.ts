/**
 * `bench --workload cluster --quick`: a real redis-server and worker commands, every row present
 * and right (checksums). No speed is asserted: timings are the
 * benchmark's to report.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import test from 'ava';

import type { BenchDocument } from '../../benchmark/report.js';
import { NO_REDIS, haveRedis, root } from './helpers.js';

const ROWS = [
  'JS single thread',
  'Pool thread backend',
  'Pool cluster backend',
  'BullMQ direct, one job per task',
  'BullMQ direct, one job per task: 1,000 noop',
  'Pool cluster backend: map of 1,000 noop',
  'Pool thread backend: map of 1,000 noop',
];

if (!haveRedis) {
  test.skip(NO_REDIS, () => {});
} else {
  test('bench --workload cluster --quick runs every engine to the right checksum', async (t) => {
    t.timeout(600_000);
    const dir = mkdtempSync(join(tmpdir(), 'napi-mp-bench-'));
    try {
      const json = join(dir, 'cluster.json');
      const args = ['--import', 'tsx', 'bin/cli.ts', 'bench', '--workload', 'cluster', '--quick', '--runs', '1', '--json', json];
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk));
        child.on('close', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
      });
      t.is(code, 0, stderr);
      t.regex(stdout, /### cluster: 2 workers through a local Redis/);
      const doc = JSON.parse(readFileSync(json, 'utf8')) as BenchDocument;
      t.deepEqual(
        doc.results.map((r) => r.name),
        ROWS,
      );
      for (const r of doc.results) {
        t.is(r.status, 'ok', `${r.name}: ${r.note}`);
        t.true(r.checksumOk, r.name);
        t.true(r.speedup! > 0, r.name);
      }
      // Each part has its own 1×: the JS single thread for the seed, BullMQ's one job per task for trivial tasks.
      t.is(doc.results[0]!.speedup, 1);
      t.is(doc.results[4]!.speedup, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
