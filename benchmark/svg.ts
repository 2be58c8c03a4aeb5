/**
 * A small SVG bar-chart writer: horizontal bars of speedup over the JS single thread, sized to be
 * read on a slide (large type, a value at the end of every bar, a marked 1× line). Rows without a
 * number keep their place and say why ("not built yet"), as they do in the table.
 */
import type { BenchRecord, EngineKind } from './common.js';

export interface ChartRow {
  label: string;
  /** Bar length (speedup); null draws no bar, only `text`. */
  value: number | null;
  /** Shown after the bar (or alone when there is no bar). */
  text: string;
  color: string;
  /** Rows with the same group are drawn under one heading. */
  group?: string;
}

export interface Chart {
  title: string;
  subtitle: string;
  axisLabel: string;
  rows: ChartRow[];
  legend: { label: string; color: string }[];
  /** Draws a dashed reference line at this value (1 = as fast as the baseline). */
  reference?: number;
}

export const KIND_COLORS: Record<EngineKind, string> = {
  baseline: '#8c8c8c',
  ours: '#e8590c',
  library: '#1c7ed6',
  external: '#7048e8',
};

const KIND_LABELS: Record<EngineKind, string> = {
  baseline: 'JS baseline',
  ours: 'napi-multiprocessing',
  library: 'other Node pools',
  external: 'CPython (reference)',
};

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** A round step for axis ticks (1, 2 or 5 times a power of ten). */
function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

const fmtTick = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

