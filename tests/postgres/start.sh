#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for tests: initdb into DIR/data,
# listening on 127.0.0.1:PORT only (and a Unix socket in DIR), trust
# authentication for the superuser "cmp", and a database "cmp".
# Runs as an unprivileged user: as root, as the "postgres" user that
# Debian's postgresql package creates (DIR is handed to it).
# Usage: start.sh DIR PORT    Stop with stop.sh DIR.
set -euo pipefail
dir=${1:?usage: start.sh DIR PORT}
port=${2:?usage: start.sh DIR PORT}

bin=""
if [ -n "${PG_BIN:-}" ]; then
  bin=$PG_BIN
elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bin=$(pg_config --bindir)
else
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ]; then bin=$d; break; fi
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's" \
       "postgresql package (apt-get install postgresql) or set PG_BIN" >&2
  exit 2
fi

as_user=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "running as root but there is no \"postgres\" user to run PostgreSQL as" >&2
    exit 2
  fi
  chown postgres: "$dir"
  as_user=(runuser -u postgres --)
fi

"${as_user[@]}" "$bin/initdb" -D "$dir/data" -U cmp -A trust -E UTF8 --no-sync \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a test cluster, thrown away afterwards
"${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=100" \
  start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
"${as_user[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U cmp cmp
echo "postgres://cmp@127.0.0.1:$port/cmp"
