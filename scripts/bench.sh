#!/usr/bin/env bash
# make bench: Go benchmarks (side-by-side comparisons inside one run) and the
# end-to-end full load of a generated data set. Runs under with-infra.sh so the
# Kinesis comparisons have kinesalite. Results go to out/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=out/bench; mkdir -p "$OUT"
BENCHTIME=${BENCHTIME:-1x}
echo "== Go benchmarks (results in $OUT/go-bench.txt)"
go test -run '^$' -bench "${BENCH:-.}" -benchmem -benchtime "${GO_BENCHTIME:-1s}" -count "${COUNT:-1}" \
  ./tabledefs/... ./source/... ./mapping/... ./target/... ./task/... 2>&1 | tee "$OUT/go-bench.txt"
echo
echo "== End-to-end full load to the file target (results in $OUT/e2e.txt)"
./scripts/bench-e2e.sh 2>&1 | tee "$OUT/e2e.txt"
