#!/usr/bin/env bash
# make demo: runs under scripts/with-infra.sh (stand-ins up, endpoints exported).
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./tools/demo -sluice bin/sluice -data testdata/demo -work out/demo
