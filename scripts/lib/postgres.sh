# Sourced by scripts/test and bench/postgres/run: a private PostgreSQL
# cluster for tests and benchmarks. It lives in a fresh temp dir (data,
# unix socket, log), listens on a free loopback port, and never touches a
# system cluster. Call stop_test_postgres on every exit path (trap).
#
#   start_test_postgres   sets PRIVACITY_TEST_POSTGRES_URL (exported)
#   stop_test_postgres    stops the server and removes the temp dir

PRIVACITY_PG_DIR=""
PRIVACITY_PG_RUN=()

_privacity_pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres: no PostgreSQL server binaries under /usr/lib/postgresql (package postgresql)" >&2
    return 1
  fi
  echo "$bin"
}

start_test_postgres() {
  local bin port
  bin=$(_privacity_pg_bin) || return 1
  PRIVACITY_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/privacity-pg-XXXXXX")
  # initdb refuses to run as root: use the postgres system user then.
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$PRIVACITY_PG_DIR"
    PRIVACITY_PG_RUN=(runuser -u postgres --)
  fi
  "${PRIVACITY_PG_RUN[@]}" "$bin/initdb" -D "$PRIVACITY_PG_DIR/data" -A trust -U privacity \
    -E UTF8 --no-sync >"$PRIVACITY_PG_DIR/initdb.log" 2>&1 || {
    cat "$PRIVACITY_PG_DIR/initdb.log" >&2
    return 1
  }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # Durability is not under test: fsync off keeps the suite fast.
  "${PRIVACITY_PG_RUN[@]}" "$bin/pg_ctl" -D "$PRIVACITY_PG_DIR/data" -l "$PRIVACITY_PG_DIR/server.log" \
    -w -t 60 -o "-p $port -k $PRIVACITY_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null || {
    cat "$PRIVACITY_PG_DIR/server.log" >&2
    return 1
  }
  export PRIVACITY_TEST_POSTGRES_URL="postgresql://privacity@127.0.0.1:$port/postgres"
  echo "postgres: private cluster on 127.0.0.1:$port"
}

stop_test_postgres() {
  local bin
  if [ -n "$PRIVACITY_PG_DIR" ] && [ -d "$PRIVACITY_PG_DIR/data" ]; then
    bin=$(_privacity_pg_bin) || true
    if [ -n "$bin" ]; then
      "${PRIVACITY_PG_RUN[@]}" "$bin/pg_ctl" -D "$PRIVACITY_PG_DIR/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
    fi
  fi
  if [ -n "$PRIVACITY_PG_DIR" ]; then rm -rf "$PRIVACITY_PG_DIR"; fi
  PRIVACITY_PG_DIR=""
  unset PRIVACITY_TEST_POSTGRES_URL
}
