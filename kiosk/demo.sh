#!/usr/bin/env bash
# The demo: headquarters (on a PostgreSQL of its own), a reference provincial node and a
# provisioned terminal-service with simulated hardware on loopback; sample applications, a
# grievance and status checks flow through the local API. Installs what it needs. Ctrl-C stops
# everything.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/scripts/install-deps.sh
cargo build --workspace --bins --locked
# Cargo puts the binaries under CARGO_TARGET_DIR when it is set (relative to this directory).
target=${CARGO_TARGET_DIR:-target}
exec "$target/debug/kiosk-demo" --dir "$target/demo" "$@"
