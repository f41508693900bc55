#!/usr/bin/env bash
# Installs llama.cpp as TinyLM's reference peer and builds the small C programs in this folder
# against it:
#   - npm node-llama-cpp@3.22.1 with only its prebuilt linux-x64 binaries (no CUDA/Vulkan builds);
#   - the llama.cpp source that node-llama-cpp bundles (llama/gitRelease.bundle), for the headers;
#   - every *.c here, compiled with gcc into build/, linked to the prebuilt libllama/libggml.
# Idempotent; prints the folder holding the built programs. Needs node, npm, git and gcc.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if [ ! -d node_modules/@node-llama-cpp/linux-x64 ]; then
  # `npm install`, not `npm ci`: node-llama-cpp's optional builds for other platforms (win, mac,
  # riscv64) are not all served by this registry at 3.22.1, so the lock file omits them and
  # `npm ci` would call it out of sync. Versions are pinned exactly in package.json and the lock.
  npm install --ignore-scripts --omit=optional --no-audit --no-fund >&2
fi
bins="$here/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
[ -f "$bins/libllama.v0.5.0.so" ] || { echo "prebuilt libllama not found in $bins" >&2; exit 1; }

if [ ! -f llama.cpp/include/llama.h ]; then
  rm -rf llama.cpp
  git -c advice.detachedHead=false clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle llama.cpp >&2
fi

mkdir -p build
for src in "$here"/*.c; do
  [ -e "$src" ] || continue
  out="build/$(basename "$src" .c)"
  if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
    gcc -O2 -std=c11 -Wall -Werror -DLLAMACPP_BINS="\"$bins\"" -o "$out" "$src" \
      -I llama.cpp/include -I llama.cpp/ggml/include \
      -L "$bins" -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so -l:libggml-base.so -lm \
      -Wl,-rpath,"$bins" >&2
  fi
done
echo "$here/build"
