/**
 * The printed table (Markdown, so it reads in a terminal and pastes into the README as is) and the
 * JSON document written by --json.
 */
import type { BenchOptions, BenchRecord, Machine, Workload } from './common.js';
import { MANAGERS_TITLE, managersRows } from './managers.js';
import { formatMs, formatRate } from './svg.js';

export interface BenchDocument {
  /** Bumped when the record shape changes incompatibly. */
  schema: 'napi-multiprocessing-bench/1';
  date: string;
  command: string;
  options: BenchOptions;
  machine: Machine;
  /** Total wall time of the invocation, ms. */
  totalMs: number;
  results: BenchRecord[];
}

function table(header: string[], rows: string[][], rightAligned: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const dash = '—';
const ms = (v: number | null) => (v === null ? dash : formatMs(v));
const range = (r: BenchRecord) => (r.minMs === null || r.maxMs === null ? dash : `${formatMs(r.minMs)} – ${formatMs(r.maxMs)}`);
const memory = (r: BenchRecord) => (r.memoryBytes == null ? dash : `${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB`);
const speedup = (r: BenchRecord) => (r.speedup === null ? dash : `${r.speedup.toFixed(2)}×`);
const checksum = (r: BenchRecord) => (r.checksum === null ? dash : `${r.checksum}${r.checksumOk ? ' ✓' : ' ✗'}`);
const status = (r: BenchRecord) => (r.status === 'ok' ? (r.kind === 'external' ? 'ok (reference)' : 'ok') : r.status);

function notes(records: BenchRecord[]): string {
  const lines = records.filter((r) => r.status !== 'ok' && r.note).map((r) => `- ${r.name}: ${r.status} — ${r.note}`);
  return lines.length ? `\n\n${lines.join('\n')}` : '';
}

/** The first columns of the seed and cluster tables: Engine, Workers, Median, Min – max, Start-up. */
const timing = (r: BenchRecord) => [r.name, String(r.threads), ms(r.medianMs), range(r), ms(r.startupMs)];

export function seedTable(records: BenchRecord[]): string {
  const header = ['Engine', 'Workers', 'Median', 'Min – max', 'Start-up', 'Added RSS', 'Speedup vs JS', 'Checksum', 'Status'];
  const rows = records.map((r) => [...timing(r), memory(r), speedup(r), checksum(r), status(r)]);
  return table(header, rows, new Set([1, 2, 4, 5, 6])) + notes(records);
}

export function overheadTable(records: BenchRecord[]): string {
  const header = ['Case', 'Workers', 'Median', 'Min – max', 'Throughput', 'Checksum', 'Status'];
  const rows = records.map((r) => [
    r.name,
    String(r.threads),
    ms(r.medianMs),
    range(r),
    r.opsPerSecond ? `${formatRate(r.opsPerSecond)}/s` : dash,
    checksum(r),
    status(r),
  ]);
  return table(header, rows, new Set([1, 2, 4])) + notes(records);
}

export function scalingTable(records: BenchRecord[]): string {
  const header = ['Engine', 'Workers', 'Median', 'Min – max', 'Start-up', 'Speedup vs JS', 'Checksum', 'Status'];
  const rows = records.map((r) => [
    r.series ?? r.name,
    String(r.threads),
    ms(r.medianMs),
    range(r),
    ms(r.startupMs),
    speedup(r),
    checksum(r),
    status(r),
  ]);
  return table(header, rows, new Set([1, 2, 4, 5])) + notes(records);
}

export const WORKLOAD_TITLES: Record<Workload, string> = {
  seed: 'seed: sumPrimes(n) for n = 0, step, …, below N',
  overhead: 'overhead: trivial tasks',
  scaling: 'scaling: the seed workload with 1 … cpuCount() workers',
  cluster: 'cluster: 2 workers through a local Redis, against the thread pool and BullMQ with one job per task',
  managers: MANAGERS_TITLE,
};

/** The seed rows compare with the JS single thread, the trivial-task rows with BullMQ's one job per task. */
export function clusterTable(records: BenchRecord[]): string {
  const header = ['Engine', 'Workers', 'Median', 'Min – max', 'Start-up', 'Speedup', 'over', 'Checksum', 'Status'];
  const over = (r: BenchRecord) => (r.series === 'trivial' ? 'BullMQ, one job per task' : 'JS single thread');
  const rows = records.map((r) => [...timing(r), speedup(r), over(r), checksum(r), status(r)]);
  return table(header, rows, new Set([1, 2, 4, 5])) + notes(records);
}

export function renderTables(records: BenchRecord[], options: BenchOptions, machine: Machine): string {
  const out: string[] = [];
  out.push(
    `napi-multiprocessing bench — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}` +
      `${machine.python ? `, ${machine.python}` : ''}, native binary ${machine.nativeAvailable ? 'loaded' : 'NOT loaded (pure-TS fallback)'}` +
      `, SIMD path ${machine.simd}`,
  );
  const byWorkload = (w: Workload) => records.filter((r) => r.workload === w);
  const seed = byWorkload('seed');
  if (seed.length) {
    out.push(
      `\n### seed: sumPrimes(n) for n = 0, ${options.step}, …, ${options.n - options.step} (${seed[0]!.items} tasks), ` +
        `median of ${options.runs} run${options.runs === 1 ? '' : 's'} after a warm-up; ` +
        `Added RSS: what the started, warmed pool adds, one fresh process per engine\n`,
    );
    out.push(seedTable(seed));
  }
  const overhead = byWorkload('overhead');
  if (overhead.length) {
    out.push(`\n### overhead: trivial tasks (noop), tasks per second\n`);
    out.push(overheadTable(overhead));
  }
  const scaling = byWorkload('scaling');
  if (scaling.length) {
    out.push(`\n### scaling: the seed workload with 1 … ${Math.max(...scaling.map((r) => r.threads))} workers\n`);
    out.push(scalingTable(scaling));
  }
  const cluster = byWorkload('cluster');
  if (cluster.length) {
    out.push(`\n### ${WORKLOAD_TITLES.cluster}\n`);
    out.push(clusterTable(cluster));
  }
  const managers = byWorkload('managers');
  if (managers.length) {
    const { header, rows, right } = managersRows(managers);
    out.push(`\n### ${WORKLOAD_TITLES.managers}\n`);
    out.push(table(header, rows, right) + notes(managers));
  }
  return `${out.join('\n')}\n`;
}
