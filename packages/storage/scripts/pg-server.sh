#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for the storage tests and benchmarks.
#   packages/storage/scripts/pg-server.sh start [DIR] initdb DIR (default: a new /tmp/ringside-pg.XXXXXX, owned by
#                                    `postgres`), start on a free loopback port, wait for pg_isready,
#                                    print the connection URL, then DIR, one per line on stdout
#   packages/storage/scripts/pg-server.sh stop DIR    stop the server of DIR by its pid (SIGINT: fast shutdown), remove DIR
# Installs PostgreSQL with apt-get when its binaries are missing (CI machines have nothing by hand).
set -euo pipefail

cmd=${1:?usage: pg-server.sh start [DIR] | stop DIR}
dir=${2:-}
if [ -z "$dir" ]; then
  [ "$cmd" = start ] || { echo "usage: pg-server.sh stop DIR" >&2; exit 2; }
  dir=$(mktemp -d /tmp/ringside-pg.XXXXXX)
fi

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

# initdb and postgres refuse to run as root: run them as the `postgres` user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  bin=$(find_bin || true)
  if [ -z "$bin" ]; then
    echo "pg-server: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql-15 >&2 || apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
  fi
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # A free port: ask the kernel for one, then let postgres bind it (a race is possible but rare).
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  sock="$dir/sock"
  mkdir -p "$sock"
  [ "$(id -u)" = 0 ] && chown postgres "$sock"
  # fsync off: the data is thrown away after the run; it measures the adapter, not the disk.
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  for _ in $(seq 1 60); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      echo "$port" >"$dir/port"
      echo "postgres://postgres@127.0.0.1:$port/postgres"
      echo "$dir"
      exit 0
    fi
    sleep 0.5
  done
  echo "pg-server: no answer from pg_isready on port $port after 30s" >&2
  bash "$0" stop "$dir" || true
  exit 1
  ;;
stop)
  # By its pid (the first line of postmaster.pid): SIGINT is PostgreSQL's fast shutdown; SIGKILL
  # if it has not exited within 30 s.
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg-server.sh start|stop DIR" >&2
  exit 2
  ;;
esac
