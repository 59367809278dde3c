#!/usr/bin/env bash
# Pack varcheck and use it the way a user does, from an empty folder:
#   1. `npm pack` (prepare builds dist/); print the tarball's file count and size; fail if it ships
#      tests, fixtures, mutants, the golden JSON or TypeScript sources;
#   2. CPU-only install (`npm install ./varcheck-x.y.z.tgz`, timed; no gpu.js, no gl build);
#   3. `npx varcheck verify` on the CPU kernels (fast filter), and the clear message when gpu.js is absent;
#   4. `npx varcheck fuzz` on a user's .ts kernel written here;
#   5. a vitest file using `describeKernel` from 'varcheck/vitest' (after `npm install -D vitest @fast-check/vitest`);
#   6. gpu.js without building its optional gl addon (`npm install gpu.js --ignore-scripts`), then
#      `npx varcheck verify --backends webasm --browser ''` (fast filter);
#   7. only with PACK_CHECK_GL=1: `npm rebuild gl` (builds headless-gl where no prebuilt binary downloads), timed.
# Usage: tools/pack-check.sh            (env: PACK_CHECK_DIR to keep the work folder, PACK_CHECK_GL=1)
# Uses a fresh npm cache in the work folder, so the install times are cold-cache times.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${PACK_CHECK_DIR:-$(mktemp -d -t varcheck-pack-XXXXXX)}
mkdir -p "$WORK"
export npm_config_cache="$WORK/npm-cache" npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
SEED=${VARCHECK_SEED:-20250107}
step() { printf '\n== %s\n' "$*"; }
seconds() { local t0=$1; echo "$(( $(date +%s) - t0 ))"; }

