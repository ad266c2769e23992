#!/usr/bin/env bash
# Runs the ml-node's CUDA path on a CUDA host in one go: probes node-llama-cpp's CUDA backend,
# then the whole ml benchmark (embeddings + chat) with LLAMA_GPU=cuda. Prints BENCH lines.
# Needs: an NVIDIA driver, Node 20, the repository installed (pnpm install). No internet.
# For chat figures with real weights, put a GGUF in $MODEL_DIR/chat (see docs/ml-node.md);
# by default the chat figures come from the random-weight fixture.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "ml-node-gpu: no nvidia-smi: this script is for a CUDA host" >&2
  exit 1
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if [ ! -d node_modules ]; then
  npm install -g pnpm@12.4.2 >/dev/null 2>&1 || true
  pnpm install --frozen-lockfile
fi
export LLAMA_GPU=cuda
export BENCH_ML_CHAT_TOKENS=${BENCH_ML_CHAT_TOKENS:-256}
timeout 300 ./node_modules/.bin/tsx bench/ml/gpu-probe.ts
timeout 600 ./node_modules/.bin/tsx bench/ml/index.ts
