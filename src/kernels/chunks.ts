/**
 * Key chunks shared by the float32 low-rank kernels: cutting the keys into short runs that never
 * straddle a scale block bounds the rounding of their key sums by the chunk length instead of L
 * (docs/floating-point.md §2 "Chunked key sums").
 * @module
 */

/** Key chunks and where each scale block ends among them. */
export interface KeyChunks {
  /** Chunk n covers keys chunks[2n] … chunks[2n + 1] − 1. */
  chunks: Uint32Array;
  /** lastChunk[b]: the index of scale block b's last chunk. */
  lastChunk: Uint32Array;
}

/** Key chunks of at most `size` rows that never straddle a block (start, end pairs), and each block's last chunk. */
export function blockChunks(blocks: readonly number[], size: number): KeyChunks {
  const chunks: number[] = [];
  const lastChunk: number[] = [];
  let start = 0;
  for (const b of blocks) {
    for (let j = start; j < start + b; j += size) chunks.push(j, Math.min(start + b, j + size));
    lastChunk.push(chunks.length / 2 - 1);
    start += b;
  }
  return { chunks: Uint32Array.from(chunks), lastChunk: Uint32Array.from(lastChunk) };
}
