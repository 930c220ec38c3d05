#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds every binary, validates both OpenAPI
# documents, then runs every crate's tests, including the end-to-end tests across real
# processes in tests/e2e. Usage: tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it started, so a CI log shows where its time went.
step() { printf '== %s (at %d min %02d s)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

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
kiosk_log=${CARGO_TARGET_DIR:-target}/kiosk-tests.log
mkdir -p "$(dirname "$kiosk_log")"
cargo test --locked -p kiosk "$@" >"$kiosk_log" 2>&1 &
kiosk_tests=$!
trap 'kill "$kiosk_tests" 2>/dev/null || true' EXIT
others=0
cargo test --workspace --exclude kiosk --locked "$@" || others=$?
kiosk=0
wait "$kiosk_tests" || kiosk=$?
trap - EXIT
step "Tests of the kiosk (they ran beside the others; their output)"
cat "$kiosk_log"
if [ "$others" -ne 0 ] || [ "$kiosk" -ne 0 ]; then
  echo "error: tests failed (the kiosk's: exit $kiosk; the others: exit $others); the failures are above" >&2
  exit 1
fi

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
  # one after the other the fuzz step added five minutes to CI. Its own session, so that a
  # stopped run stops all of it; its output is printed once the boot test is done.
  fuzz_log=$target/fuzzing.log
  setsid nice -n 19 "${fuzz[@]}" >"$fuzz_log" 2>&1 &
  fuzz_job=$!
  trap 'kill -- -"$fuzz_job" 2>/dev/null || true' EXIT
  step "Packages, image and boot test (images/boot-test, packaging this run's build; the fuzzing runs beside it)"
  boot=0
  "${boot_test[@]}" || boot=$?
  fuzzed=0
  wait "$fuzz_job" || fuzzed=$?
  trap - EXIT
  step "Fuzzing (it ran beside the boot test; its output)"
  cat "$fuzz_log"
  if [ "$boot" -ne 0 ] || [ "$fuzzed" -ne 0 ]; then
    echo "error: the boot test (exit $boot) or the fuzzing (exit $fuzzed) failed; what failed is above" >&2
    exit 1
  fi
fi
df -h . | tail -1 | awk '{print "== Disk after the tests: " $4 " free"}'
du -sh "${CARGO_TARGET_DIR:-target}" 2>/dev/null | awk '{print "== target/: " $1}' || true
step "Done"
