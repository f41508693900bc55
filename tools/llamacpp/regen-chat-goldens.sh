#!/usr/bin/env bash
# Regenerates tests/TinyLM.Tests/Goldens/chat/ with chat-template.c: the prompts that llama.cpp's
# built-in (non-Jinja) chat templates produce (llama_chat_apply_template, llama_chat_builtin_templates)
# and the template llm_chat_detect_template picks for the Jinja templates of llama.cpp's
# tests/test-chat-template.cpp and models/templates/, from the prebuilt libllama of node-llama-cpp
# 3.22.1 (llama.cpp release v0.5.0). tests/TinyLM.Tests/Generation/ChatTemplateTests.cs checks
# TinyLM's ChatTemplate against them. Needs what setup.sh needs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(bash "$here/setup.sh")"
out="$(cd "$here/../.." && pwd)/tests/TinyLM.Tests/Goldens/chat"
rm -rf "$out"
mkdir -p "$out"
"$build/chat-template" "$here/llama.cpp" "$out"
echo "wrote $(ls "$out" | wc -l) files, $(du -sh "$out" | cut -f1), to $out"
