#!/usr/bin/env bash
# Starts the local stand-ins (kinesalite or kinesis-local, plus kinesis-local for
# ARN-only tests, gofakes3, a private PostgreSQL 15 cluster with
# wal_level=logical) on random loopback ports and
# writes their endpoints to $INFRA_DIR/env. Tears down whatever it started if
# any step fails.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
INFRA_DIR=${INFRA_DIR:-$ROOT/.infra}; RUN=$INFRA_DIR/run
KINESIS_IMPL=${INFRA_KINESIS:-kinesalite}; PG_OS_USER=${PG_OS_USER:-postgres}
[ -e "$INFRA_DIR/env" ] && { echo "infra already up; run scripts/infra-down.sh" >&2; exit 1; }
mkdir -p "$RUN" "$INFRA_DIR/bin"
freeport() { local p; for _ in $(seq 1 100); do p=$(shuf -i 20000-60999 -n 1)
  ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return 0; }; done; return 1; }
waitport() { local pid=$1 port=$2 log=$3; for _ in $(seq 1 1500); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
  kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; return 1; }; sleep 0.02; done; return 1; }
ok=0; trap '[ "$ok" = 1 ] || INFRA_DIR="$INFRA_DIR" "$ROOT/scripts/infra-down.sh" || true' EXIT

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
EMU=$ROOT/tools/emulators
# The lock lists DuckDB's bindings for other platforms as entries without a
# download: the registry here serves only linux's, and npm ci needs every
# optional dependency listed (it skips the ones for other platforms).
[ -d "$EMU/node_modules" ] && [ ! "$EMU/package-lock.json" -nt "$EMU/node_modules/.package-lock.json" ] \
  || npm ci --prefix "$EMU" --no-audit --no-fund --loglevel=error >/dev/null
[ -x "$INFRA_DIR/bin/gofakes3" ] && [ ! "$ROOT/go.mod" -nt "$INFRA_DIR/bin/gofakes3" ] \
  || (cd "$ROOT" && go build -o "$INFRA_DIR/bin/gofakes3" github.com/johannesboyne/gofakes3/cmd/gofakes3)

KPORT=$(freeport)
# kinesis-local (kinesis-mock) on plain HTTP at port $1, logging to $2.
kinesis_local() { KINESIS_MOCK_CERT_PATH="$EMU/node_modules/kinesis-local/server.json" KINESIS_MOCK_PLAIN_PORT=$1 \
  KINESIS_MOCK_TLS_PORT=$(freeport) LOG_LEVEL=WARN CREATE_STREAM_DURATION=50ms DELETE_STREAM_DURATION=50ms \
    nohup node "$EMU/node_modules/kinesis-local/main.js" >"$2" 2>&1 & }
if [ "$KINESIS_IMPL" = kinesis-local ]; then
  kinesis_local "$KPORT" "$RUN/kinesis.log"
else
  # kinesalite throws (and dies) when a client drops a request mid-body, as a
  # killed sluice does in the crash tests: survive that one error.
  nohup node -e "process.on('uncaughtException', e => { if (e.code === 'ECONNRESET') return; console.error(e); process.exit(1) });
    require(process.argv[1])({createStreamMs:50,deleteStreamMs:50,updateStreamMs:50,shardLimit:100}).listen(+process.argv[2],'127.0.0.1')" \
    "$EMU/node_modules/kinesalite" "$KPORT" >"$RUN/kinesis.log" 2>&1 &
fi; echo $! >"$RUN/kinesis.pid"
# kinesis-local as well (StreamARN-only requests, which kinesalite rejects),
# exported as KINESIS_LOCAL_ENDPOINT.
KLPORT=$KPORT
if [ "$KINESIS_IMPL" != kinesis-local ]; then
  KLPORT=$(freeport); kinesis_local "$KLPORT" "$RUN/kinesis-local.log"; echo $! >"$RUN/kinesis-local.pid"; fi
SPORT=$(freeport)
nohup "$INFRA_DIR/bin/gofakes3" -host "127.0.0.1:$SPORT" -backend memory -quiet >"$RUN/s3.log" 2>&1 &
echo $! >"$RUN/s3.pid"

PGPORT=$(freeport); PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/pginfra.XXXXXX"); echo "$PGDIR" >"$RUN/pgdir"
mkdir -p "$PGDIR/sock"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then
  id "$PG_OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER"
  chown -R "$PG_OS_USER": "$PGDIR"; fi
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$PGDIR/initdb.log" 2>&1
printf '%s\n' "listen_addresses = '127.0.0.1'" "port = $PGPORT" "unix_socket_directories = '$PGDIR/sock'" \
  "wal_level = logical" "max_replication_slots = 20" "max_wal_senders = 20" "fsync = off" "full_page_writes = off" \
  >>"$PGDIR/data/postgresql.conf"                       # synchronous_commit stays on: off delays WAL shipping 200 ms
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 start >/dev/null
waitport "$(cat "$RUN/kinesis.pid")" "$KPORT" "$RUN/kinesis.log"
waitport "$(cat "$RUN/s3.pid")" "$SPORT" "$RUN/s3.log"
[ "$KLPORT" = "$KPORT" ] || waitport "$(cat "$RUN/kinesis-local.pid")" "$KLPORT" "$RUN/kinesis-local.log"
cat >"$INFRA_DIR/env" <<ENV
export KINESIS_ENDPOINT=http://127.0.0.1:$KPORT
export KINESIS_IMPL=$KINESIS_IMPL
export KINESIS_LOCAL_ENDPOINT=http://127.0.0.1:$KLPORT
export S3_ENDPOINT=http://127.0.0.1:$SPORT
export PG_DSN='postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable'
export DUCKDB_NODE_MODULES=$EMU/node_modules
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
ENV
ok=1
