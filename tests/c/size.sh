#!/usr/bin/env bash
# tests/c/size.sh: stripped size of the firmware example (tests/c/enroll.c)
# linked statically with cmp-ffi built for size, against the same example on
# OpenSSL's libcrypto CMP client (tests/c/size/openssl_enroll.c, libcrypto.a).
# Both: gcc -Os, --gc-sections, glibc linked dynamically, stripped.
#
# The size profile is passed with --config so the workspace Cargo.toml stays
# untouched; it is meant to become [profile.size] there (see cmp-ffi docs).
# Algorithms: cmp-crypto-rustcrypto has no features yet, so RSA, P-384,
# Ed25519 and ML-DSA are still linked in; the "P-256 + PBM only" figure
# needs those features (see the report / cmp-ffi/README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/cmp-size.XXXXXX")
trap 'rm -rf "$work"' EXIT

profile=(--profile size
  --config 'profile.size.inherits="release"'
  --config 'profile.size.opt-level="z"'
  --config 'profile.size.lto="fat"'
  --config 'profile.size.codegen-units=1'
  --config 'profile.size.panic="abort"'
  --config 'profile.size.debug=false'
  --config 'profile.size.strip="symbols"')
cargo rustc -p cmp-ffi --lib --crate-type staticlib "${profile[@]}" ${CMP_FFI_FEATURES:+--features "$CMP_FFI_FEATURES"} --quiet
lib=target/size/libcmp_ffi.a

cflags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Os -ffunction-sections -fdata-sections -Iinclude)
ldflags=(-Wl,--gc-sections -Wl,-O1)
gcc "${cflags[@]}" tests/c/enroll.c "$lib" -lpthread -ldl -lm "${ldflags[@]}" -o "$work/enroll-cmp-rs"
libcrypto=${LIBCRYPTO_A:-$(gcc -print-file-name=libcrypto.a)}
[ -f "$libcrypto" ] || libcrypto=/usr/lib/x86_64-linux-gnu/libcrypto.a
gcc "${cflags[@]}" tests/c/size/openssl_enroll.c "$libcrypto" -lpthread -ldl "${ldflags[@]}" -o "$work/enroll-libcrypto"
strip --strip-all "$work/enroll-cmp-rs" "$work/enroll-libcrypto"

printf '\n%-36s %12s %10s %10s\n' "stripped example" "file bytes" "text" "data+bss"
row() {
  local f=$1 label=$2
  read -r text data bss _ < <(size "$f" | tail -n 1)
  printf '%-36s %12s %10s %10s\n' "$label" "$(stat -c %s "$f")" "$text" "$((data + bss))"
}
row "$work/enroll-cmp-rs" "cmp-rs (libcmp_ffi.a, size profile)"
row "$work/enroll-libcrypto" "OpenSSL $(openssl version | cut -d' ' -f2) (libcrypto.a)"
echo
echo "library archive: $(stat -c %s "$lib") bytes ($lib; archives carry unlinked code)"
