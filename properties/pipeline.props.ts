/**
 * Model-based property of the VAR transformer: KV-cached, scale-by-scale inference equals one
 * block-causal pass (docs/math.md §7, "Consistency"), checked with `fc.commands` over appended scales.
 * @module
 */
import * as fc from 'fast-check';
import {
  blockCausalMask,
  decode,
  decoderLite,
  EXACT_ATTENTION,
  KvCache,
  maxAbs,
  maxAbsDiff,
  sliceRows,
  traceDecoderBound,
  tracePipelineBound,
  transformer,
  varGenerate,
  varModel,
  vstack,
  scalePyramid,
  type AttentionInput,
  type Matrix,
  type TransformerLayer,
} from '../spec/index.js';
import { certifiedLowRankAttention } from '../spec/certificate.js';
import { matrixArb, pyramidArb } from './arbitraries.js';
import { EPS, law, type Law } from './law.js';

/** The model: every input so far, and the blocks (tokens per scale). */
interface CacheModel {
  inputs: Matrix[];
  blocks: number[];
  lastSide: number;
}
/** The system under test and the worst deviation seen. */
interface CacheReal {
  cache: KvCache;
  outputs: Matrix[];
  worst: { error: number; bound: number };
}

const D = 4;

/** Allowance for reassociated float64 sums in a stack of m layers. */
function stackSlack(layers: number, L: number, scale: number): number {
  return 64 * EPS * layers * (L + D) * Math.max(1, scale);
}

class AppendScale implements fc.Command<CacheModel, CacheReal> {
  constructor(
    readonly side: number,
    readonly x: Matrix,
  ) {}
  check(m: Readonly<CacheModel>): boolean {
    return m.inputs.length === 0 ? this.side === 1 : this.side >= m.lastSide;
  }
  run(m: CacheModel, r: CacheReal): void {
    const out = r.cache.step(this.x);
    m.inputs.push(this.x);
    m.blocks.push(this.side * this.side);
    m.lastSide = this.side;
    r.outputs.push(out);
    // The model: one block-causal pass over every scale so far.
    const all = vstack(m.inputs);
    const full = transformer(all, r.cache.layers, { kind: 'block-causal', blocks: m.blocks });
    const cached = vstack(r.outputs);
    const error = maxAbsDiff(full.data, cached.data);
    const bound = stackSlack(r.cache.layers.length, all.rows, maxAbs(full.data));
    if (error / Math.max(bound, 1e-300) > r.worst.error / Math.max(r.worst.bound, 1e-300)) r.worst = { error, bound };
    if (!(error <= bound)) throw new Error(`KV-cached rows differ from the masked pass by ${error} > ${bound} after ${m.blocks.length} scales`);
  }
  toString(): string {
    return `append ${this.side}×${this.side}`;
  }
}

const appendScale = fc.integer({ min: 1, max: 4 }).chain((side) => matrixArb(side * side, D, 2).map((x) => new AppendScale(side, x)));

const layerSeeds = fc.integer({ min: 1, max: 1_000_000 });

/** Laws of the VAR transformer and recursion (docs/math.md §7). */
export const pipelineLaws: Law<unknown>[] = [
  law({
    id: 'pipeline.transformer-kv-cached-inference-one-block',
    name: 'transformer: KV-cached inference ≡ one block-causal pass (model-based, fc.commands)',
    cites: 'docs/math.md §7 (Consistency)',
    arbitrary: fc.tuple(layerSeeds, fc.commands([appendScale], { maxCommands: 5 })),
    check: ([seed, cmds]) => {
      const layers: TransformerLayer[] = varModel(scalePyramid({ sides: [1] }), { D, layers: 2, seed }).layers;
      const real: CacheReal = { cache: new KvCache(layers), outputs: [], worst: { error: 0, bound: 0 } };
      fc.modelRun(() => ({ model: { inputs: [], blocks: [], lastSide: 1 }, real }), cmds);
      return real.worst;
    },
    numRuns: 100,
  }),
  law({
    id: 'pipeline.var-recursion-kv-cache-and-per',
    name: 'VAR recursion: KV cache and per-step recompute generate the same token maps',
    cites: 'docs/math.md §4, §7',
    arbitrary: fc.tuple(pyramidArb(4, 4), layerSeeds),
    check: ([p, seed]) => {
      const model = varModel(p, { D, layers: 2, seed });
      const a = varGenerate(model, { mode: 'kv-cache' });
      const b = varGenerate(model, { mode: 'recompute' });
      const full = transformer(a.inputs, model.layers, blockCausalMask(p));
      const error = Math.max(maxAbsDiff(a.fhat.data, b.fhat.data), maxAbsDiff(a.outputs.data, b.outputs.data), maxAbsDiff(full.data, a.outputs.data));
      return { error, bound: stackSlack(2, p.L, maxAbs(a.outputs.data) + maxAbs(a.fhat.data)) * p.blocks.length };
    },
    numRuns: 100,
  }),
  law({
    id: 'pipeline.transformer-masked-prefix-stability-the-first',
    name: 'transformer: masked prefix stability (the first L_k rows ignore later scales)',
    cites: 'docs/math.md §7 (Consistency)',
    arbitrary: pyramidArb(4, 3).chain((p) => fc.tuple(fc.constant(p), matrixArb(p.L, D, 2), layerSeeds)),
    check: ([p, x, seed]) => {
      const layers = varModel(p, { D, layers: 2, seed }).layers;
      const full = transformer(x, layers, blockCausalMask(p));
      let error = 0;
      p.cumulative.forEach((Lk, k) => {
        const sub = scalePyramid({ heights: p.heights.slice(0, k + 1), widths: p.widths.slice(0, k + 1) });
        const prefix = transformer(sliceRows(x, 0, Lk), layers, blockCausalMask(sub));
        error = Math.max(error, maxAbsDiff(prefix.data, full.data.subarray(0, Lk * D)));
      });
      return { error, bound: stackSlack(2, p.L, maxAbs(full.data)) };
    },
  }),
  law({
    id: 'pipeline.a-posteriori-trace-the-bound-is',
    name: 'a-posteriori trace: the bound is traced along the very run varGenerate / decode compute (bit-identical), with a zero bound for exact attention',
    cites: 'docs/math.md §6 (composition), §7',
    arbitrary: fc.tuple(pyramidArb(4, 3), layerSeeds, fc.double({ min: 0.5, max: 2, noNaN: true })),
    check: ([p, seed, gain]) => {
      const model = varModel(p, { D, layers: 2, seed, qkGain: gain });
      const attend = (x: AttentionInput): Matrix => certifiedLowRankAttention(x, 1e-3);
      const fast = varGenerate(model, { attend });
      const trace = tracePipelineBound(model, { attend, declared: () => 1e-3 });
      const dec = decoderLite(model.c, 4, seed + 1, gain);
      const dt = traceDecoderBound(trace.run.fhat, trace.fhatError, dec, { attend, declared: () => 1e-3 });
      const exactTrace = tracePipelineBound(model, EXACT_ATTENTION);
      const error = Math.max(
        maxAbsDiff(trace.run.fhat.data, fast.fhat.data),
        maxAbsDiff(trace.run.outputs.data, fast.outputs.data),
        maxAbsDiff(trace.run.inputs.data, fast.inputs.data),
        maxAbsDiff(dt.image.data, decode(fast.fhat, dec, attend).data),
        exactTrace.fhat,
        exactTrace.outputs,
      );
      return { error, bound: 0 };
    },
  }),
];
