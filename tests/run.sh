#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds every binary, validates both OpenAPI
# documents, then runs every crate's tests, including the end-to-end tests across real
# processes in tests/e2e. Usage: tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

tests/scripts/install-deps.sh

# A one-off build gains nothing from incremental caches, which take gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | tail -1 | awk '{print "== Disk before the build: " $4 " free"}'

echo "== OpenAPI documents"
python3 - <<'PY'
import sys, yaml
from openapi_spec_validator import validate
for f in ["terminal-service/openapi/node-v1.yaml", "terminal-service/openapi/local-v1.yaml"]:
    validate(yaml.safe_load(open(f)))
    print(f"   {f}: valid OpenAPI")
PY

echo "== Build (the end-to-end tests run the real binaries)"
cargo build --workspace --bins --locked

if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu; then
  echo "== The hardware crate for the Raspberry Pi (aarch64-unknown-linux-gnu)"
  cargo check --locked -p hardware --target aarch64-unknown-linux-gnu
fi

echo "== Tests"
cargo test --workspace --locked "$@"
df -h . | tail -1 | awk '{print "== Disk after the tests: " $4 " free"}'
du -sh target 2>/dev/null | awk '{print "== target/: " $1}' 
