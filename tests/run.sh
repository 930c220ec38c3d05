#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds every binary, validates both OpenAPI
# documents, then runs every crate's tests, including the end-to-end tests across real
# processes in tests/e2e. Usage: tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it started, so a CI log shows where its time went.
step() { printf '== %s (at %d min %02d s)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# Runs the command in the array `beside` in the background while the command given runs, then
# prints the background's output (kept in LOG) under TITLE, and fails if either failed. The
# background has a session of its own, so that a stopped run stops all of it.
#   run_beside LOG TITLE COMMAND...
run_beside() {
  local log=$1 title=$2 job fg=0 bg=0
  shift 2
  mkdir -p "$(dirname "$log")"
  setsid "${beside[@]}" >"$log" 2>&1 &
  job=$!
  trap "kill -- -$job 2>/dev/null || true" EXIT
  "$@" || fg=$?
  wait "$job" || bg=$?
  trap - EXIT
  step "$title"
  cat "$log"
  if [ "$fg" -ne 0 ] || [ "$bg" -ne 0 ]; then
    echo "error: '$*' ended with exit status $fg and '${beside[*]}' beside it with $bg; what failed is above" >&2
    exit 1
  fi
}

tests/scripts/install-deps.sh

# A one-off build gains nothing from incremental caches, which take gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | tail -1 | awk '{print "== Disk before the build: " $4 " free"}'

step "OpenAPI documents"
python3 - <<'PY'
import sys, yaml
from openapi_spec_validator import validate
for f in ["terminal-service/openapi/node-v1.yaml", "terminal-service/openapi/local-v1.yaml"]:
    validate(yaml.safe_load(open(f)))
    print(f"   {f}: valid OpenAPI")
PY

step "Build (the end-to-end tests run the real binaries)"
cargo build --workspace --bins --locked

if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu; then
  step "The hardware crate for the Raspberry Pi (aarch64-unknown-linux-gnu)"
  # pcsc-sys asks pkg-config for libpcsclite, which refuses to answer for another target; a
  # check links nothing, so naming the arm64 library directory is enough.
  PCSC_LIB_DIR="${PCSC_LIB_DIR:-/usr/lib/aarch64-linux-gnu}" cargo check --locked -p hardware --target aarch64-unknown-linux-gnu
fi

step "Tests"
# Two streams at once: the kiosk's tests render on one core each (Slint's testing backend is one
# per process, and each of its test files is one #[test]) while the others, the end-to-end
# tests most of all, mostly wait on processes and clocks; one after the other, a core idled.
# Cargo holds the build directory only while it compiles, so the second simply waits for the
# first's build. The kiosk's output is printed once both are done.
beside=(cargo test --locked -p kiosk "$@")
run_beside "${CARGO_TARGET_DIR:-target}/kiosk-tests.log" "Tests of the kiosk (they ran beside the others; their output)" \
  cargo test --workspace --exclude kiosk --locked "$@"

# Every fuzz target for a few seconds, on the stable toolchain (tests/scripts/fuzz says how); a
# crash fails the run and leaves the input to turn into a regression test. Built in the dev
# profile: an optimised instrumented build of the service's whole dependency tree took over ten
# minutes on two cores, the dev one under five, and a short run needs no speed. The long runs
# (BENCHMARKS.md) use the release build. Its own build directory: cargo locks a build directory
# while it compiles, and the boot test's driver is built beside it (below).
target=${CARGO_TARGET_DIR:-$PWD/target}
fuzz=(env "CARGO_TARGET_DIR=$target/fuzzing" "FUZZ_PROFILE=${FUZZ_PROFILE:-dev}" tests/scripts/fuzz "${FUZZ_SECONDS:-6}")

# The packages, the QEMU image and its boot test (images/README.md). The image build installs
# packages into a chroot, so it needs root; TESTS_WITHOUT_IMAGE=1 leaves it out of a quick
# developer's run, never out of CI's.
if [ "${TESTS_WITHOUT_IMAGE:-}" = 1 ]; then
  step "Fuzzing"
  "${fuzz[@]}"
  step "Boot test: left out (TESTS_WITHOUT_IMAGE=1)"
else
  if [ "$(id -u)" -eq 0 ]; then
    boot_test=(images/boot-test --from-debug-build)
  elif sudo -n true 2>/dev/null; then
    boot_test=(sudo -n env "PATH=$PATH" "HOME=$HOME" ${CARGO_TARGET_DIR:+"CARGO_TARGET_DIR=$CARGO_TARGET_DIR"} images/boot-test --from-debug-build)
  else
    echo "error: the boot test needs root (the image build installs packages into a chroot): run tests/run.sh as root or with passwordless sudo, or set TESTS_WITHOUT_IMAGE=1 to leave it out of a local run" >&2
    exit 1
  fi
  # The fuzzing runs beside them, at the lowest priority: the image build and the emulated
  # guest leave a core idle about a third of the time (dpkg, the disk, the guest's waits), and
  # one after the other the fuzz step added five minutes to CI.
  step "Packages, image and boot test (images/boot-test, packaging this run's build; the fuzzing runs beside it)"
  beside=(nice -n 19 "${fuzz[@]}")
  run_beside "$target/fuzzing.log" "Fuzzing (it ran beside the boot test; its output)" "${boot_test[@]}"
fi
df -h . | tail -1 | awk '{print "== Disk after the tests: " $4 " free"}'
du -sh "${CARGO_TARGET_DIR:-target}" 2>/dev/null | awk '{print "== target/: " $1}' || true
step "Done"
