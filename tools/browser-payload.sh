#!/usr/bin/env bash
# Reports the size of the browser app that `tinylm serve` delivers: raw bytes and the brotli
# bytes a browser downloads (the publish step's precompressed .br files), for the .NET runtime
# (_framework) and for TinyLM's own scripts. Usage: tools/browser-payload.sh [Release|Debug]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="$root/src/TinyLM.Cli/bin/${1:-Release}/net10.0/browser/wwwroot"
[ -d "$app/_framework" ] || { echo "build the CLI first: dotnet build src/TinyLM.Cli -c ${1:-Release}" >&2; exit 1; }
sum() { local raw=0 br=0; for f in "$@"; do raw=$((raw + $(stat -c %s "$f"))); [ -f "$f.br" ] && br=$((br + $(stat -c %s "$f.br"))) || br=$((br + $(stat -c %s "$f"))); done; echo "$raw $br"; }
mapfile -t fw < <(find "$app/_framework" -type f ! -name '*.br' ! -name '*.gz')
mapfile -t js < <(find "$app" -maxdepth 1 -type f \( -name '*.js' -o -name '*.html' -o -name '*.css' \) ! -name '*.br' ! -name '*.gz')
read -r fraw fbr < <(sum "${fw[@]}")
read -r jraw jbr < <(sum "${js[@]}")
printf '%-28s %12s %12s\n' part raw brotli
printf '%-28s %12d %12d\n' ".NET runtime (_framework)" "$fraw" "$fbr"
printf '%-28s %12d %12d\n' "TinyLM page and scripts" "$jraw" "$jbr"
printf '%-28s %12d %12d\n' total "$((fraw + jraw))" "$((fbr + jbr))"
for f in "${fw[@]}"; do printf '  %-52s %10d %10d\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(stat -c %s "$f.br" 2>/dev/null || echo 0)"; done | sort -k2 -n -r | head -8
