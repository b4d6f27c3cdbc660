#!/usr/bin/env bash
# capture.sh PKI_DIR OUT_DIR
#
# Records real CMP exchanges between OpenSSL's `openssl cmp` client and its
# mock server (mock-server.sh), on loopback, as DER files:
#   OUT_DIR/NAME.N.req.der  the N-th request of exchange NAME
#   OUT_DIR/NAME.N.rsp.der  the answer to it
#   OUT_DIR/NAME.log        the client's output
# and prints "NAME ok" or "NAME FAILED ..." per exchange. tests/vectors holds
# one such capture, made with tests/vectors/pki; a new capture differs in every
# nonce, time and signature, so tests use the fixed files.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pki=$(cd "${1:?usage: capture.sh PKI_DIR OUT_DIR}" && pwd)
mkdir -p "${2:?usage: capture.sh PKI_DIR OUT_DIR}"
out=$(cd "$2" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

mac=(-ref 1234 -secret pass:1234-5678)
signer=(-cert "$pki/ee.crt" -key "$pki/ee.key" -trusted "$pki/root.crt" -untrusted "$pki/ca.crt")
# kur and rr are only accepted for the certificate the mock server hands out
holder=(-cert "$pki/issued.crt" -key "$pki/issued.key" -trusted "$pki/root.crt"
        -untrusted "$pki/ca.crt" -oldcert "$pki/issued.crt")
enroll=(-newkey "$pki/issued.key" -subject "/CN=Test Device" -certout "$scratch/cert.pem")
failures=0

# run NAME MODE "SERVER OPTIONS" ok|fail CLIENT OPTIONS...
run() {
  local name=$1 mode=$2 server_opts=$3 want=$4
  shift 4
  local addr="$scratch/$name.addr" spid pid port rc reqs="" rsps="" i
  # shellcheck disable=SC2086 # server options are split on purpose
  MOCK_FOREGROUND=1 MOCK_LOG="$scratch/$name.server.log" \
    "$here/mock-server.sh" "$pki" 0 "$mode" $server_opts >"$addr" &
  spid=$!
  while kill -0 "$spid" 2>/dev/null && ! [ -s "$addr" ]; do sleep 0.05; done
  if ! read -r pid port <"$addr"; then
    echo "$name FAILED (mock server did not start)"
    wait "$spid"
    failures=$((failures + 1))
    return
  fi
  for i in 1 2 3 4 5 6; do
    reqs+="$out/$name.$i.req.der,"
    rsps+="$out/$name.$i.rsp.der,"
  done
  openssl cmp -server "127.0.0.1:$port/pkix/" -reqout "${reqs%,}" -rspout "${rsps%,}" \
    "$@" >"$out/$name.log" 2>&1
  rc=$?
  kill "$pid" 2>/dev/null
  wait "$spid" 2>/dev/null
  if { [ "$want" = ok ] && [ $rc -eq 0 ]; } || { [ "$want" = fail ] && [ $rc -ne 0 ]; }; then
    echo "$name ok"
  else
    echo "$name FAILED (openssl exit $rc, see $out/$name.log)"
    failures=$((failures + 1))
  fi
}

run ir-pbm      mac "" ok -cmd ir "${mac[@]}" "${enroll[@]}"
run ir-sig      sig "" ok -cmd ir "${signer[@]}" "${enroll[@]}"
run cr-pbm      mac "" ok -cmd cr "${mac[@]}" "${enroll[@]}"
run kur-sig     sig "" ok -cmd kur "${holder[@]}" -newkey "$pki/issued.key" -certout "$scratch/cert.pem"
run p10cr-pbm   mac "" ok -cmd p10cr "${mac[@]}" -csr "$pki/csr.der" -certout "$scratch/cert.pem"
run rr-sig      sig "" ok -cmd rr "${holder[@]}" -revreason 1
run genm-pbm    mac "" ok -cmd genm "${mac[@]}"
run ir-implicit mac "-grant_implicitconf" ok -cmd ir "${mac[@]}" "${enroll[@]}" -implicit_confirm
run ir-poll     mac "-poll_count 2 -check_after 1" ok -cmd ir "${mac[@]}" "${enroll[@]}"
run ir-rejected mac "-pkistatus 2 -failure 9 -statusstring rejected_by_policy" fail \
  -cmd ir "${mac[@]}" "${enroll[@]}"
run ir-error    mac "-send_error" fail -cmd ir "${mac[@]}" "${enroll[@]}"
# a new key that does not match the certificate handed out: the client rejects it
run ir-wrongkey mac "" fail -cmd ir "${mac[@]}" -newkey "$pki/new.key" -subject "/CN=Test Device"

# openssl creates every file named in -reqout/-rspout; drop the unused ones
find "$out" -name '*.der' -size 0 -delete
echo "$failures exchange(s) not as expected"
[ "$failures" -eq 0 ]
