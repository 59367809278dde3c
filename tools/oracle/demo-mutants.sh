#!/usr/bin/env bash
# Show that the live PyTorch laws can fail: apply one spec break at a time, run the matching
# law of properties/pytorch.test.ts at VARCHECK_SEED (default 20250107), print its
# "first failure at case N after T s" line, and restore the file (also on Ctrl-C).
# Run from the repository root with python3-torch installed:  bash tools/oracle/demo-mutants.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export VARCHECK_SEED="${VARCHECK_SEED:-20250107}"
backup=""
target=""
restore() { if [ -n "$backup" ]; then cp "$backup" "$target"; rm -f "$backup"; backup=""; fi; }
trap restore EXIT INT TERM

mutate() { # name, file, law filter, perl substitution
  local name="$1" file="$2" filter="$3" subst="$4"
  git diff --quiet -- "$file" || { echo "$file has local changes; refusing to mutate it" >&2; exit 1; }
  target="$file"; backup="$(mktemp)"; cp "$file" "$backup"
  perl -0pi -e "$subst" "$file"
  if cmp -s "$file" "$backup"; then echo "$name: the substitution did not apply" >&2; exit 1; fi
  echo "== $name ($file)"
  local out
  out="$(npx vitest run properties/pytorch.test.ts -t "$filter" 2>&1 || true)"
  restore
  grep -q "spec ≠ PyTorch" <<<"$out" || { echo "$name: NOT caught"; echo "$out" | tail -20; exit 1; }
  grep -m1 -o "spec ≠ PyTorch.*" <<<"$out" | sed 's/\x1b\[[0-9;]*m//g'
  grep -m1 -o "first failing case: .*" <<<"$out"
}

mutate 'bicubic constant a = -0.5' spec/interpolation.ts 'bicubic: spec' 's/PYTORCH_BICUBIC_A = -0\.75;/PYTORCH_BICUBIC_A = -0.5;/'
mutate 'align_corners=True coordinates' spec/interpolation.ts 'bicubic: spec' 's|const x = \(size / size2\) \* \(i \+ 0\.5\) - 0\.5;|const x = size2 > 1 ? ((size - 1) / (size2 - 1)) * i : 0;|'
mutate 'block-causal key limit shifted by one' spec/mask.ts 'attention: spec' 's/Int32Array\.from\(lv, \(k\) => ends\[k\]\)/Int32Array.from(lv, (k) => Math.min(ends[k] + 1, lk))/'
mutate 'default scale 1/sqrt(d)' spec/attention.ts 'attention: spec' 's|scale: options\.scale \?\? 1 / q\.cols|scale: options.scale ?? 1 / Math.sqrt(q.cols)|'
echo "all four breaks were caught"
