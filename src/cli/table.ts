/**
 * Plain-text tables for the CLI and the benchmarks (defined with the rest of the result formatting
 * in properties/runner/format.ts).
 * @module
 */
export { fmt, table } from '../../properties/runner/format.js';
