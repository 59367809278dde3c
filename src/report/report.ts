/**
 * `varcheck report`: one HTML page with SVG plots — certified degree and rank against B for a
 * fixed L with the √ln L threshold marked; measured low-rank error against the declared bound
 * across B; runtime against n (log-log) for exact and low-rank kernels — and the verify / fuzz
 * results tables when their JSON is given.
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { attentionInput } from '../../spec/attention.js';
import { criteria } from '../../spec/criteria.js';
import { blockCausalMask } from '../../spec/mask.js';
import { maxAbsDiff } from '../../spec/matrix.js';
import { scalePyramid } from '../../spec/pyramid.js';
import { mulberry32, uniformMatrix } from '../../spec/random.js';
import { exactAttentionCpu } from '../kernels/cpu/exact.js';
import { cpuLowRank } from '../kernels/cpu/low-rank.js';
import { fmt, statusWord } from '../../properties/runner/format.js';
import type { LawStatus } from '../../properties/runner/check-law.js';
import { lineChart } from './svg.js';
import { pipelineBoundDistribution, pipelineBoundSection } from './pipeline-bound.js';

/** Options of {@link writeReport}. */
export interface ReportOptions {
  /** Output HTML file. */
  out: string;
  /** `varcheck verify --json` output to include. */
  verifyJson?: string;
  /** `varcheck fuzz --json` output to include. */
  fuzzJson?: string;
  /** Benchmark JSON (bench/low-rank.bench.ts) for the runtime plot; measured afresh (n ≤ 64) when absent. */
  benchJson?: string;
  /** Cases sampled for the a-posteriori pipeline-bound distribution (0 skips it). @defaultValue 100 */
  pipelineCases?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A row of a verify or fuzz JSON result, as the report reads it. */
interface ResultRow {
  suite?: string;
  kernel?: string;
  name: string;
  cases: number;
  worst?: { error: number; bound: number };
  worstRatio?: number;
  status: LawStatus;
}

function resultsTable(title: string, rows: readonly ResultRow[]): string {
  const body = rows
    .map(
      (r) =>
        `<tr><td>${esc(r.suite ?? r.kernel ?? '')}</td><td>${esc(r.name)}</td><td>${r.cases}</td><td>${r.worst ? `${fmt(r.worst.error)} / ${fmt(r.worst.bound)}` : fmt(r.worstRatio ?? 0)}</td><td class="${r.status === 'failed' ? 'fail' : 'pass'}">${statusWord(r.status)}</td></tr>`,
    )
    .join('\n');
  return `<h2>${esc(title)}</h2><table><tr><th>suite / kernel</th><th>property</th><th>cases</th><th>worst error / bound</th><th>status</th></tr>${body}</table>`;
}

/** Everything the report shows, measured (or read) before anything is rendered. */
export interface ReportData {
  /** L, d, δ of the degree and rank curves. */
  curve: { L: number; d: number; delta: number; Bs: number[]; degree: (number | undefined)[]; rank: number[] };
  /** Measured low-rank error and declared bound across B (geometric n = 16). */
  errors: { L: number; d: number; delta: number; points: { B: number; error: number; bound: number }[] };
  /** Benchmark rows (n, exact ms, low-rank ms) and the file they came from, when present. */
  bench?: { file: string; results: { n: number; exactMs: number; lowRankMs: number }[] };
  /** The a-posteriori pipeline bound distribution (HTML section), when sampled. */
  pipelineSection: string;
  /** verify / fuzz result tables, when their JSON was given. */
  tables: { title: string; rows: ResultRow[] }[];
}

/** Measure and read what the report shows (no HTML). */
export function measureReport(options: Omit<ReportOptions, 'out'>): ReportData {
  const L = 21845;
  const d = 4;
  const delta = 1e-3;
  const Bs = Array.from({ length: 24 }, (_, i) => 0.1 + i * 0.15);
  const crit = Bs.map((B) => criteria({ L, d, B, delta }));
  const p = scalePyramid({ geometric: 16 });
  const kernel = cpuLowRank({ delta });
  const points = [0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5].map((B) => {
    const r = mulberry32(Math.round(B * 1000));
    const x = attentionInput(uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, B), uniformMatrix(r, p.L, d, 1), { mask: blockCausalMask(p) });
    try {
      return { B, error: maxAbsDiff((kernel.run(x) as ReturnType<typeof exactAttentionCpu>).data, exactAttentionCpu(x).data), bound: kernel.errorBound!(x) };
    } catch {
      return { B, error: NaN, bound: NaN }; // declined: above the float ceiling or the rank limit
    }
  });
  const file = options.benchJson ?? 'bench/results/low-rank.json';
  const bench = existsSync(file) ? { file, results: (JSON.parse(readFileSync(file, 'utf8')) as { results: { n: number; exactMs: number; lowRankMs: number }[] }).results } : undefined;
  const pipelineCases = options.pipelineCases ?? 100;
  const read = (f: string): ResultRow[] => (JSON.parse(readFileSync(f, 'utf8')) as { results: ResultRow[] }).results;
  const tables = [
    ...(options.verifyJson ? [{ title: 'varcheck verify', rows: read(options.verifyJson) }] : []),
    ...(options.fuzzJson ? [{ title: 'varcheck fuzz', rows: read(options.fuzzJson) }] : []),
  ];
  return {
    curve: { L, d, delta, Bs, degree: crit.map((c) => c.degree), rank: crit.map((c) => c.rank) },
    errors: { L: p.L, d, delta, points },
    bench,
    pipelineSection: pipelineCases > 0 ? pipelineBoundSection(pipelineBoundDistribution({ cases: pipelineCases })) : '',
    tables,
  };
}

