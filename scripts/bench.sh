#!/usr/bin/env bash
# make bench (inside scripts/with-infra.sh, so the Kinesis comparisons have
# kinesalite): the Go benchmarks behind each target in BENCHMARKS.md — each
# comparison runs both sides inside one benchmark — then the end-to-end full
# load. Everything is printed and kept in out/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=out/bench; mkdir -p "$OUT"
uptime | tee "$OUT/uptime.txt"
bench() { # package, -bench pattern, extra flags…
  local pkg=$1 pat=$2; shift 2
  echo "== $pkg -bench '$pat' $*"
  go test -run '^$' -bench "$pat" -benchmem "$@" "./$pkg" | grep -E '^(Benchmark|ok|FAIL|---)' || true
}
{
  bench source/s3csv 'TypedVsSplit|HeapFlat' -benchtime 3x -count 3
  bench source/s3csv 'TypedRows|EncodingCSVSplit|ReaderSplit' -benchtime 5x -count 2
  bench task 'MappingVsCSVParse' -benchtime 3x -count 3
  bench mapping 'Map$|TypedParseSameRows' -count 2
  bench target/kinesis 'Encode' -cpu 1 -count 2
  bench target/kinesis 'KinesaliteProducer|ShardLimited' -benchtime 1x
  bench target/kinesis 'KinesaliteHotKey|HotKeyLatency' -benchtime 1x
  bench target/s3parquet 'ParquetWrite' -benchtime 200000x
  bench source/postgres/pgrepl '.' -benchtime 200000x
  bench tabledefs 'ParseValue$' -benchtime 200000x
  bench task 'RunnerOverhead' -benchtime 1000000x
} 2>&1 | tee "$OUT/go-bench.txt"
echo
echo "== end-to-end full load (results in $OUT/e2e.txt)"
./scripts/bench-e2e.sh 2>&1 | grep -v '^{' | tee "$OUT/e2e.txt"
