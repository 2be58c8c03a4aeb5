/**
 * `napi-multiprocessing bench --workload managers --quick` as a user runs it (the built bin in a
 * child process): every case has its row, every loop read back exactly what it wrote (the
 * checksum), the JSON records carry calls per second and the ratio over CPython's row, and the
 * chart is well-formed. No speed is asserted: the bar is what the benchmark reports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';
import { XMLValidator } from 'fast-xml-parser';

import { SOCKET_ONLY_ROW, managersIterations, PYTHON_ROW, SOCKET_ROW } from '../../benchmark/managers.js';
import type { BenchDocument } from '../../benchmark/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
const CASES = [
  'main thread (the manager serves it directly)',
  'thread worker, sequential',
  'process worker, sequential',
  SOCKET_ONLY_ROW,
  'process worker, 100 calls in flight',
  SOCKET_ROW,
];

test('bench --workload managers --quick: a row per case, checksums exact, ratios over CPython, JSON and chart', async (t) => {
  t.timeout(300_000);
  t.true(existsSync(cli), `${cli} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'nmp-bench-managers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'managers.json');
  const chart = join(dir, 'managers.svg');
  const run = spawnSync(
    process.execPath,
    [cli, 'bench', '--workload', 'managers', '--quick', '--runs', '2', '--json', json, '--chart', chart],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 280_000,
    },
  );
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /### managers: await d\.set\(i, i\) then await d\.get\(i\)/);
  for (const name of [PYTHON_ROW, ...CASES]) t.true(run.stdout.includes(`| ${name} `), `${name} is in the table`);
  t.regex(run.stderr, /managers: round 2 of 2/);

  const doc = JSON.parse(readFileSync(json, 'utf8')) as BenchDocument;
  t.true(doc.options.quick);
  const records = doc.results.filter((r) => r.workload === 'managers');
  t.deepEqual(
    records.map((r) => r.name),
    [PYTHON_ROW, ...CASES],
  );
  const { worker, main } = managersIterations(true);
  const python = records[0]!;
  t.true(['ok', 'skipped'].includes(python.status), `${python.status}: ${python.note}`);
  for (const r of records.slice(1)) {
    t.is(r.status, 'ok', `${r.name}: ${r.note}`);
    const n = r.name.startsWith('main') ? main : worker;
    t.is(r.items, 2 * n, r.name);
    t.is(r.checksum, (n * (n - 1)) / 2, `${r.name}: the loop read back what it wrote`);
    t.true(r.checksumOk, r.name);
    t.is(r.runs, 2, r.name);
    t.true(r.minMs! <= r.medianMs! && r.medianMs! <= r.maxMs!, r.name);
    t.is(r.opsPerSecond, (r.items * 1000) / r.medianMs!, `${r.name}: calls per second at the median`);
    if (python.status === 'ok') t.is(r.speedup, r.opsPerSecond! / python.opsPerSecond!, `${r.name}: the ratio over CPython`);
    else t.is(r.speedup, null, r.name);
  }
  t.is(XMLValidator.validate(readFileSync(chart, 'utf8')), true);
});

test('the managers workload is named in the usage; a misspelt workload is refused', (t) => {
  const help = spawnSync(process.execPath, [cli, '--help'], { cwd: root, encoding: 'utf8' });
  t.regex(help.stdout, /managers: await d\.set\(i, i\)/);
  const bad = spawnSync(process.execPath, [cli, 'bench', '--workload', 'manager'], { cwd: root, encoding: 'utf8' });
  t.not(bad.status, 0);
  t.regex(bad.stderr, /--workload must be one of .*managers/);
});