step "npm pack (prepare builds dist/)"
npm pack --pack-destination "$WORK" --json >"$WORK/pack.json"
read -r TARBALL FILES SIZE UNPACKED < <(node -e '
  const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(p.filename, p.entryCount, p.size, p.unpackedSize);' "$WORK/pack.json")
TARBALL="$WORK/$(basename "$TARBALL")"
echo "tarball: $TARBALL"
echo "files: $FILES, size: $SIZE bytes ($(( SIZE / 1024 )) KiB packed), unpacked: $UNPACKED bytes ($(( UNPACKED / 1024 )) KiB)"
node -e '
  const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const bad = p.files.map((f) => f.path).filter((f) =>
    /\.test\.|(^|\/)fixtures\/|mutants|golden|\.json$/.test(f) && f !== "package.json" ||
    /\.ts$/.test(f) && !/\.d\.ts$/.test(f) || !/^(bin\/|dist\/|docs\/[^/]+\.md$|README\.md$|package\.json$|LICENSE)/.test(f));
  if (bad.length) { console.error("the tarball ships files users do not need:\n  " + bad.join("\n  ")); process.exit(1); }
  console.log("contents ok: bin/, dist/ (no tests, fixtures, mutants, golden JSON, .ts sources), docs/*.md, README.md");' "$WORK/pack.json"

APP="$WORK/app"
rm -rf "$APP" && mkdir -p "$APP" && cd "$APP"
printf '{ "name": "pack-check-app", "private": true, "type": "module" }\n' >package.json

step "CPU-only install: npm install $(basename "$TARBALL")"
t0=$(date +%s)
npm install "$TARBALL" >/dev/null
echo "install time (CPU-only, cold cache): $(seconds "$t0") s; node_modules: $(du -sm node_modules | cut -f1) MB"
for peer in gpu.js gl webgpu playwright-core vitest @fast-check/vitest; do
  if [ -e "node_modules/$peer" ]; then echo "optional peer $peer was installed: it must be opt-in"; exit 1; fi
done
echo "no optional peer installed (gpu.js, gl, webgpu, playwright-core, vitest, @fast-check/vitest)"

step "missing optional peers are named, with the command that installs them"
node --input-type=module -e "import('varcheck/vitest').then(() => process.exit(1), (e) => { console.log(e.name + ' ' + e.message); process.exit(e.code === 'MISSING_PEER' ? 0 : 1); })"
if [ -x "${VARCHECK_CHROMIUM:-/usr/bin/chromium}" ]; then
  npx varcheck verify --backends '' --browser webgl2 --filter 'no law has this name' | tee "$WORK/verify-browser.txt"
  grep -q 'npm install playwright-core' "$WORK/verify-browser.txt" || { echo "verify --browser did not say how to install playwright-core"; exit 1; }
fi

step "npx varcheck verify on the CPU kernels (no gpu.js: the gpu.js backends say how to get them)"
npx varcheck verify --seed "$SEED" --runs 5 --filter 'matches the spec' --browser '' | tee "$WORK/verify-cpu.txt"
grep -q 'npm install gpu.js' "$WORK/verify-cpu.txt" || { echo "verify did not say how to install gpu.js"; exit 1; }
grep -q '^cpu/exact' "$WORK/verify-cpu.txt" || { echo "verify did not run the cpu kernels"; exit 1; }

step "npx varcheck fuzz on a user's .ts kernel"
mkdir -p kernels
cat >kernels/my-kernel.ts <<'EOF'
// A user's kernel: float64 softmax attention with the row-max shift and the block-causal mask.
import type { AttentionInput, AttentionKernel, Matrix } from 'varcheck';

function run({ q, k, v, scale, mask }: AttentionInput): Matrix {
  const d = q.cols;
  const dv = v.cols;
  const limit = new Int32Array(q.rows).fill(k.rows);
  if (mask.kind === 'block-causal') {
    let start = 0;
    for (const b of mask.blocks) {
      limit.fill(start + b, start, start + b);
      start += b;
    }
  }
  const out = new Float64Array(q.rows * dv);
  const z = new Float64Array(k.rows);
  for (let i = 0; i < q.rows; i++) {
    let max = -Infinity;
    for (let j = 0; j < limit[i]; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += q.data[i * d + t] * k.data[j * d + t];
      z[j] = scale * dot;
      if (z[j] > max) max = z[j];
    }
    let sum = 0;
    for (let j = 0; j < limit[i]; j++) sum += (z[j] = Math.exp(z[j] - max));
    for (let j = 0; j < limit[i]; j++) for (let t = 0; t < dv; t++) out[i * dv + t] += (z[j] / sum) * v.data[j * dv + t];
  }
  return { rows: q.rows, cols: dv, data: out };
}

const kernel: AttentionKernel = { name: 'user/softmax', op: 'attention', exact: true, masks: ['none', 'block-causal'], precision: 'float64', run };
export default kernel;
EOF
npx varcheck fuzz kernels/my-kernel.ts --time 3s --runs 20 --seed "$SEED" --corpus "$WORK/corpus"

step "describeKernel from 'varcheck/vitest' in the user's vitest suite"
t0=$(date +%s)
npm install -D vitest @fast-check/vitest >/dev/null
echo "install time (vitest, @fast-check/vitest): $(seconds "$t0") s"
cat >kernels/my-kernel.test.ts <<'EOF'
import { describeKernel } from 'varcheck/vitest';
import myKernel from './my-kernel.js';

describeKernel(myKernel, { numRuns: 10 });
EOF
npx vitest run --reporter=dot kernels/my-kernel.test.ts

step "gpu.js without building the gl addon (npm install gpu.js --ignore-scripts), then the webasm backend"
t0=$(date +%s)
npm install gpu.js --ignore-scripts >/dev/null
echo "install time (gpu.js, gl not built): $(seconds "$t0") s"
npx varcheck verify --seed "$SEED" --runs 3 --filter 'matches the spec' --backends webasm --browser '' | tee "$WORK/verify-webasm.txt"
grep -q '^gpujs/exact@webasm' "$WORK/verify-webasm.txt" || { echo "verify did not run gpujs/exact@webasm"; exit 1; }

step "the user's vitest suite still runs after the gpu.js install"
npx vitest run --reporter=dot kernels/my-kernel.test.ts >/dev/null && echo "vitest ok"

if [ "${PACK_CHECK_GL:-}" = 1 ]; then
  step "headless-gl opt-in: npm rebuild gl (builds the addon where no prebuilt binary downloads)"
  t0=$(date +%s)
  npm rebuild gl >/dev/null
  echo "build time (gl): $(seconds "$t0") s"
  test -f node_modules/gl/build/Release/webgl.node || { echo "the gl addon did not build"; exit 1; }
fi

step "pack-check ok ($WORK): $FILES files, $SIZE bytes packed, $UNPACKED bytes unpacked"
cd "$ROOT"
