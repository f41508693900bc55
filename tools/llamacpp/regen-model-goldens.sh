#!/usr/bin/env bash
# Regenerates the llama.cpp goldens that tests/TinyLM.Tests/Models/LlamaCppGoldenTests.cs checks on
# every run, from the real peer (prebuilt llama.cpp of node-llama-cpp 3.22.1, see setup.sh):
#   1. converts ../shared/models/stories260K with OUR converter into models/stories260K.gguf (the
#      embedded default model) and records llama.cpp's greedy 128 tokens and logits for it;
#   2. builds random-weight Llama models in the stories15M shape (6 and 2 KV heads) with the Llama 2
#      vocabulary, in F16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1, with OUR writer (tinylm random-model),
#      and records llama.cpp's greedy 64 tokens and last-prompt-position logits for each; also in
#      IQ4_NL (blocks of 32);
#   3. the same in the stories15M-256 shape (dim 256, 4 heads, FFN 768: rows divisible by 256) with 4
#      and 2 KV heads, in Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, TQ1_0 and TQ2_0 (super-blocks of 256), with
#      the 512-token vocabulary of stories260K (so the embedding and output matrices stay small and
#      the tests that rebuild these models with the reference quantizers stay quick).
# llama.cpp runs its portable x86-64 CPU backend (libggml-cpu-x64.so: no SIMD beyond SSE2, no FMA),
# whose arithmetic TinyLM reproduces bit for bit; see docs/numerics.md.
# Usage: tools/llamacpp/regen-model-goldens.sh [path/to/shared]   (default: ../shared beside the repo)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="$(cd "${1:-$root/../shared}" && pwd)"
cd "$root"
build="$(bash tools/llamacpp/setup.sh)"
out="tests/TinyLM.Tests/Goldens/llamacpp"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

dotnet build src/TinyLM.Cli -c Release -v q -nologo >/dev/null
tinylm() { dotnet "src/TinyLM.Cli/bin/Release/net10.0/TinyLM.Cli.dll" "$@"; }

prompt="Once upon a time"
tinylm convert "$shared/models/stories260K/stories260K.bin" --tokenizer "$shared/models/stories260K/tok512.bin" \
  --name stories260K -o models/stories260K.gguf
"$build/llama-reference" models/stories260K.gguf "$prompt" 128 "$out/stories260K-f32" --all-prompt-logits --step-logits 128 --cpu-variant x64
# The default model is embedded in the CLI: rebuild it so the random models below use the current file.
dotnet build src/TinyLM.Cli -c Release -v q -nologo >/dev/null

tinylm convert "$shared/vocab/llama2/tokenizer.model" -o "$tmp/llama2-vocab.gguf"
: > "$out/models.sha256"
for kv in 6 2; do
  for type in f16 q8_0 q4_0 q4_1 q5_0 q5_1 iq4_nl; do
    name="stories15M-kv$kv-$type"
    tinylm random-model --shape stories15M --kv-heads "$kv" --type "$type" --seed 1 \
      --vocab "$tmp/llama2-vocab.gguf" -o "$tmp/$name.gguf"
    (cd "$tmp" && sha256sum "$name.gguf") >> "$out/models.sha256"
    "$build/llama-reference" "$tmp/$name.gguf" "$prompt" 64 "$out/$name" --step-logits 4 --cpu-variant x64
  done
done
for kv in 4 2; do
  for type in q2_K q3_K q4_K q5_K q6_K tq1_0 tq2_0; do
    name="stories15M-256-kv$kv-$type"
    tinylm random-model --shape stories15M-256 --kv-heads "$kv" --type "$type" --seed 1 \
      --vocab models/stories260K.gguf -o "$tmp/$name.gguf"
    (cd "$tmp" && sha256sum "$name.gguf") >> "$out/models.sha256"
    "$build/llama-reference" "$tmp/$name.gguf" "$prompt" 64 "$out/$name" --step-logits 4 --cpu-variant x64
  done
done
(cd models && sha256sum stories260K.gguf) >> "$out/models.sha256"
echo "goldens written to $out" >&2
