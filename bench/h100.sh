#!/usr/bin/env bash
# The one prepared run on the H100 machine (docs/guide-gpu.md), from the project root, after
# bench/pack-h100.sh has built .gpu-carry/ here: unpacks onnxruntime-node, runs bench/gpu.ts through
# .gpu-carry/run.sh under a 9-minute timeout, and writes bench/results/h100.md, h100.json and
# h100.log (copied to $OUT as well when the run tool sets it). Extra arguments go to bench/gpu.ts.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f .gpu-carry/run.sh ] || { echo "h100.sh: .gpu-carry/ is missing: run bash bench/pack-h100.sh first (and carry .gpu-carry)" >&2; exit 2; }
ort=/var/tmp/varcheck-ort
rm -rf "$ort"; mkdir -p "$ort"
if [ -f .gpu-carry/ort.tar.xz ]; then
  if command -v xz >/dev/null; then xz -dc .gpu-carry/ort.tar.xz | tar -C "$ort" -xf -
  else python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' .gpu-carry/ort.tar.xz | tar -C "$ort" -xf -; fi
  export VARCHECK_ORT_DIR="$ort/node_modules"
fi
mkdir -p bench/results
timeout -k 10 540 bash .gpu-carry/run.sh --json "$root/bench/results/h100.json" --md "$root/bench/results/h100.md" "$@" 2>&1 | tee bench/results/h100.log
rc=${PIPESTATUS[0]}
echo "bench/gpu.ts exit status: $rc"
if [ -n "${OUT:-}" ]; then cp bench/results/h100.md bench/results/h100.json bench/results/h100.log "$OUT"/ 2>/dev/null; fi
exit "$rc"
