#!/usr/bin/env bash
# Regenerates tests/TinyLM.Tests/Quantization/Goldens/quantize/ with quantize-golden.c: for F32 (and
# one F16) GGUF models written by OUR tools, llama.cpp's own quantizer (llama_model_quantize of the
# prebuilt libllama from node-llama-cpp 3.22.1, no importance matrix) is run for every file type
# `tinylm quantize` offers, and each output tensor's type, shape and FNV-1a hash and the whole file's
# hash are recorded. tests/TinyLM.Tests/Quantization/ModelQuantizerTests.cs checks that TinyLM picks
# the same type for every tensor and writes the same bytes. Models (random weights, seed 1):
#   stories15M          dim 288, 6 layers, 6 heads (no GQA), FFN 768, stories260K's 512-token vocabulary:
#                       rows of 288 do not divide into super-blocks of 256, so K-quants fall back
#   stories15M-kv2      the same with 2 KV heads (n_gqa 3)
#   stories15M-256-kv1  dim 256, 4 heads, 1 KV head (n_gqa 4, the Q2_K attn_v rule), FFN 768
#   stories15M-f16      the stories15M model stored in F16 (the quantizer's F16 input path)
#   stories260K         the embedded default model (dim 64, FFN 172: 172 is not a multiple of 32, F16 fallback)
#   stories15M-llama2   stories15M with the 32000-token Llama 2 vocabulary (types only; the tests do not
#                       quantize it, they compare the plan)
# Needs what setup.sh needs, and the .NET SDK.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="$(bash tools/llamacpp/setup.sh)"
out="tests/TinyLM.Tests/Quantization/Goldens/quantize"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
rm -f "$out"/*.txt

dotnet build src/TinyLM.Cli -c Release -v q -nologo >/dev/null
tinylm() { dotnet "src/TinyLM.Cli/bin/Release/net10.0/TinyLM.Cli.dll" "$@"; }

all="ALL_F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K TQ1_0 TQ2_0"
vocab=models/stories260K.gguf
tinylm random-model --shape stories15M --type f32 --seed 1 --vocab "$vocab" -o "$tmp/stories15M.gguf"
tinylm random-model --shape stories15M --kv-heads 2 --type f32 --seed 1 --vocab "$vocab" -o "$tmp/stories15M-kv2.gguf"
tinylm random-model --shape stories15M-256 --kv-heads 1 --type f32 --seed 1 --vocab "$vocab" -o "$tmp/stories15M-256-kv1.gguf"
tinylm random-model --shape stories15M --type f16 --seed 1 --vocab "$vocab" -o "$tmp/stories15M-f16.gguf"
tinylm convert tests/TinyLM.Tests/TestData/vocab/llama2/tokenizer.model -o "$tmp/llama2-vocab.gguf"
tinylm random-model --shape stories15M --type f32 --seed 1 --vocab "$tmp/llama2-vocab.gguf" -o "$tmp/stories15M-llama2.gguf"
cp models/stories260K.gguf "$tmp/stories260K.gguf"

for name in stories15M stories15M-kv2 stories15M-256-kv1 stories260K stories15M-llama2; do
  "$build/quantize-golden" "$tmp/$name.gguf" "$out/$name.txt" $all
done
"$build/quantize-golden" "$tmp/stories15M-f16.gguf" "$out/stories15M-f16.txt" ALL_F32 F16 BF16 Q8_0 Q4_K_M Q6_K
(cd "$tmp" && sha256sum stories15M.gguf stories15M-kv2.gguf stories15M-256-kv1.gguf stories15M-f16.gguf stories260K.gguf stories15M-llama2.gguf) > "$out/models.sha256"
echo "wrote $(ls "$out" | wc -l) files, $(du -sh "$out" | cut -f1), to $out" >&2
