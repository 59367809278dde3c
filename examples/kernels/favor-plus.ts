/**
 * A Performer-style random-feature kernel (FAVOR+, Choromanski et al. 2021): positive random
 * features φ(x) = exp(wᵀx − ‖x‖²/2)/√m, w ~ N(0, I), give an unbiased estimate of exp(⟨q, k⟩).
 * It claims an additive error of 0.05 on every input — a claim the fuzzer refutes (the estimate's
 * variance grows like exp(‖q‖² + ‖k‖²), so large entries break it).
 *
 *   npx varcheck fuzz examples/kernels/favor-plus.ts
 */
import type { AttentionKernel, AttentionInput, Matrix } from 'varcheck';

const M = 64; // random features

/** A seeded standard normal generator (Box–Muller on mulberry32). */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function features(x: Matrix, w: Float64Array, s: number): Float64Array {
  const d = x.cols;
  const phi = new Float64Array(x.rows * M);
  for (let i = 0; i < x.rows; i++) {
    let norm = 0;
    for (let t = 0; t < d; t++) norm += (Math.sqrt(s) * x.data[i * d + t]) ** 2;
    for (let r = 0; r < M; r++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += w[r * d + t] * Math.sqrt(s) * x.data[i * d + t];
      phi[i * M + r] = Math.exp(dot - norm / 2) / Math.sqrt(M);
    }
  }
  return phi;
}

function run({ q, k, v, scale, mask }: AttentionInput): Matrix {
  const d = q.cols;
  const dv = v.cols;
  const g = normals(1234);
  const w = Float64Array.from({ length: M * d }, g);
  const pq = features(q, w, scale);
  const pk = features(k, w, scale);
  const blocks = mask.kind === 'block-causal' ? mask.blocks : [k.rows];
  const S = new Float64Array(M * (dv + 1));
  const out = new Float64Array(q.rows * dv);
  let j = 0;
  let i = 0;
  for (const b of blocks) {
    for (const end = j + b; j < end; j++) {
      for (let r = 0; r < M; r++) {
        for (let c = 0; c < dv; c++) S[r * (dv + 1) + c] += pk[j * M + r] * v.data[j * dv + c];
        S[r * (dv + 1) + dv] += pk[j * M + r];
      }
    }
    const qEnd = mask.kind === 'block-causal' ? i + b : q.rows;
    for (; i < qEnd; i++) {
      let den = 0;
      for (let r = 0; r < M; r++) den += pq[i * M + r] * S[r * (dv + 1) + dv];
      for (let c = 0; c < dv; c++) {
        let num = 0;
        for (let r = 0; r < M; r++) num += pq[i * M + r] * S[r * (dv + 1) + c];
        out[i * dv + c] = num / den;
      }
    }
  }
  return { rows: q.rows, cols: dv, data: out };
}

const favorPlus: AttentionKernel = {
  name: 'example/favor-plus',
  op: 'attention',
  exact: false,
  masks: ['none', 'block-causal'],
  precision: 'float64',
  errorBound: () => 0.05, // the claim under test
  run,
};

export default favorPlus;
