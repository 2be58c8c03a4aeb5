/**
 * The bench CLI as a user runs it: the built bin in a child process. The quick run must complete,
 * every engine must either match the checksum or say why it has no number, the JSON must have the
 * documented shape and the SVGs must be well-formed. No test here asserts a speed: this machine's
 * timings are too noisy for that, and speed is what the benchmark reports, not what it promises.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import test from 'ava';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

import { describeMachine } from '../../benchmark/common.js';
import { type Engine, Unavailable } from '../../benchmark/engines.js';
import { measureEngine, type SuiteContext } from '../../benchmark/measure.js';
import { Progress } from '../../benchmark/progress.js';
import type { BenchDocument } from '../../benchmark/report.js';
import { renderBarChart } from '../../benchmark/svg.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], timeoutMs = 240_000, bin = cli): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the CLI did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const SEED_ENGINES = [
  'JS single thread',
  'Pool thread backend',
  'Pool process backend',
  'native single thread',
  'Pool native backend',
  'piscina',
  'tinypool',
  'workerpool',
  'CPython single thread',
  'CPython multiprocessing.Pool',
];
const STATUSES = new Set(['ok', 'not built yet', 'not installed', 'skipped', 'error']);
const KINDS = new Set(['baseline', 'ours', 'library', 'external']);

const dir = mkdtempSync(join(tmpdir(), 'nmp-bench-'));
const jsonFile = join(dir, 'results.json');
const chartFile = join(dir, 'chart.svg');
// One quick run of every workload, shared by the tests below (it is the slow part).
let quick: Promise<Run> | undefined;
const quickRun = () =>
  (quick ??= runCli(['bench', '--quick', '--workload', 'all', '--runs', '2', '--json', jsonFile, '--chart', chartFile]));

test.before(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
});

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('bench --quick --workload all completes, prints every engine and writes its files', async (t) => {
  t.timeout(300_000);
  const run = await quickRun();
  t.is(run.code, 0, run.stderr);
  for (const name of SEED_ENGINES) t.true(run.stdout.includes(`| ${name} `), `${name} is in the table`);
  t.regex(run.stdout, /native binary loaded, SIMD path (avx512|avx2|neon|scalar)\n/);
  t.regex(run.stdout, /\| Start-up \| Added RSS \|/);
  t.regex(run.stdout, /### overhead/);
  t.regex(run.stdout, /### scaling/);
  t.true(existsSync(jsonFile));
  t.true(existsSync(chartFile));
  t.true(existsSync(chartFile.replace(/\.svg$/, '-overhead.svg')));
  t.true(existsSync(chartFile.replace(/\.svg$/, '-scaling.svg')));
  // Progress goes to stderr, plain lines when it is not a terminal.
  t.regex(run.stderr, /seed: JS single thread/);
  t.false(run.stderr.includes('\x1b['), 'no escape codes when stderr is not a TTY');
});

test('the JSON has the documented shape and every engine matches its checksum or says why not', async (t) => {
  t.timeout(300_000);
  await quickRun();
  const doc = JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchDocument;
  t.is(doc.schema, 'napi-multiprocessing-bench/1');
  t.true(doc.options.quick);
  for (const key of ['cpuModel', 'platform', 'arch', 'node'] as const) t.is(typeof doc.machine[key], 'string');
  t.true(Number.isInteger(doc.machine.cores) && doc.machine.cores >= 1);
  t.is(doc.machine.node, process.version);

  const seed = doc.results.filter((r) => r.workload === 'seed');
  t.deepEqual(
    seed.map((r) => r.name),
    SEED_ENGINES,
    'one seed record per engine, none left out',
  );
  for (const r of doc.results) {
    const where = `${r.workload}/${r.name}`;
    t.true(STATUSES.has(r.status), `${where}: status ${r.status}`);
    t.true(KINDS.has(r.kind), `${where}: kind ${r.kind}`);
    t.true(Number.isInteger(r.threads) && r.threads >= 1, where);
    t.true(Number.isInteger(r.items) && r.items >= 1, where);
    t.is(typeof r.expectedChecksum, 'number', where);
    t.deepEqual(r.machine, doc.machine, where);
    if (r.status === 'ok') {
      t.is(r.checksum, r.expectedChecksum, `${where}: checksum`);
      t.true(r.checksumOk, where);
      t.true(r.runs >= 1, where);
      t.true(r.medianMs! > 0 && r.minMs! <= r.medianMs! && r.medianMs! <= r.maxMs!, `${where}: min <= median <= max`);
      t.is(r.wallMs, r.medianMs, where);
      if (r.workload !== 'overhead') t.true(r.speedup! > 0, `${where}: speedup`);
      else t.true(r.opsPerSecond! > 0, `${where}: opsPerSecond`);
    } else {
      // A row without numbers must carry the reason, never be an empty shell.
      t.is(typeof r.note, 'string', `${where}: note`);
      t.true(r.note!.length > 0, where);
      t.is(r.medianMs, null, where);
    }
  }
  // These run everywhere the package builds; the rest may be "not installed" or "skipped".
  for (const name of ['JS single thread', 'native single thread', 'Pool native backend']) {
    t.is(seed.find((r) => r.name === name)?.status, 'ok', name);
  }
  t.true(['avx512', 'avx2', 'neon', 'scalar'].includes(doc.machine.simd), doc.machine.simd);
  // Every pool of ours or a library's that ran has its memory measured; an engine without a pool has none.
  for (const r of seed.filter((r) => r.status === 'ok' && r.kind !== 'external')) {
    if (r.startupMs === null) t.is(r.memoryBytes ?? null, null, r.name);
    else t.is(typeof r.memoryBytes, 'number', `${r.name}: memoryBytes`);
  }
  // Thread pools keep several MiB of V8 heap per worker; a 2-thread pool cannot add less than 1 MiB.
  const threadPool = seed.find((r) => r.name === 'Pool thread backend' && r.status === 'ok');
  if (threadPool) t.true(threadPool.memoryBytes! > 2 ** 20, `${threadPool.memoryBytes}`);
  // On Linux a pool of child processes is charged for its children (each a whole Node process).
  const processPool = seed.find((r) => r.name === 'Pool process backend' && r.status === 'ok');
  if (processPool && process.platform === 'linux') t.true(processPool.memoryBytes! > 20 * 2 ** 20, `${processPool.memoryBytes}`);
  const baseline = seed.find((r) => r.name === 'JS single thread')!;
  t.is(baseline.speedup, 1);
  // The quick seed is n = 20000 step 500: its checksum is the JS kernel's, not the full one's.
  t.is(baseline.expectedChecksum, 283032361);
  const scaling = doc.results.filter((r) => r.workload === 'scaling');
  t.true(scaling.some((r) => r.series === 'Pool native backend' && r.threads === 1));
});

test('the SVG charts are well-formed and name every engine', async (t) => {
  t.timeout(300_000);
  await quickRun();
  for (const file of [chartFile, chartFile.replace(/\.svg$/, '-overhead.svg'), chartFile.replace(/\.svg$/, '-scaling.svg')]) {
    const svg = readFileSync(file, 'utf8');
    t.is(XMLValidator.validate(svg), true, file);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg?: Record<string, unknown> };
    t.truthy(parsed.svg, `${file}: the root element is <svg>`);
    t.is(parsed.svg!['@_xmlns'], 'http://www.w3.org/2000/svg');
    t.regex(String(parsed.svg!['@_viewBox']), /^0 0 \d+ \d+$/);
  }
  const seedSvg = readFileSync(chartFile, 'utf8');
  for (const name of SEED_ENGINES) t.true(seedSvg.includes(name.replace(/&/g, '&amp;')), `${name} is in the chart`);
});

test('bad flags fail with a clear message and a non-zero exit code', async (t) => {
  const cases: [string[], RegExp][] = [
    [['bench', '--workload', 'fast'], /--workload must be one of seed, overhead, scaling, all/],
    [['bench', '--n', '-5'], /--n/],
    [['bench', '--n', '1.5'], /--n must be a whole number/],
    [['bench', '--threads', '0'], /--threads must be between 1/],
    [['bench', '--chart', 'out.png'], /must end in \.svg/],
    [['bench', '--nope'], /Unknown option '--nope'/],
    [['benchmark'], /unknown command 'benchmark'/],
    [[], /missing command/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(args, 30_000);
    t.not(run.code, 0, args.join(' '));
    t.regex(run.stderr, message, args.join(' '));
    t.is(run.stdout, '', `${args.join(' ')}: nothing on stdout`);
  }
});

test('--help prints the usage and exits 0', async (t) => {
  const run = await runCli(['--help'], 30_000);
  t.is(run.code, 0);
  t.regex(run.stdout, /Usage: napi-multiprocessing bench/);
  t.regex(run.stdout, /--workload W\s+seed \| overhead \| scaling \| all/);
});

test('the bin runs where our devDependencies are not installed (as after npm install napi-multiprocessing)', async (t) => {
  t.timeout(120_000);
  // The files the package ships, and nothing from node_modules: benny must be bundled in the bin,
  // and the pools we compare with must show up as "not installed" instead of breaking the run.
  const shipped = mkdtempSync(join(tmpdir(), 'nmp-shipped-'));
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    for (const entry of [...manifest.files, 'native']) {
      if (existsSync(join(root, entry))) cpSync(join(root, entry), join(shipped, entry), { recursive: true });
    }
    writeFileSync(join(shipped, 'package.json'), readFileSync(join(root, 'package.json')));
    const run = await runCli(['bench', '--quick', '--runs', '1', '--n', '5000'], 100_000, join(shipped, 'dist', 'cli.js'));
    t.is(run.code, 0, run.stderr);
    t.regex(run.stdout, /\| JS single thread +\| +1 \|.*✓ \| ok/);
    for (const name of ['piscina', 'tinypool', 'workerpool']) t.regex(run.stdout, new RegExp(`\\| ${name} .*\\| not installed`));
  } finally {
    rmSync(shipped, { recursive: true, force: true });
  }
});

// The row rules, on engines made to fail in each way the real ones can.
const machine = describeMachine(true, null);
const ctx = (): SuiteContext => ({
  options: { quick: true, n: 1000, step: 500, threads: 1, runs: 2 },
  progress: new Progress(10, process.stderr, false),
  machine,
});

function fakeEngine(start: Engine['start']): Engine {
  return { name: 'fake', kind: 'ours', threads: 1, pooled: true, start };
}

test('an engine that is not built yet keeps its row, with the reason', async (t) => {
  const engine = fakeEngine(async () => {
    throw new Unavailable('not built yet', "new Pool({ backend: 'thread' }) says: not available in this build");
  });
  const record = await measureEngine(ctx(), 'seed', engine, (r) => r.map('sumPrimes', [0]), 0, 1, 5_000);
  t.is(record.status, 'not built yet');
  t.regex(record.note!, /not available in this build/);
  t.is(record.medianMs, null);
  t.is(record.checksum, null);
});

test('a wrong checksum is an error row that shows the wrong value, and the pool is closed', async (t) => {
  let closed = 0;
  const engine = fakeEngine(async () => ({
    startupMs: 1,
    map: async () => 41,
    each: async () => 41,
    close: async () => void closed++,
  }));
  const record = await measureEngine(ctx(), 'seed', engine, (r) => r.map('sumPrimes', [0]), 42, 1, 5_000);
  t.is(record.status, 'error');
  t.is(record.checksum, 41);
  t.false(record.checksumOk);
  t.regex(record.note!, /checksum 41, expected 42/);
  t.is(closed, 1);
});

test('a run that never settles becomes an error row instead of a hung benchmark', async (t) => {
  let closed = 0;
  const engine = fakeEngine(async () => ({
    startupMs: 1,
    map: () => new Promise<number>(() => {}),
    each: () => new Promise<number>(() => {}),
    close: async () => void closed++,
  }));
  const record = await measureEngine(ctx(), 'seed', engine, (r) => r.map('sumPrimes', [0]), 0, 1, 200);
  t.is(record.status, 'error');
  t.regex(record.note!, /did not finish/);
  t.is(closed, 1);
});

test('the chart escapes names and draws rows without numbers as their status', (t) => {
  const svg = renderBarChart({
    title: 'A <title> & more',
    subtitle: 'sub',
    axisLabel: 'x',
    reference: 1,
    rows: [
      { label: 'fast & "quoted"', value: 2, text: '2.00×', color: '#000' },
      { label: 'missing', value: null, text: 'not built yet', color: '#000' },
    ],
    legend: [{ label: "it's", color: '#000' }],
  });
  t.is(XMLValidator.validate(svg), true);
  t.true(svg.includes('fast &amp; &quot;quoted&quot;'));
  t.true(svg.includes('not built yet'));
});
