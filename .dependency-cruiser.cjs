/**
 * Layering of varcheck (docs/math.md §7 for the pipeline these layers implement), checked by
 * `npm run deps` (dependency-cruiser; exits non-zero on any violation):
 *
 *   spec/        mathematics and the kernel contract: imports nothing from properties/ or src/
 *   properties/  laws, arbitraries, battery, law runner: non-test files import only spec/
 *   src/         kernels, registry, fuzz, cli, report: src/kernels/** imports only spec/
 *
 * Test files (*.test.ts) and properties/fixtures/** (mutants, fixtures) may import anything.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const TESTS = '\\.test\\.ts$';
const FIXTURES = '^properties/fixtures/';

module.exports = {
  forbidden: [
    {
      name: 'spec-imports-only-spec',
      comment: 'spec/ is the mathematics and the kernel contract: it imports nothing from properties/ or src/.',
      severity: 'error',
      from: { path: '^spec/', pathNot: TESTS },
      to: { path: '^(properties|src)/' },
    },
    {
      name: 'properties-do-not-import-src',
      comment: 'The laws and their runner judge kernels through the contract (spec/contract.ts): non-test files in properties/ import nothing from src/.',
      severity: 'error',
      from: { path: '^properties/', pathNot: [TESTS, FIXTURES] },
      to: { path: '^src/' },
    },
    {
      name: 'kernels-do-not-import-properties',
      comment: 'A kernel under test must not see the laws that judge it: src/kernels/** imports nothing from properties/.',
      severity: 'error',
      from: { path: '^src/kernels/', pathNot: TESTS },
      to: { path: '^properties/' },
    },
    {
      name: 'kernels-import-only-spec',
      comment: 'src/kernels/** imports only spec/ (and other kernels): not the fuzzer, the CLI or the report.',
      severity: 'error',
      from: { path: '^src/kernels/', pathNot: TESTS },
      to: { path: '^src/(?!kernels/)' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo in a relative path, or a package that is not installed).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|docs/api)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts', '.mjs', '.cjs', '.json'],
    },
  },
};
