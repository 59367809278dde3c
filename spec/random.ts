/**
 * A small deterministic PRNG (mulberry32) for the stylised pipeline's weights, so that a
 * model is a pure function of its seed on every platform.
 * @module
 */
import { matrix, type Matrix } from './matrix.js';

/** A seeded uniform generator on [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A rows×cols matrix with entries uniform on [−bound, bound]. */
export function uniformMatrix(rand: () => number, rows: number, cols: number, bound: number): Matrix {
  const m = matrix(rows, cols);
  for (let k = 0; k < m.data.length; k++) m.data[k] = (2 * rand() - 1) * bound;
  return m;
}
