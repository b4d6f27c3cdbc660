#!/usr/bin/env bash
# mock-server.sh PKI_DIR PORT mac|sig [more openssl cmp server options...]
#
# Runs OpenSSL's built-in CMP mock server (`openssl cmp -port ...`, OpenSSL
# 3.x) in the background and prints one line "PID PORT" once it is listening.
#   PKI_DIR  a directory made by make-pki.sh (tests use tests/vectors/pki)
#   PORT     TCP port; 0 lets the system pick a free one (use this when tests
#            run in parallel; the chosen port is printed)
#   mac      requests and responses are protected by PasswordBasedMac with
#            reference "1234" and secret "1234-5678"
#   sig      responses are signed with server.key/server.crt; requests must be
#            signed by a certificate that chains to root.crt (via ca.crt)
# Whatever is asked for, the server hands out issued.crt, with chain.crt as
# extraCerts and root.crt as caPubs. Extra arguments go to openssl unchanged,
# e.g. "-poll_count 2 -check_after 1", "-grant_implicitconf",
# "-pkistatus 2 -failure 9 -statusstring text", "-send_error".
#
# Endpoint: http://127.0.0.1:PORT/pkix/ . OpenSSL 3.0 binds the wildcard
# address and cannot be told otherwise; clients must still only ever use
# 127.0.0.1. This script itself makes no connections.
#
# Environment:
#   MOCK_LOG       file for the server's output (default: a new mktemp file)
#   MOCK_LIFETIME  if set, the server is stopped after this many seconds even
#                  if nobody kills it (uses coreutils `timeout` when present)
#   MOCK_WAIT      seconds to wait for the server to come up (default 20)
#   MOCK_FOREGROUND  if 1, the script does not return after printing
#                  "PID PORT": it stays the server's parent and exits when the
#                  server does. A program that runs this script as its child
#                  can then reap everything (no orphaned processes); this is
#                  how the Rust harness (tests/src) uses it.
# Stop the server with: kill PID
set -euo pipefail

usage="usage: mock-server.sh PKI_DIR PORT mac|sig [openssl cmp options...]"
pki=${1:?$usage}
port=${2:?$usage}
mode=${3:?$usage}
shift 3

for f in issued.crt chain.crt root.crt ca.crt server.crt server.key; do
  [ -r "$pki/$f" ] || { echo "mock-server.sh: $pki/$f is missing" >&2; exit 2; }
done

case "$mode" in
  mac) protection=(-srv_ref 1234 -srv_secret pass:1234-5678) ;;
  sig) protection=(-srv_cert "$pki/server.crt" -srv_key "$pki/server.key") ;;
  *) echo "mock-server.sh: mode must be mac or sig, not '$mode'" >&2; exit 2 ;;
esac

server=(openssl cmp -port "$port"
        -srv_trusted "$pki/root.crt" -srv_untrusted "$pki/ca.crt"
        -rsp_cert "$pki/issued.crt" -rsp_extracerts "$pki/chain.crt"
        -rsp_capubs "$pki/root.crt"
        "${protection[@]}" "$@")
if [ -n "${MOCK_LIFETIME:-}" ] && command -v timeout >/dev/null; then
  server=(timeout "$MOCK_LIFETIME" "${server[@]}")
fi

log=${MOCK_LOG:-$(mktemp "${TMPDIR:-/tmp}/cmp-mock.XXXXXX")}
: >"$log"
"${server[@]}" </dev/null >"$log" 2>&1 &
pid=$!

# OpenSSL prints "ACCEPT [::]:PORT PID=N" after listen(), so once that line is
# in the log, connections are queued even before the accept loop runs.
steps=$(( ${MOCK_WAIT:-20} * 10 ))
for _ in $(seq "$steps"); do
  bound=$(sed -n 's/^ACCEPT .*:\([0-9][0-9]*\) PID=[0-9]*.*$/\1/p' "$log" | head -n 1)
  if [ -n "$bound" ]; then
    echo "$pid $bound"
    if [ "${MOCK_FOREGROUND:-0}" = 1 ]; then
      exec >/dev/null
      wait "$pid"
    fi
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

echo "mock-server.sh: the mock server did not start; its output ($log):" >&2
cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
