#!/usr/bin/env bash
# Installs what the demo and the tests need on a Debian machine, once: system packages through
# apt, Python packages for the OpenAPI checks. Idempotent; quiet when everything is there.
# Fonts are not among them: the kiosk and the receipts ship theirs (kiosk/fonts, hardware/fonts).
set -euo pipefail

need_apt=()
command -v age >/dev/null || need_apt+=(age)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v curl >/dev/null || need_apt+=(curl)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
# systemd-analyze scores the units (tests/e2e/tests/it/images.rs).
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
# The kiosk's device backend (Slint linuxkms) and font fallback link these.
for pc_deb in libudev:libudev-dev libinput:libinput-dev libseat:libseat-dev xkbcommon:libxkbcommon-dev fontconfig:libfontconfig-dev; do
  pkg-config --exists "${pc_deb%%:*}" 2>/dev/null || need_apt+=("${pc_deb#*:}")
done
python3 -c 'import yaml' 2>/dev/null || need_apt+=(python3-yaml)
# The headquarters registry's tests start PostgreSQL 15 in a temporary directory (pg-cluster);
# pg_trgm ships in the server package, createdb in its client dependency.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
[ -x /usr/lib/postgresql/15/bin/createdb ] || need_apt+=(postgresql-client-15)
# USB card readers through PC/SC: the hardware crate links libpcsclite, and its tests run a
# private pcscd with Debian's virtual reader (hardware/tests/pcsc.rs).
pkg-config --exists libpcsclite 2>/dev/null || need_apt+=(libpcsclite-dev)
command -v pcscd >/dev/null || [ -x /usr/sbin/pcscd ] || need_apt+=(pcscd)
ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* >/dev/null 2>&1 || need_apt+=(vsmartcard-vpcd)
# A terminal without a real-time clock: the service run with its clock at 1970 or days behind
# under libfaketime (tests/e2e/tests/it/no_clock.rs).
compgen -G '/usr/lib/*/faketime/libfaketimeMT.so.1' >/dev/null || need_apt+=(faketime)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing system packages: ${need_apt[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import openapi_spec_validator, yaml' 2>/dev/null; then
  echo "installing openapi-spec-validator (pip)"
  python3 -m pip install -q openapi-spec-validator pyyaml 2>/dev/null \
    || python3 -m pip install -q --break-system-packages openapi-spec-validator pyyaml
fi

command -v cargo >/dev/null || { echo "error: cargo not found: install Rust (rustup) first" >&2; exit 1; }
