#!/usr/bin/env bash
# Stops what infra-up.sh started (by recorded PID, after checking the command
# line still matches) and removes the private PostgreSQL cluster. Idempotent.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INFRA_DIR=${INFRA_DIR:-$ROOT/.infra}; RUN=$INFRA_DIR/run
PG_OS_USER=${PG_OS_USER:-postgres}
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [ -n "$s" ] && [[ "$s" != Z* ]]; }
stop() { local pidf=$1 pattern=$2 pid
  [ -f "$pidf" ] || return 0; pid=$(cat "$pidf")
  if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$pattern"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 250); do alive "$pid" || break; sleep 0.02; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidf"; }
stop "$RUN/kinesis.pid" 'kinesalite\|kinesis-local'
stop "$RUN/kinesis-local.pid" 'kinesis-local'
stop "$RUN/s3.pid" 'gofakes3'
if [ -f "$RUN/pgdir" ]; then
  PGDIR=$(cat "$RUN/pgdir")
  PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
    else "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1; fi
  fi
  case "$PGDIR" in */pginfra.*) rm -rf "$PGDIR" ;; esac
fi
rm -rf "$RUN" "$INFRA_DIR/env"
exit 0
