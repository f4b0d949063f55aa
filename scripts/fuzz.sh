#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a bounded time each.
#
#   scripts/fuzz.sh [seconds]      (default 10 per target)
#
# A failing input is written by `go test` to <pkg>/testdata/fuzz/<Target>/;
# commit it with the fix so it stays in the seed corpus as a regression
# test. The seed corpus itself also runs in every plain `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
case $secs in
  ''|*[!0-9]*) echo "usage: $0 [seconds per target]" >&2; exit 2 ;;
esac

# package:target pairs; add new targets here.
targets=(
  ./api:FuzzRatingBody
  ./api:FuzzStudyBody
  ./api:FuzzInstrumentBody
  ./api:FuzzQuery
  ./internal/instrument:FuzzValidateScore
  ./internal/instrument:FuzzParseDefinition
  ./internal/stats:FuzzNoNaN
)

for pt in "${targets[@]}"; do
  pkg=${pt%%:*} target=${pt#*:}
  printf '\n== fuzz %s %s for %ss\n' "$pkg" "$target" "$secs"
  go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s"
done
