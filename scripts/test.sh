#!/usr/bin/env bash
# make test, inside scripts/with-infra.sh: every package with the race
# detector, then the crash test that kills child processes, which skips itself
# under -race (the detector slows the child too much to kill it mid-run).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -race -count=1 ./...
go test -count=1 -run 'TestKill9Resume' ./task/
