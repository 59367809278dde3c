#!/usr/bin/env bash
# Packs bench/gpu.ts for the GPU machine (docs/guide-gpu.md): the shared pack.sh builds .gpu-carry/
# (stripped Node 20, an esbuild bundle, Dawn, the Vulkan loader and its libraries); this adds
# .gpu-carry/ort.tar.xz (onnxruntime-node's Linux x86-64 CPU build, for the onnxruntime column) and
# .gpu-carry/h100.sh (a copy of bench/h100.sh). Run from anywhere inside the checkout; needs apt lists
# (apt-get update once) for pack.sh's `apt-get download`.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
pack=$(readlink -f "${VARCHECK_PACK:-../shared/gpu-machine/pack.sh}")
[ -f "$pack" ] || { echo "pack-h100.sh: no pack.sh at $pack (set VARCHECK_PACK)" >&2; exit 2; }
if [ -d .git ]; then
  bash "$pack" bench/gpu.ts .gpu-carry
else
  # A git worktree: .git is a file and pack.sh's `.git/info/exclude` line fails. Pack from a staging
  # directory of symlinks with a .git/ folder of its own (.gpu-carry/ is in .gitignore here).
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/.git/info"
  for f in * .npmrc; do [ -e "$f" ] && ln -s "$root/$f" "$stage/$f"; done
  (cd "$stage" && bash "$pack" bench/gpu.ts "$root/.gpu-carry")
fi
ort=$(mktemp -d)
mkdir -p "$ort/node_modules/onnxruntime-node/bin/napi-v6/linux" "$ort/node_modules/onnxruntime-common"
cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist "$ort/node_modules/onnxruntime-node/"
cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$ort/node_modules/onnxruntime-node/bin/napi-v6/linux/"
cp -r node_modules/onnxruntime-common/. "$ort/node_modules/onnxruntime-common/"
tar -C "$ort" -cf - node_modules | xz -T0 -6 > .gpu-carry/ort.tar.xz
rm -rf "$ort"
cp bench/h100.sh .gpu-carry/h100.sh
du -sh .gpu-carry
echo "packed; on the GPU machine, from the project root: bash bench/h100.sh"
