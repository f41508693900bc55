#!/usr/bin/env bash
# Builds llama.cpp's own llama-bench (the native speed anchor) from the llama.cpp source that npm
# node-llama-cpp@3.22.1 bundles (llama/gitRelease.bundle; tools/llamacpp/setup.sh clones it), with
# cmake, CPU only, optimized for this machine (GGML_NATIVE). Prints the path of llama-bench.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$root/tools/llamacpp/setup.sh" >/dev/null
src="$root/tools/llamacpp/llama.cpp"
build="$root/bench/compare/llama-build"
if [ ! -x "$build/bin/llama-bench" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF >&2
  cmake --build "$build" --target llama-bench -j "$(nproc)" >&2
fi
echo "$build/bin/llama-bench"
