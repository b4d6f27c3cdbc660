#!/usr/bin/env bash
# tests/c/size.sh: stripped size of the firmware example (tests/c/enroll.c)
# linked statically with cmp-ffi built for size, against the same example on
# OpenSSL's libcrypto CMP client (tests/c/size/openssl_enroll.c, libcrypto.a).
# Both: gcc -Os, --gc-sections, glibc linked dynamically, stripped.
#
# cmp-ffi is built with the workspace's [profile.size] (opt-level "z", fat
# LTO, one codegen unit, panic = "abort", stripped) and --no-default-features:
# ECDSA P-256 and the password-based MAC only, what the example uses.
# CMP_FFI_FEATURES adds cmp-ffi features to that, e.g.
#   CMP_FFI_FEATURES=all-algorithms tests/c/size.sh   # + P-384, RSA, Ed25519, ML-DSA, ML-KEM
#   CMP_FFI_FEATURES="rsa p384" tests/c/size.sh
# Needs gcc, binutils (size, strip), OpenSSL's libcrypto.a (LIBCRYPTO_A to
# point elsewhere) and headers, cargo.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/cmp-size.XXXXXX")
trap 'rm -rf "$work"' EXIT

features=${CMP_FFI_FEATURES:-}
cargo rustc -p cmp-ffi --lib --crate-type staticlib --profile size --no-default-features \
  ${features:+--features "$features"} --quiet
lib="${CARGO_TARGET_DIR:-target}/size/libcmp_ffi.a"
algorithms="P-256 + PBM${features:+ + $features}"

cflags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Os -ffunction-sections -fdata-sections -Iinclude)
ldflags=(-Wl,--gc-sections -Wl,-O1)
gcc "${cflags[@]}" tests/c/enroll.c "$lib" -lpthread -ldl -lm "${ldflags[@]}" -o "$work/enroll-cmp-rs"
libcrypto=${LIBCRYPTO_A:-$(gcc -print-file-name=libcrypto.a)}
[ -f "$libcrypto" ] || libcrypto=/usr/lib/x86_64-linux-gnu/libcrypto.a
gcc "${cflags[@]}" tests/c/size/openssl_enroll.c "$libcrypto" -lpthread -ldl "${ldflags[@]}" -o "$work/enroll-libcrypto"
strip --strip-all "$work/enroll-cmp-rs" "$work/enroll-libcrypto"

w=$(( ${#algorithms} + 24 > 38 ? ${#algorithms} + 24 : 38 ))
printf '\n%-*s %12s %10s %10s\n' "$w" "stripped example" "file bytes" "text" "data+bss"
row() {
  local f=$1 label=$2
  read -r text data bss _ < <(size "$f" | tail -n 1)
  printf '%-*s %12s %10s %10s\n' "$w" "$label" "$(stat -c %s "$f")" "$text" "$((data + bss))"
}
row "$work/enroll-cmp-rs" "cmp-rs, libcmp_ffi.a ($algorithms)"
row "$work/enroll-libcrypto" "OpenSSL $(openssl version | cut -d' ' -f2), libcrypto.a"
echo
echo "library archive: $(stat -c %s "$lib") bytes ($lib; archives carry unlinked code)"
