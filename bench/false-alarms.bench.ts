/**
 * Zero false alarms, measured (docs/guide-fuzz.md, "Mutation score"): `varcheck fuzz` on every
 * correct kernel a user has, for N seeds, through the real CLI (worker isolation, deadlines).
 *
 *   npx tsx bench/false-alarms.bench.ts [--seeds 50] [--seed 20250107] [--time 2s] [--slack 20s] [--only name,name]
 *   npx tsx bench/false-alarms.bench.ts --merge a.json,b.json,… [--out FILE]
 *
 * Kernels: examples/kernels/my-kernel.ts, examples/kernels/onnxruntime.ts (onnxruntime-node,
 * float32), and the built-ins of bench/false-alarm-kernels*.ts (cpu/exact, cpu/low-rank and the
 * four gpu.js kernels on each Node backend: webasm, cpu and — under an X display — headless-gl;
 * WebGPU has no adapter in Node on these machines; and, where Chromium is installed, the four
 * gpu.js kernels in Chromium's WebGL2 and WebGPU and the two WGSL kernels in its WebGPU, each
 * module launching its own Chromium, which fuzz counts in the cold start). The FAVOR+ example is left out: it has no mode in which its claim
 * (0.05 on every input) holds. Every run must exit 0 and finish within
 * `--time` + the kernel's cold start (as fuzz measured it) + `--slack` (process start and module
 * load through tsx, and the one case every law runs even past its share of the budget). A run
 * that fails is a false alarm: the bench prints the seed, kernel, law, message and replay line, and
 * exits 1. Writes bench/results/false-alarms.json. `--merge` combines the files of runs split over
 * processes or sessions (e.g. one seed and kernel each, two at a time) into one file and one summary,
 * judged by the same rules; it refuses files whose `--time` or `--slack` differ.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromiumInstalled } from '../src/kernels/browser/chromium.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '50' },
    seed: { type: 'string', default: process.env.VARCHECK_SEED ?? '20250107' },
    time: { type: 'string', default: '2s' },
    slack: { type: 'string', default: '20s' },
    only: { type: 'string' },
    out: { type: 'string', default: 'bench/results/false-alarms.json' },
    merge: { type: 'string' },
  },
});

function seconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s);
  if (!m) throw new Error(`expected a duration such as 2s, 500ms or 1m, got ${s}`);
  return Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
}

const BUILTINS = 'bench/false-alarm-kernels.ts';
const ALL: { label: string; module: string; exportName?: string; needsDisplay?: boolean; chromium?: boolean }[] = [
  { label: 'my-kernel', module: 'examples/kernels/my-kernel.ts' },
  { label: 'onnxruntime', module: 'examples/kernels/onnxruntime.ts' },
  { label: 'cpu/exact', module: BUILTINS, exportName: 'exact' },
  { label: 'cpu/low-rank', module: BUILTINS, exportName: 'lowRank' },
  { label: 'gpujs/exact@webasm', module: BUILTINS, exportName: 'gpujsExactWebasm' },
  { label: 'gpujs/low-rank@webasm', module: BUILTINS, exportName: 'gpujsLowRankWebasm' },
  { label: 'gpujs/upsample-bicubic@webasm', module: BUILTINS, exportName: 'gpujsBicubicWebasm' },
  { label: 'gpujs/downsample-area@webasm', module: BUILTINS, exportName: 'gpujsAreaWebasm' },
  ...(['cpu', 'headlessgl'] as const).flatMap((b) =>
    (['exact', 'lowRank', 'bicubic', 'area'] as const).map((e) => ({
      label: `gpujs/${{ exact: 'exact', lowRank: 'low-rank', bicubic: 'upsample-bicubic', area: 'downsample-area' }[e]}@${b}`,
      module: `bench/false-alarm-kernels-${b}.ts`,
      exportName: e,
      needsDisplay: b === 'headlessgl',
    })),
  ),
  ...(['webgl2', 'webgpu'] as const).flatMap((b) =>
    (['gpujsExact', 'gpujsLowRank', 'gpujsBicubic', 'gpujsArea', ...(b === 'webgpu' ? ['wgslExact', 'wgslLowRank'] : [])] as const).map((e) => ({
      label: `${{ gpujsExact: 'gpujs/exact', gpujsLowRank: 'gpujs/low-rank', gpujsBicubic: 'gpujs/upsample-bicubic', gpujsArea: 'gpujs/downsample-area', wgslExact: 'wgsl/exact', wgslLowRank: 'wgsl/low-rank' }[e]}@chromium-${b}`,
      module: `bench/false-alarm-kernels-chromium-${b}.ts`,
      exportName: e,
      chromium: true,
    })),
  ),
];
const only = values.only ? new Set(String(values.only).split(',')) : undefined;
// headless-gl needs an X display (run the bench under `xvfb-run -a`); without one its kernels are left out, and said so.
const display = Boolean(process.env.DISPLAY);
// The Chromium kernels need Debian's Chromium and playwright-core; without them they are left out, and said so.
const chromium = chromiumInstalled();
const kernels = (only ? ALL.filter((k) => only.has(k.label)) : ALL).filter((k) => (display || !k.needsDisplay) && (chromium || !k.chromium));
const budget = seconds(String(values.time));
const slack = seconds(String(values.slack));
const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => Number(values.seed) + i);

interface Row {
  kernel: string;
  seed: number;
  exitCode: number | null;
  seconds: number;
  coldStartSeconds: number;
  limitSeconds: number;
  withinBudget: boolean;
  failures: { law: string; foundBy?: string; message: string; counterexample?: string; replay?: string }[];
}

async function run(): Promise<Row[]> {
  console.log(
    `varcheck fuzz false alarms: ${kernels.length} kernels × ${seeds.length} seeds (${seeds[0]}..${seeds[seeds.length - 1]}), --time ${values.time}, slack ${values.slack}; ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`,
  );
  if (!display) console.log('  headless-gl kernels left out: no X display (run under xvfb-run -a)');
  if (!chromium) console.log('  Chromium kernels left out: Chromium is not installed (apt-get install chromium)');
  const rows: Row[] = [];
  for (const k of kernels) {
    for (const seed of seeds) {
      const dir = mkdtempSync(join(tmpdir(), 'varcheck-fa-'));
      const json = join(dir, 'fuzz.json');
      const args = [
        'bin/varcheck.js',
        'fuzz',
        k.module,
        ...(k.exportName ? ['--export', k.exportName] : []),
        '--seed',
        String(seed),
        '--time',
        String(values.time),
        '--corpus',
        join(dir, 'corpus'),
        '--json',
        json,
      ];
      const t0 = performance.now();
      const p = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      const s = (performance.now() - t0) / 1000;
      let cold = 0;
      const failures: Row['failures'] = [];
      try {
        const r = JSON.parse(readFileSync(json, 'utf8')) as {
          coldStarts: { ms: number }[];
          results: { status: string; id?: string; name: string; foundBy?: string; failure?: { message: string; counterexample?: string; path?: string } }[];
        };
        cold = r.coldStarts.reduce((a, c) => a + c.ms, 0) / 1000;
        for (const x of r.results.filter((x) => x.status === 'failed' || x.status === 'inconclusive')) {
          failures.push({
            law: `${x.id ?? x.name} (${x.status})`,
            foundBy: x.foundBy,
            message: x.failure?.message ?? x.status,
            counterexample: x.failure?.counterexample?.slice(0, 2000),
            replay: x.failure?.path ? `{ seed: ${seed}, path: "${x.failure.path}" }` : undefined,
          });
        }
      } catch {
        failures.push({ law: '(no JSON written)', message: `${p.stderr}`.slice(-2000) });
      }
      const limit = budget + cold + slack;
      const row: Row = { kernel: k.label, seed, exitCode: p.status, seconds: s, coldStartSeconds: cold, limitSeconds: limit, withinBudget: s <= limit, failures };
      rows.push(row);
      const ok = p.status === 0 && row.withinBudget;
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${k.label} seed ${seed}: exit ${p.status}, ${s.toFixed(1)} s (cold start ${cold.toFixed(1)} s, limit ${limit.toFixed(1)} s)`);
      for (const f of failures)
        console.log(
          `       ${f.law}${f.foundBy ? `, found by ${f.foundBy}` : ''}: ${f.message}${f.replay ? `\n       replay: ${f.replay}` : ''}${f.counterexample ? `\n       input: ${f.counterexample.slice(0, 400)}` : ''}`,
        );
      if (p.status !== 0 && failures.length === 0) console.log(p.stdout.slice(-2000), p.stderr.slice(-2000));
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** The rows of earlier runs' JSON files (`--merge`), which must share one `--time` and `--slack`. */
function merged(files: string[]): Row[] {
  const out: Row[] = [];
  for (const f of files) {
    const r = JSON.parse(readFileSync(f, 'utf8')) as { args: { time: string; slack: string; seeds: number[] }; rows: Row[] };
    if (r.args.time !== values.time || r.args.slack !== values.slack)
      throw new Error(`--merge: ${f} ran with --time ${r.args.time} --slack ${r.args.slack}, not --time ${values.time} --slack ${values.slack}`);
    out.push(...r.rows);
  }
  return out;
}

