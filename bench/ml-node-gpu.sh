#!/usr/bin/env bash
# Runs the ml-node's CUDA path on a CUDA host in one go: probes node-llama-cpp's CUDA backend,
# then the whole ml benchmark (embeddings + chat) with LLAMA_GPU=cuda. Prints BENCH lines.
# Needs: an NVIDIA driver, Node 20, and the repository already installed: no internet is used, and
# none is needed if the install travels with the tree (node_modules at the root and in each
# workspace package, e.g. apps/ml-node/node_modules; the CUDA binaries are the npm packages
# @node-llama-cpp/linux-x64-cuda and -cuda-ext in node_modules/.pnpm). Without them it stops and
# says so; `pnpm install --frozen-lockfile` (pnpm 12.4.2) installs them where the npm registry
# is reachable.
# Chat figures: by default from the random-weight fixture. For real weights, name a GGUF:
#   BENCH_CHAT_GGUF=/path/model.gguf bench/ml-node-gpu.sh
# Both the server (as MODEL_DIR/chat/<id>.gguf) and the in-process baseline then run that file,
# and the chat lines name it. Both sides hold the model at once: it must fit in VRAM twice.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "ml-node-gpu: no nvidia-smi: this script is for a CUDA host" >&2
  exit 1
fi
missing=()
nlc=apps/ml-node/node_modules/node-llama-cpp
cuda='node_modules/.pnpm/@node-llama-cpp+linux-x64-cuda@*'
[ -x node_modules/.bin/tsx ] || missing+=(node_modules/.bin/tsx)
[ -e "$nlc" ] || missing+=("$nlc")
compgen -G "$cuda" >/dev/null || missing+=("$cuda")
if [ ${#missing[@]} -gt 0 ]; then
  echo "ml-node-gpu: the repository is not installed here (missing: ${missing[*]})." >&2
  echo "  Carry node_modules and apps/ml-node/node_modules from an installed checkout, or run" >&2
  echo "  'pnpm install --frozen-lockfile' first (needs the npm registry)." >&2
  echo "  This script installs nothing." >&2
  exit 1
fi
if [ -n "${BENCH_CHAT_GGUF:-}" ] && [ ! -f "$BENCH_CHAT_GGUF" ]; then
  echo "ml-node-gpu: BENCH_CHAT_GGUF ($BENCH_CHAT_GGUF): no such file" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
export LLAMA_GPU=cuda
export BENCH_ML_CHAT_TOKENS=${BENCH_ML_CHAT_TOKENS:-256}
timeout 300 ./node_modules/.bin/tsx bench/ml/gpu-probe.ts
timeout 600 ./node_modules/.bin/tsx bench/ml/index.ts
