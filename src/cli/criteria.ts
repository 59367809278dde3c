/**
 * `varcheck criteria`: the regime table of docs/math.md §4–5 for the VAR presets and geometric
 * pyramids across head dimensions d and entry bounds B.
 * @module
 */
import { criteria, type Criteria } from '../../spec/criteria.js';
import type { PyramidSpec } from '../../spec/pyramid.js';
import { fmt, table } from './table.js';

/** Options of {@link criteriaTable}. */
export interface CriteriaTableOptions {
  /** Pyramids (rows). @defaultValue VAR-256/512/1024 and geometric 16…128 */
  pyramids?: PyramidSpec[];
  /** Head dimensions. @defaultValue [4, 8, 16, 64] */
  ds?: number[];
  /** Entry bounds. @defaultValue [0.25, 0.5, 1, 2, 4, 8] */
  Bs?: number[];
  /** Target δ. @defaultValue 1e-3 */
  delta?: number;
}

/** Evaluate {@link criteria} over the grid and render it; returns the text and the rows. */
export function criteriaTable(options: CriteriaTableOptions = {}): { text: string; rows: (Criteria & { pyramid: string })[] } {
  const pyramids = options.pyramids ?? ['var-256', 'var-512', 'var-1024', { geometric: 16 }, { geometric: 32 }, { geometric: 64 }, { geometric: 128 }];
  const ds = options.ds ?? [4, 8, 16, 64];
  const Bs = options.Bs ?? [0.25, 0.5, 1, 2, 4, 8];
  const delta = options.delta ?? 1e-3;
  const rows: (Criteria & { pyramid: string })[] = [];
  for (const p of pyramids)
    for (const d of ds)
      for (const B of Bs) {
        rows.push({ pyramid: typeof p === 'string' ? p : 'geometric' in p ? `geometric(${p.geometric})` : 'custom', ...criteria({ pyramid: p, d, B, delta }) });
      }
  const text = table(
    ['pyramid', 'L', 'd', 'B', 'β', 'B/√ln L', 'β_max f64', 'β_max f32', 'rank slope', 'regime', 'poly g', 'rank r', 'r < L', 'exact MACs', 'low-rank MACs', 'speed-up', 'provably efficient'],
    rows.map((c) => [
      c.pyramid,
      String(c.L),
      String(c.d),
      String(c.B),
      fmt(c.beta),
      fmt(c.thresholdRatio),
      fmt(c.floatCeiling.float64),
      fmt(c.floatCeiling.float32),
      fmt(c.rankSlope),
      c.regime,
      c.degree === undefined ? '—' : `${c.polynomial === 'taylor' ? 'T' : 'C'}${c.degree}`,
      Number.isFinite(c.rank) ? (c.rank < 1e7 ? String(c.rank) : fmt(c.rank)) : '∞',
      c.rank < c.L ? 'yes' : 'no',
      fmt(c.exactMacs),
      Number.isFinite(c.lowRankMacs) ? fmt(c.lowRankMacs) : '∞',
      Number.isFinite(c.predictedSpeedup) && c.predictedSpeedup > 0 ? `${fmt(c.predictedSpeedup)}×` : '—',
      c.provablyEfficient ? 'yes' : 'no',
    ]),
  );
  const notes = [
    `δ = ${delta}; g = least certified degree whose float64 total (polynomial + rounding) meets δ (T: Taylor, C: certified Chebyshev); r = C(d+g, g).`,
    'Block-causal exact MACs = Σ_k h_k w_k L_k·(d + d_v); low-rank MACs = 2Lr + 2Lr(d_v + 1). d_v = d.',
    'β_max: the float ceiling ½·ln(ε(1−ε)/γ_K) of float64 and float32 at this r, L, ε — beyond it no certificate exists in that format (docs/math.md §8).',
    'Regime from the slope of ln r against ln L along the family (B fixed relative to √ln L, d ∝ ln L): below — provably efficient here and the slope falls;',
    'at-or-above — not provably efficient and the slope does not fall; near — otherwise (docs/math.md §4). Provably efficient is a statement at this size.',
  ];
  return { text: `${text}\n\n${notes.join('\n')}`, rows };
}
