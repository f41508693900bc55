#!/usr/bin/env bash
# bench/compare: TinyLM vs llama.cpp's llama-bench (native) and vs wllama (headless Chromium), one command.
#   bash bench/compare/run.sh [--quick] [--shapes stories15M,SmolLM-135M,...] [--types q8_0,q4_0,q4_k_m] [--runs N] ...
# Builds what it needs (the CLI with its browser app, llama-bench, the harness, npm @wllama/wllama), caches
# the models in bench/compare/models/, prints a markdown table and writes bench/compare/results/<date>-<commit>.md.
# Options: bench/compare/README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
browser=1; native=1
for a in "$@"; do
  case "$a" in --no-browser) browser=0 ;; --no-native) native=0 ;; esac
done
if [ "$browser" = 1 ]; then
  dotnet build src/TinyLM.Cli -c Release -v q -nologo >&2
  [ -d "$here/node_modules/@wllama/wllama" ] || (cd "$here" && npm ci --no-audit --no-fund >&2)
fi
if [ "$native" = 1 ] && [ ! -x "$here/llama-build/bin/llama-bench" ]; then
  bash "$here/build-llama-bench.sh" >/dev/null
fi
dotnet build "$here/TinyLM.Compare" -c Release -v q -nologo -p:TinyLMSkipBrowser=true >&2
exec dotnet "$here/TinyLM.Compare/bin/Release/net10.0/TinyLM.Compare.dll" "$@"