export function renderBarChart(chart: Chart): string {
  const font = 'font-family="Helvetica, Arial, sans-serif"';
  const width = 1200;
  const labelWidth = 380;
  const left = labelWidth + 20;
  const right = 190; // room for the value text after the longest bar
  const plotWidth = width - left - right;
  const rowHeight = 40;
  const groupHeight = 34;
  const top = 118;

  const max = Math.max(chart.reference ?? 0, ...chart.rows.map((r) => r.value ?? 0), 0.001);
  const step = niceStep(max, 6);
  const axisMax = Math.ceil(max / step) * step;
  const x = (v: number) => left + (plotWidth * v) / axisMax;

  // Drawn in layers: grid, bars, the 1× line over the bars, then the text with a white halo so
  // that a value crossing the line stays legible.
  const bars: string[] = [];
  const texts: string[] = [];
  const halo = 'stroke="#ffffff" stroke-width="5" stroke-linejoin="round" paint-order="stroke"';
  let y = top;
  let group: string | undefined;
  for (const row of chart.rows) {
    if (row.group !== undefined && row.group !== group) {
      group = row.group;
      y += 6;
      texts.push(`<text x="20" y="${y + 22}" ${font} font-size="20" font-weight="bold" fill="#222">${escapeXml(group)}</text>`);
      y += groupHeight;
    }
    const mid = y + rowHeight / 2;
    texts.push(
      `<text x="${labelWidth}" y="${mid + 7}" ${font} font-size="20" text-anchor="end" fill="#222">${escapeXml(row.label)}</text>`,
    );
    if (row.value !== null && Number.isFinite(row.value)) {
      const w = Math.max(2, x(row.value) - left);
      bars.push(`<rect x="${left}" y="${y + 6}" width="${w.toFixed(1)}" height="${rowHeight - 12}" rx="3" fill="${row.color}"/>`);
      texts.push(
        `<text x="${(left + w + 10).toFixed(1)}" y="${mid + 7}" ${font} font-size="20" font-weight="bold" fill="#222" ${halo}>${escapeXml(row.text)}</text>`,
      );
    } else {
      texts.push(
        `<text x="${left + 10}" y="${mid + 7}" ${font} font-size="18" font-style="italic" fill="#777" ${halo}>${escapeXml(row.text)}</text>`,
      );
    }
    y += rowHeight;
  }
  const plotBottom = y + 4;

  const grid: string[] = [];
  for (let v = 0; v <= axisMax + step / 2; v += step) {
    const gx = x(v).toFixed(1);
    grid.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${plotBottom}" stroke="#e6e6e6" stroke-width="1"/>`);
    grid.push(
      `<text x="${gx}" y="${plotBottom + 24}" ${font} font-size="16" text-anchor="middle" fill="#555">${fmtTick(v)}×</text>`,
    );
  }
  const reference: string[] = [];
  if (chart.reference !== undefined) {
    const rx = x(chart.reference).toFixed(1);
    reference.push(
      `<line x1="${rx}" y1="${top - 4}" x2="${rx}" y2="${plotBottom}" stroke="#444" stroke-width="2" stroke-dasharray="6 5"/>`,
    );
  }

  const legendY = plotBottom + 96;
  const legend: string[] = [];
  let lx = 20;
  for (const item of chart.legend) {
    legend.push(`<rect x="${lx}" y="${legendY - 16}" width="20" height="20" rx="3" fill="${item.color}"/>`);
    legend.push(`<text x="${lx + 28}" y="${legendY}" ${font} font-size="18" fill="#333">${escapeXml(item.label)}</text>`);
    lx += 28 + item.label.length * 10.5 + 40;
  }
  const height = legendY + 30;

  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="44" ${font} font-size="30" font-weight="bold" fill="#111">${escapeXml(chart.title)}</text>`,
    `<text x="20" y="78" ${font} font-size="18" fill="#555">${escapeXml(chart.subtitle)}</text>`,
    ...grid,
    ...bars,
    ...reference,
    ...texts,
    `<text x="${left + plotWidth / 2}" y="${plotBottom + 54}" ${font} font-size="17" text-anchor="middle" fill="#555">${escapeXml(chart.axisLabel)}</text>`,
    ...legend,
    `</svg>`,
    '',
  ].join('\n');
}

const speedupText = (r: BenchRecord) => `${r.speedup!.toFixed(2)}×  (${formatMs(r.medianMs!)})`;

export function formatMs(ms: number): string {
  if (ms >= 1_000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  return `${ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}

function rowFor(r: BenchRecord, label: string, color: string, group?: string): ChartRow {
  const ok = r.status === 'ok' && r.speedup !== null;
  return { label, value: ok ? r.speedup : null, text: ok ? speedupText(r) : r.status, color, group };
}

function subtitleOf(records: BenchRecord[], what: string): string {
  const m = records[0]?.machine;
  const machine = m ? `${m.cpuModel}, ${m.cores} cores, Node ${m.node}` : '';
  return `${what} · ${machine} · median wall time; higher is faster`;
}

export function seedChart(records: BenchRecord[], threads: number, workload: string): string {
  return renderBarChart({
    title: `Speedup over the JS single thread — ${workload}`,
    subtitle: subtitleOf(records, `${records[0]?.items ?? 0} tasks, ${threads} workers per pool`),
    axisLabel: 'speedup over the JS single thread (1× = dashed line)',
    reference: 1,
    rows: records.map((r) => rowFor(r, r.threads > 1 ? `${r.name} (${r.threads})` : r.name, KIND_COLORS[r.kind])),
    legend: (Object.keys(KIND_LABELS) as EngineKind[])
      .filter((k) => records.some((r) => r.kind === k))
      .map((k) => ({ label: KIND_LABELS[k], color: KIND_COLORS[k] })),
  });
}

const SERIES_COLORS = ['#e8590c', '#2b8a3e', '#1c7ed6', '#ae3ec9', '#8c8c8c'];

export function scalingChart(records: BenchRecord[]): string {
  const series = [...new Set(records.map((r) => r.series ?? r.name))];
  const color = (s: string) =>
    s === 'JS single thread' ? KIND_COLORS.baseline : SERIES_COLORS[series.indexOf(s) % SERIES_COLORS.length]!;
  const rows = records.map((r) => {
    const s = r.series ?? r.name;
    return s === 'JS single thread'
      ? rowFor(r, 'JS single thread', color(s))
      : rowFor(r, `${r.threads} worker${r.threads === 1 ? '' : 's'}`, color(s), s);
  });
  return renderBarChart({
    title: 'Scaling with workers — seed workload',
    subtitle: subtitleOf(records, `${records[0]?.items ?? 0} tasks`),
    axisLabel: 'speedup over the JS single thread (1× = dashed line)',
    reference: 1,
    rows,
    legend: series.map((s) => ({ label: s, color: color(s) })),
  });
}

export function overheadChart(records: BenchRecord[]): string {
  // Throughput is on very different scales (napi calls vs pool round trips): each bar is relative
  // to the first row of its kind of work, so the picture compares pools with pools.
  const groups = new Map<string, BenchRecord[]>();
  for (const r of records) {
    const key = r.name.includes('isPrime') ? 'calls' : r.name.includes('map of') ? 'map' : 'each';
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const titles: Record<string, string> = { each: 'one submission per task', map: 'one big map', calls: 'function calls' };
  const rows: ChartRow[] = [];
  for (const [key, list] of groups) {
    const base = list[0]?.opsPerSecond;
    for (const r of list) {
      const ok = r.status === 'ok' && r.opsPerSecond && base;
      rows.push({
        label: r.name.split(':')[0]!.replace(/ × [\d,]+$/, ''),
        value: ok ? r.opsPerSecond! / base! : null,
        text: ok ? `${formatRate(r.opsPerSecond!)}/s` : r.status,
        color: KIND_COLORS[r.kind],
        group: titles[key],
      });
    }
  }
  return renderBarChart({
    title: 'Per-task overhead — trivial tasks',
    subtitle: subtitleOf(records, 'throughput relative to the first row of each group'),
    axisLabel: 'throughput relative to the first row of its group',
    reference: 1,
    rows,
    legend: (['ours', 'library', 'baseline'] as EngineKind[]).map((k) => ({ label: KIND_LABELS[k], color: KIND_COLORS[k] })),
  });
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}
