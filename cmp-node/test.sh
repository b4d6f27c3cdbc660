#!/usr/bin/env bash
# Build the cmp-protocol npm package and test it.
#
#   cmp-node/test.sh
#
# 1. npm ci (npm install when there is no package-lock.json);
# 2. napi build --platform (debug; CMP_NODE_RELEASE=1 for --release), and
#    check that the committed index.d.ts and native.js did not change;
# 3. cargo build -p cmp-cli (the `cmp` binary, for `cmp serve`), then
#    node --test on cmp-node/test/ (vectors, errors, package surface,
#    OpenSSL mock server interop: needs `openssl` 3.x; the project's own
#    reference server `cmp serve`, run as $CMP_BIN);
# 4. tsc on the TypeScript examples (examples/tsconfig.json, noEmit);
# 5. npm pack, install the tarball into an empty temp folder, run the
#    package tests against the installed copy, and run the README's Node
#    quick start as written against the mock server.
# Exits non-zero on the first failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$here"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmp-node-test.XXXXXX")
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n== cmp-node: %s\n' "$*"; }

step "npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

step "napi build"
cp index.d.ts "$tmp/index.d.ts.committed"
cp native.js "$tmp/native.js.committed"
build=(npx napi build --platform --strip --js native.js --dts index.d.ts)
if [ "${CMP_NODE_RELEASE:-0}" = 1 ]; then build+=(--release); fi
"${build[@]}"
for f in index.d.ts native.js; do
  if ! diff -u "$tmp/$f.committed" "$f"; then
    echo "cmp-node/test.sh: $f changed when regenerated; commit the new one" >&2
    exit 1
  fi
done

step "cargo build -p cmp-cli (cmp serve for test/serve.test.js)"
(cd "$root" && cargo build -p cmp-cli)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
export CMP_BIN="$target_dir/debug/cmp"
[ -x "$CMP_BIN" ] || { echo "cmp-node/test.sh: no $CMP_BIN after cargo build" >&2; exit 1; }

step "node --test"
node --test test/

step "tsc --noEmit (examples)"
npx tsc -p examples/tsconfig.json

step "npm pack + install into an empty folder"
npm pack --pack-destination "$tmp" >/dev/null
tarball=$(ls "$tmp"/cmp-protocol-*.tgz)
app="$tmp/app"
mkdir "$app"
(cd "$app" && npm init -y >/dev/null && npm install --no-audit --no-fund "$tarball" >/dev/null)
installed="$app/node_modules/cmp-protocol"
(cd "$app" && node -e "const c = require('cmp-protocol'); if (typeof c.enroll !== 'function') process.exit(1)")
(cd "$app" && node --input-type=module -e "import { enroll } from 'cmp-protocol'; if (typeof enroll !== 'function') process.exit(1)")
CMP_NODE_PACKAGE="$installed" node --test test/package.test.js

step "README quick start, as written, from the installed package"
# The ```js block between the quickstart markers of README.md.
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' README.md \
  | sed -n '/^```js$/,/^```$/p' | sed '1d;$d' >"$app/quickstart.mjs"
[ -s "$app/quickstart.mjs" ] || { echo "cmp-node/test.sh: no quick start in README.md" >&2; exit 1; }
# the project README shows the same quick start, character for character
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$root/README.md" \
  | sed -n '/^```js$/,/^```$/p' | sed '1d;$d' | diff - "$app/quickstart.mjs"
cp "$root/tests/vectors/pki/issued.key" "$app/device.key"
read -r mock_pid port < <(MOCK_LIFETIME=120 "$root/tests/interop/mock-server.sh" "$root/tests/vectors/pki" 0 mac)
out=$(cd "$app" && CMP_URL="http://127.0.0.1:$port/pkix/" node quickstart.mjs)
echo "$out"
grep -q '^issued CN=Test Device by CN=Test Issuing CA$' <<<"$out"
openssl x509 -in "$app/device.crt" -noout -subject | grep -q 'CN *= *Test Device'

step "all passed"
