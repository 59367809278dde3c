/**
 * The hand-written WGSL kernels outside the browser: on Dawn (`@node-webgpu`) they are judged by
 * the attention battery where Dawn finds an adapter (a GPU machine), and reported unavailable —
 * never silently replaced — where it does not (CI). Their dispatch tables are checked here on
 * the CPU; the kernels themselves are judged in Chromium's WebGPU by properties/browser.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { keyLimits } from '../spec/mask.js';
import { KernelRegistry, registerWgslKernels } from '../src/kernels/registry.js';
import { headClass, keyTile, queryTiles, splitItems, WGSL_EXACT_RESCALES, WGSL_HEAD_CLASSES, WGSL_QUERY_TILE, wgslExactSource } from '../src/kernels/wgsl/exact.js';
import { keyChunking, wgslLowRankBound, wgslLowRankProfile } from '../src/kernels/wgsl/low-rank.js';
import { blockChunks } from '../src/kernels/chunks.js';
import { GPUJS_LOW_RANK_PROFILE, gpujsLowRankBound } from '../src/kernels/gpujs/low-rank.js';
import { attentionInput, blockCausalMask, certifyLowRank, DeclinedInputError, FLOAT32_GPUJS, matrix, scalePyramid } from '../spec/index.js';
import { mulberry32 } from '../spec/random.js';
import { probeWebGPU } from '../src/kernels/gpujs/backend.js';
import type { AttentionKernel } from '../spec/contract.js';
import { attentionBattery } from './battery/attention.js';
import { describeLaws } from './vitest.js';
import { KNOWN_GAPS } from './battery/known-gaps.js';

const blocksArb = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 12 });

describe('wgsl dispatch tables', () => {
  it('queryTiles: every query row in exactly one tile, each tile reaching its rows’ longest key prefix, longest first', () => {
    fc.assert(
      fc.property(blocksArb, (blocks) => {
        const L = blocks.reduce((a, b) => a + b, 0);
        const lim = keyLimits({ kind: 'block-causal', blocks }, L, L);
        const t = queryTiles(lim);
        const seen = new Int32Array(L);
        for (let n = 0; n < t.length / 2; n++) {
          const [start, end] = [t[2 * n], t[2 * n + 1]];
          if (n > 0) expect(end).toBeLessThanOrEqual(t[2 * n - 1]);
          for (let i = start; i < Math.min(L, start + WGSL_QUERY_TILE); i++) {
            seen[i]++;
            expect(lim[i]).toBeLessThanOrEqual(end);
          }
        }
        expect(Array.from(seen).every((c) => c === 1)).toBe(true);
      }),
    );
  });
  it('splitItems: each tile’s key prefix covered once by its items, in key-tile multiples, longest first; split tiles own contiguous slots; partials fit the limit', () => {
    fc.assert(
      fc.property(
        blocksArb,
        fc.constantFrom(4, 8, 32, 64),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 256 }),
        fc.integer({ min: 12, max: 26 }),
        (blocks, bk, target, dv, logBytes) => {
          const L = blocks.reduce((a, b) => a + b, 0);
          const tiles = queryTiles(keyLimits({ kind: 'block-causal', blocks }, L, L));
          const maxPartialBytes = 2 ** logBytes;
          const plan = splitItems(tiles, bk, { target, minChunk: 4 * bk, dv, maxPartialBytes });
          expect(plan.slots * WGSL_QUERY_TILE * (dv + 2) * 4).toBeLessThanOrEqual(Math.max(maxPartialBytes, 0));
          const covered = new Map<number, number>();
          const slotsOf = new Map<number, number[]>();
          for (let n = 0; n < plan.items.length / 4; n++) {
            const [row, j0, j1, slot] = plan.items.subarray(4 * n, 4 * n + 4);
            if (n > 0) expect(j1 - j0).toBeLessThanOrEqual(plan.items[4 * n - 2] - plan.items[4 * n - 3]);
            expect(j1).toBeGreaterThan(j0);
            expect(j0 % bk).toBe(0);
            covered.set(row, (covered.get(row) ?? 0) + (j1 - j0));
            if (slot !== 0xffffffff) slotsOf.set(row, [...(slotsOf.get(row) ?? []), slot]);
            else expect(j0).toBe(0);
          }
          for (let t = 0; t < tiles.length / 2; t++) expect(covered.get(tiles[2 * t])).toBe(tiles[2 * t + 1]);
          for (let s = 0; s < plan.split.length / 4; s++) {
            const [row, first, count] = plan.split.subarray(4 * s, 4 * s + 3);
            expect(count).toBeGreaterThan(1);
            expect([...slotsOf.get(row)!].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, c) => first + c));
          }
          expect(slotsOf.size).toBe(plan.split.length / 4);
        },
      ),
    );
  });
  it('blockChunks: chunks tile the keys in order, never straddle a block, and each block’s last chunk ends it', () => {
    fc.assert(
      fc.property(blocksArb, fc.integer({ min: 1, max: 64 }), (blocks, size) => {
        const { chunks, lastChunk } = blockChunks(blocks, size);
        let j = 0;
        for (let n = 0; n < chunks.length / 2; n++) {
          expect(chunks[2 * n]).toBe(j);
          expect(chunks[2 * n + 1] - chunks[2 * n]).toBeGreaterThan(0);
          expect(chunks[2 * n + 1] - chunks[2 * n]).toBeLessThanOrEqual(size);
          j = chunks[2 * n + 1];
        }
        let end = 0;
        blocks.forEach((b, k) => {
          end += b;
          expect(chunks[2 * lastChunk[k] + 1]).toBe(end);
          if (k > 0) expect(chunks[2 * (lastChunk[k - 1] + 1)]).toBe(end - b);
        });
      }),
    );
  });
  it('keyChunking: ≤ 256 chunks of ≤ size keys, size the smallest power-of-two multiple of 256 that allows it; lanes a power of two ≥ 4, the chunks and the blocks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 14 }), (blocks) => {
        const { size, cut, lanes } = keyChunking(blocks);
        const n = cut.chunks.length / 2;
        expect(n).toBeLessThanOrEqual(256);
        expect(blockChunks(blocks, size).chunks).toEqual(cut.chunks);
        if (size > 256) expect(blockChunks(blocks, size / 2).chunks.length / 2).toBeGreaterThan(256);
        expect(Math.log2(lanes) % 1).toBe(0);
        expect(lanes).toBeGreaterThanOrEqual(Math.max(4, n, blocks.length));
        expect(lanes / 2 < Math.max(4, n, blocks.length)).toBe(true);
      }),
    );
  });
  it('wgslLowRankProfile counts min(n, chunk) + ⌈log₂ lanes⌉ roundings per key-sum term (docs/floating-point.md §2 "Chunked key sums"): at L = 21,845 it (and the chunked prefix of gpujs/low-rank) certifies δ = 1e-3 where sequential float32 sums decline', () => {
    const rand = mulberry32(20250107);
    const L = 21845;
    const m = () =>
      matrix(
        L,
        4,
        Array.from({ length: L * 4 }, () => 2 * rand() - 1),
      );
    const x = attentionInput(m(), m(), m(), { mask: blockCausalMask(scalePyramid({ sides: [1, 2, 4, 8, 16, 32, 64, 128] })) });
    const profile = wgslLowRankProfile(x);
    // 8 blocks of 1…16,384 keys in chunks of 256: 92 chunks, 128 lanes, depth 7.
    expect([21845, 256, 5, 1].map((n) => profile.keyOps(n, 8))).toEqual([263, 263, 12, 8]);
    const bound = wgslLowRankBound(1e-3)(x);
    expect(bound).toBeLessThanOrEqual(1e-3);
    expect(bound).toBe(certifyLowRank(x, 1e-3, profile).bound);
    expect(() => certifyLowRank(x, 1e-3, FLOAT32_GPUJS)).toThrow(DeclinedInputError);
    // gpujs/low-rank: chunks of 128 and a sequential prefix over them, ⌈21,845/128⌉ + 8 = 179 chunk sums at most.
    expect(GPUJS_LOW_RANK_PROFILE.keyOps(21845, 8)).toBe(128 + 171 + 8);
    expect(gpujsLowRankBound(1e-3)(x)).toBeLessThanOrEqual(1e-3);
  });
  it('headClass: the smallest compiled class ≥ n; past the largest, a typed error', () => {
    expect([1, 4, 5, 16, 64, 65, 128, 129, 256].map(headClass)).toEqual([4, 4, 64, 64, 64, 128, 128, 256, 256]);
    expect(() => headClass(257)).toThrow(/head size 257 > 256/);
  });
  it('key tiles: wide fills 16 KiB of K and V per class, compact holds 8 keys; the declared rescales (keys per rescale) hold for both', () => {
    expect(WGSL_HEAD_CLASSES.map((c) => keyTile(c))).toEqual([64, 32, 16, 8]);
    expect(WGSL_HEAD_CLASSES.map((c) => keyTile(c, 'compact'))).toEqual([8, 8, 8, 8]);
    for (const c of WGSL_HEAD_CLASSES)
      for (const t of ['wide', 'compact'] as const) {
        // The float tolerance assumes at least keysPerRescale keys between rescales: never more than a tile holds.
        expect((WGSL_EXACT_RESCALES as { keysPerRescale: number }).keysPerRescale).toBeLessThanOrEqual(keyTile(c, t));
        expect(wgslExactSource(c, c, t)).toContain(`const BK: u32 = ${keyTile(c, t)}u;`);
      }
  });
});

const registry = await registerWgslKernels(new KernelRegistry());
afterAll(() => registry.dispose());
const adapter = await probeWebGPU();

describe('wgsl on Dawn (node-webgpu)', () => {
  it('is registered where Dawn has an adapter, reported unavailable with a reason where not', () => {
    if (adapter === undefined) {
      expect(registry.list()).toHaveLength(0);
      expect(registry.unavailable.map((u) => u.backend)).toEqual(['node-webgpu']);
      expect(registry.unavailable[0].reason).toMatch(/adapter/);
    } else {
      expect(registry.list().map((k) => k.name)).toEqual(['wgsl/exact@node-webgpu', 'wgsl/low-rank@node-webgpu']);
    }
  });
});

for (const k of registry.attention()) {
  const measured = registry.metaOf(k.name).measured;
  describeLaws(`battery › ${k.name}`, attentionBattery(k as AttentionKernel, { measured, numRuns: 100 }), { kernel: k.name, knownGaps: KNOWN_GAPS });
}
