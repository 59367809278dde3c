import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['properties/**/*.test.ts', 'src/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['properties/setup.ts'],
    // headless-gl contexts cannot be shared across worker threads: keep forks (docs/guide-kernels.md).
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
