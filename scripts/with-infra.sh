#!/usr/bin/env bash
# Runs a command with the local stand-ins up; always tears them down.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export INFRA_DIR=${INFRA_DIR:-$ROOT/.infra}
"$ROOT/scripts/infra-up.sh"
trap '"$ROOT/scripts/infra-down.sh"' EXIT
trap 'exit 130' INT TERM
. "$INFRA_DIR/env"
"$@"
