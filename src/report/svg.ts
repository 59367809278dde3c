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
const M = { l: 70, r: 20, t: 40, b: 50 };

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
  const tick = (v: number, log?: boolean): string => Number((log ? 10 ** v : v).toPrecision(3)).toString();
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  parts.push(`<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#333"/>`);
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4;
    const yv = y0 + ((y1 - y0) * i) / 4;
    const px = M.l + ((W - M.l - M.r) * i) / 4;
    const py = H - M.b - ((H - M.t - M.b) * i) / 4;
    parts.push(`<text x="${px}" y="${H - M.b + 16}" text-anchor="middle">${tick(xv, o.xLog)}</text>`);
    parts.push(`<text x="${M.l - 6}" y="${py + 4}" text-anchor="end">${tick(yv, o.yLog)}</text>`);
    parts.push(`<line x1="${M.l}" y1="${py}" x2="${W - M.r}" y2="${py}" stroke="#eee"/>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(o.yLabel)}</text>`);
  for (const m of o.markers ?? []) {
    const px = sx(m.x);
    parts.push(`<line x1="${px}" y1="${M.t}" x2="${px}" y2="${H - M.b}" stroke="#c00" stroke-dasharray="4 3"/><text x="${px + 4}" y="${M.t + 12}" fill="#c00">${esc(m.label)}</text>`);
  }
  series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(y) && (!o.yLog || y > 0) && (!o.xLog || x > 0));
    if (ok.length) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${ok.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [x, y] of ok) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    parts.push(`<rect x="${W - M.r - 180}" y="${M.t + 8 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - M.r - 165}" y="${M.t + 17 + i * 16}">${esc(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
