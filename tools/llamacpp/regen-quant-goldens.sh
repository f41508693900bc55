#!/usr/bin/env bash
# Regenerates tests/TinyLM.Tests/Quantization/Goldens/ with quant-golden.c: the reference bytes,
# dequantized floats and generic dot products of llama.cpp (prebuilt by node-llama-cpp 3.22.1,
# release v0.5.0) that TinyLM's tensor types must reproduce bit for bit: the 32-element types on
# input.f32, the super-block types (Q2_K ... Q8_K, TQ1_0, TQ2_0) and IQ4_NL on input_k.f32. Needs
# what setup.sh needs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(bash "$here/setup.sh")"
out="$(cd "$here/../.." && pwd)/tests/TinyLM.Tests/Quantization/Goldens"
find "$out" -type f ! -name .gitattributes -delete 2>/dev/null || true  # keep .gitattributes (binary files)
mkdir -p "$out"
"$build/quant-golden" "$out"
echo "wrote $(ls "$out" | wc -l) files, $(du -sh "$out" | cut -f1), to $out"