const rows = values.merge ? merged(String(values.merge).split(',')) : await run();
const seen = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
const labels = [...new Set(rows.map((r) => r.kernel))];
const alarms = rows.filter((r) => r.exitCode !== 0);
const slow = rows.filter((r) => !r.withinBudget);
if (values.merge) {
  console.log(`merged ${rows.length} runs: ${labels.length} kernels, ${seen.length} seeds (${seen.join(', ')}), --time ${values.time}, slack ${values.slack}`);
  for (const r of rows.filter((x) => x.exitCode !== 0 || !x.withinBudget))
    console.log(
      `  FAIL ${r.kernel} seed ${r.seed}: exit ${r.exitCode}, ${r.seconds.toFixed(1)} s (limit ${r.limitSeconds.toFixed(1)} s)${r.failures.map((f) => `\n       ${f.law}: ${f.message}${f.replay ? ` replay: ${f.replay}` : ''}`).join('')}`,
    );
}
console.log(
  `\n${rows.length} runs: ${rows.length - alarms.length} exit 0, ${alarms.length} false alarm(s); ${slow.length} over time (budget + cold start + slack); max wall ${Math.max(...rows.map((r) => r.seconds)).toFixed(1)} s`,
);
for (const label of labels) {
  const mine = rows.filter((r) => r.kernel === label);
  const ws = mine.map((r) => r.seconds).sort((a, b) => a - b);
  console.log(
    `  ${label.padEnd(30)} ${mine.filter((r) => r.exitCode === 0).length}/${mine.length} pass, wall median ${ws[Math.floor(ws.length / 2)]?.toFixed(1)} s, max ${ws[ws.length - 1]?.toFixed(1)} s`,
  );
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  String(values.out),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, args: { seeds: seen, time: values.time, slack: values.slack }, falseAlarms: alarms.length, overTime: slow.length, rows }, null, 2)}\n`,
);
console.log(`wrote ${values.out}`);
if (alarms.length > 0 || slow.length > 0) process.exitCode = 1;
