#!/usr/bin/env bash
# Stops a cluster started by start.sh DIR (immediately: it is thrown away).
set -euo pipefail
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/data/postmaster.pid" ] || exit 0
bin=""
if [ -n "${PG_BIN:-}" ]; then
  bin=$PG_BIN
elif command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
  bin=$(pg_config --bindir)
else
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ]; then bin=$d; break; fi
  done
fi
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(runuser -u postgres --)
"${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
