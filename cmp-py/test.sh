#!/usr/bin/env bash
# Build the cmp-protocol wheel and run the Python test suite against it.
#
#   cmp-py/test.sh [pytest args...]
#
# Creates a fresh virtual environment in a temporary directory, installs
# pinned maturin, pytest and cryptography from PyPI, builds the abi3 wheel
# with `maturin build` (dev profile: the tests are I/O- and protocol-bound,
# and a release build with thin LTO takes minutes longer on small CI
# machines; set CMP_PY_RELEASE=1 for a release wheel), installs it, and runs
# pytest on cmp-py/tests with the venv's python. Exits non-zero on failure.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# CMP_PY_RELEASE=1, CMP_PY_KEEP=1 (keep the temp dir and print its path).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
python=${PYTHON:-python3}

MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
CRYPTOGRAPHY_VERSION=50.0.2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cmp-py-test.XXXXXX")
if [ "${CMP_PY_KEEP:-0}" = 1 ]; then
  echo "cmp-py/test.sh: keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

"$python" -m venv "$tmp/venv"
venv_py="$tmp/venv/bin/python"
"$venv_py" -m pip install --quiet --disable-pip-version-check \
  "maturin==$MATURIN_VERSION" "pytest==$PYTEST_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"

profile=()
if [ "${CMP_PY_RELEASE:-0}" = 1 ]; then profile=(--release); fi
(cd "$root" && "$tmp/venv/bin/maturin" build "${profile[@]}" --quiet \
  -m cmp-py/Cargo.toml -i "$venv_py" -o "$tmp/wheels")

"$venv_py" -m pip install --quiet --disable-pip-version-check --no-index "$tmp"/wheels/*.whl

# Run from the temp dir so that the installed wheel, not cmp-py/python, is imported.
cd "$tmp"
CMP_PY_ROOT="$root" "$venv_py" -m pytest -p no:cacheprovider "$here/tests" "$@"

# The README's Python quick start, exactly as written, against the installed wheel.
awk '/^```python$/{on=1; next} /^```$/{if (on) exit} on' "$root/README.md" > "$tmp/readme_quickstart.py"
[ -s "$tmp/readme_quickstart.py" ]
"$venv_py" "$tmp/readme_quickstart.py" > "$tmp/readme.out"
grep -q "CN=Test Device" "$tmp/readme.out"
grep -q "CMP_UNSUPPORTED_VERSION \['unsupportedVersion'\]" "$tmp/readme.out"
echo "README Python quick start: ok"

# The README's second Python example (the rest of the life cycle), as written.
awk '/^```python$/{n++; if (n == 2) {on=1; next}} /^```$/{if (on) exit} on' "$root/README.md" > "$tmp/readme_lifecycle.py"
[ -s "$tmp/readme_lifecycle.py" ]
"$venv_py" "$tmp/readme_lifecycle.py" > "$tmp/readme_lifecycle.out"
grep -qx "root_key_update" "$tmp/readme_lifecycle.out"
grep -qx "True" "$tmp/readme_lifecycle.out"
echo "README Python life cycle: ok"
