/**
 * A small dependency-free SVG line chart for the report (linear or log axes, vertical markers).
 * @module
 */

/** One series of points. */
export interface Series {
  /** Legend label. */
  label: string;
  /** Points (x, y); non-finite y values are skipped. */
  points: [number, number][];
  /** Stroke colour. */
  color: string;
  /** Dashed line. */
  dashed?: boolean;
}

/** Options of {@link lineChart}. */
export interface ChartOptions {
  /** Title above the plot. */
  title: string;
  /** x-axis label. */
  xLabel: string;
  /** y-axis label. */
  yLabel: string;
  /** Log-scale x. */
  xLog?: boolean;
  /** Log-scale y. */
  yLog?: boolean;
  /** Vertical markers (e.g. the √ln L threshold). */
  markers?: { x: number; label: string }[];
}

const W = 640;
const H = 360;
/** Margins; the legend sits in its own band under the x-axis label, clear of the data. */
const M = { l: 70, r: 20, t: 40, b: 50 };
const LEGEND_ROW = 18;

/**
 * Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k (about `target` ticks), or, on a
 * log axis (lo, hi are log10 values), the integer powers of ten in range (every other one when many).
 */
export function niceTicks(lo: number, hi: number, log = false, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  if (log) {
    const first = Math.ceil(lo - 1e-9);
    const last = Math.floor(hi + 1e-9);
    const every = Math.max(1, Math.ceil((last - first + 1) / 8));
    const out: number[] = [];
    for (let e = first; e <= last; e += every) out.push(e);
    return out.length >= 2 ? out : [lo, hi];
  }
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick label: plain for round numbers, 10^k on log axes. */
function tickLabel(v: number, log?: boolean): string {
  if (log) return Number.isInteger(v) ? (v >= -2 && v <= 3 ? String(10 ** v) : `1e${v}`) : Number((10 ** v).toPrecision(2)).toString();
  return Number(v.toPrecision(6)).toString();
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Render series as an SVG string. */
export function lineChart(series: Series[], o: ChartOptions): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.yLog || y > 0) && (!o.xLog || x > 0));
  const fx = o.xLog ? Math.log10 : (v: number) => v;
  const fy = o.yLog ? Math.log10 : (v: number) => v;
  const xs = [...pts.map(([x]) => fx(x)), ...(o.markers ?? []).map((m) => fx(m.x))];
  const ys = pts.map(([, y]) => fy(y));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (v: number): number => M.l + ((fx(v) - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const sy = (v: number): number => H - M.b - ((fy(v) - y0) / (y1 - y0)) * (H - M.t - M.b);
  const legendH = series.length * LEGEND_ROW + 8;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + legendH}" font-family="sans-serif" font-size="12">`];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  parts.push(`<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`);
  const px = (v: number): number => M.l + ((v - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const py = (v: number): number => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
  for (const xv of niceTicks(x0, x1, o.xLog)) parts.push(`<text x="${px(xv).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">${tickLabel(xv, o.xLog)}</text>`);
  for (const yv of niceTicks(y0, y1, o.yLog)) {
    parts.push(`<text x="${M.l - 6}" y="${(py(yv) + 4).toFixed(1)}" text-anchor="end">${tickLabel(yv, o.yLog)}</text>`);
    parts.push(`<line x1="${M.l}" y1="${py(yv).toFixed(1)}" x2="${W - M.r}" y2="${py(yv).toFixed(1)}" stroke="#eee"/>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(o.yLabel)}</text>`);
  for (const m of o.markers ?? []) {
    const mx = sx(m.x);
    // Labels near the right edge are drawn to the left of their line, so they stay inside the chart.
    const label =
      mx > W - M.r - 70 ? `<text x="${mx - 4}" y="${M.t + 12}" fill="#c00" text-anchor="end">${esc(m.label)}</text>` : `<text x="${mx + 4}" y="${M.t + 12}" fill="#c00">${esc(m.label)}</text>`;
    parts.push(`<line x1="${mx}" y1="${M.t}" x2="${mx}" y2="${H - M.b}" stroke="#c00" stroke-dasharray="4 3"/>${label}`);
  }
  series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(y) && (!o.yLog || y > 0) && (!o.xLog || x > 0));
    if (ok.length) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [x, y] of ok) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    parts.push(`<rect x="${M.l}" y="${H + 4 + i * LEGEND_ROW}" width="10" height="10" fill="${s.color}"/><text x="${M.l + 15}" y="${H + 13 + i * LEGEND_ROW}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
