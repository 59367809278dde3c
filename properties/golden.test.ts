/**
 * The spec against real PyTorch (tools/golden/generate.py, float64): `F.interpolate` bicubic
 * (align_corners=False) and area, and softmax attention with and without block-causal masks.
 * Criterion: ‖spec − torch‖∞ ≤ 1e-12 · max(1, ‖torch‖∞) on every case.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { areaDownsample, attention, attentionInput, featureMap, matrix, maxAbs, maxAbsDiff, NO_MASK } from '../spec/index.js';

interface ResizeCase {
  mode: 'bicubic' | 'area';
  h: number;
  w: number;
  c: number;
  h2: number;
  w2: number;
  x: number[];
  expected: number[];
}
interface AttentionCase {
  lq: number;
  lk: number;
  d: number;
  dv: number;
  scale: number;
  blocks: number[] | null;
  q: number[];
  k: number[];
  v: number[];
  expected: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/pytorch-golden.json', import.meta.url), 'utf8')) as {
  torch: string;
  resize: ResizeCase[];
  attention: AttentionCase[];
};

const TOL = 1e-12;
function relErr(got: ArrayLike<number>, want: number[]): number {
  return maxAbsDiff(got, want) / Math.max(1, maxAbs(want));
}

describe(`spec vs PyTorch ${fixture.torch} golden vectors`, () => {
  it('has cases', () => {
    expect(fixture.resize.length).toBeGreaterThanOrEqual(40);
    expect(fixture.attention.length).toBeGreaterThanOrEqual(10);
  });
  for (const r of fixture.resize) {
    it(`${r.mode} ${r.h}×${r.w}×${r.c} → ${r.h2}×${r.w2}`, async () => {
      const { upInterpolate } = await import('../spec/index.js');
      const x = featureMap(r.h, r.w, r.c, r.x);
      const y = r.mode === 'bicubic' ? upInterpolate(x, r.h2, r.w2) : areaDownsample(x, r.h2, r.w2);
      expect(relErr(y.data, r.expected)).toBeLessThanOrEqual(TOL);
    });
  }
  for (const a of fixture.attention) {
    it(`attention ${a.lq}×${a.lk}, d=${a.d}, dv=${a.dv}, mask=${a.blocks ? `block-causal [${a.blocks}]` : 'none'}`, () => {
      const input = attentionInput(matrix(a.lq, a.d, a.q), matrix(a.lk, a.d, a.k), matrix(a.lk, a.dv, a.v), {
        scale: a.scale,
        mask: a.blocks ? { kind: 'block-causal', blocks: a.blocks } : NO_MASK,
      });
      expect(relErr(attention(input).data, a.expected)).toBeLessThanOrEqual(TOL);
    });
  }
});
