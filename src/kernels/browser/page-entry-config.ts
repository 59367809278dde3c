/**
 * Settings shared by the page and the Node driver of the Chromium kernels.
 * @module
 */

/** The δ of `gpujs/low-rank` in the page; the driver declares the same bound in Node. */
export const BROWSER_LOW_RANK_DELTA = 1e-3;