/** Render measured report data as one HTML page. */
export function renderReport(data: ReportData, generated = new Date()): string {
  const { curve, errors } = data;
  const thr = Math.sqrt(Math.log(curve.L));
  const degreePlot = lineChart([{ label: 'certified degree g', color: '#1f77b4', points: curve.Bs.map((B, i) => [B, curve.degree[i] ?? NaN]) }], {
    title: `Certified degree against B (L = ${curve.L}, d = ${curve.d}, δ = ${curve.delta})`,
    xLabel: 'B = max |entry| of Q and K',
    yLabel: 'certified degree g',
    markers: [
      { x: thr, label: '√ln L' },
      { x: thr / 2, label: '½√ln L' },
    ],
  });
  const rankPlot = lineChart(
    [
      { label: 'rank r = C(d+g, g)', color: '#2ca02c', points: curve.Bs.map((B, i) => [B, curve.rank[i]]) },
      { label: 'L (exact is cheaper above)', color: '#999', dashed: true, points: curve.Bs.map((B) => [B, curve.L]) },
    ],
    { title: 'Rank against B, log scale', xLabel: 'B = max |entry| of Q and K', yLabel: 'rank r = C(d+g, g)', yLog: true, markers: [{ x: thr, label: '√ln L' }] },
  );
  const errPlot = lineChart(
    [
      { label: 'declared bound (E1 + certificate)', color: '#d62728', points: errors.points.map((m) => [m.B, m.bound]) },
      { label: 'measured ‖low-rank − exact‖∞', color: '#1f77b4', points: errors.points.map((m) => [m.B, m.error]) },
      { label: 'δ', color: '#999', dashed: true, points: errors.points.map((m) => [m.B, errors.delta]) },
    ],
    { title: `cpu/low-rank: measured error vs declared bound (L = ${errors.L}, d = ${errors.d})`, xLabel: 'B = max |entry| of Q and K', yLabel: 'ℓ∞ error (absolute)', yLog: true },
  );
  const timePlot = data.bench
    ? lineChart(
        [
          { label: 'cpu/exact', color: '#d62728', points: data.bench.results.map((r) => [r.n, r.exactMs]) },
          { label: 'cpu/low-rank', color: '#1f77b4', points: data.bench.results.map((r) => [r.n, r.lowRankMs]) },
        ],
        { title: `Runtime against n (block-causal geometric pyramids, from ${data.bench.file})`, xLabel: 'n (side of the last token map)', yLabel: 'time (ms)', xLog: true, yLog: true },
      )
    : '<p>No benchmark JSON: run <code>npx tsx bench/low-rank.bench.ts</code> first.</p>';
  return `<!doctype html><html><head><meta charset="utf-8"><title>varcheck report</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}.pass{color:#070}.fail{color:#c00;font-weight:bold}figure{margin:1em 0}</style></head>
<body><h1>varcheck report</h1><p>Generated ${generated.toISOString()}. The threshold: for B = o(√ln L) the certified degree and rank grow slower than any power of L and the low-rank construction is provably accurate and cheap; at B = Θ(√ln L) the degree grows like B² and the rank becomes a power of L (docs/math.md §4–5). The regime is read from the slope of ln r against ln L along a family, not from one size; the degree plot stops where float64 rounding makes any certificate impossible (the float ceiling, docs/math.md §8).</p>
<figure>${degreePlot}</figure><figure>${rankPlot}</figure><figure>${errPlot}</figure><figure>${timePlot}</figure>
${data.pipelineSection}
${data.tables.map((t) => resultsTable(t.title, t.rows)).join('\n')}
</body></html>\n`;
}

/** Build the report: measure, render, write; returns the HTML written. */
export function writeReport(options: ReportOptions): string {
  const html = renderReport(measureReport(options));
  writeFileSync(options.out, html);
  return html;
}
