#!/usr/bin/env bash
# End-to-end full load of a generated data set (default 1 GB, 10 columns) from
# a local directory to the file target; prints rows/s and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
go run ./tools/benche2e -sluice bin/sluice -mb "${E2E_MB:-1024}" "$@"
