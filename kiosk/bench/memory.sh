#!/usr/bin/env bash
# Resident memory of the kiosk and of Chromium in kiosk mode showing bench/language.html, each
# in its own X server (Xvfb), 5 s after start: RSS and PSS summed over the process tree.
# Usage: kiosk/bench/memory.sh [path/to/kiosk]   (needs xvfb, chromium)
set -uo pipefail
if [ $# -ge 1 ]; then
  KIOSK=$(realpath "$1")
else
  # Where cargo put it: CARGO_TARGET_DIR, relative to the workspace root, or target/.
  KIOSK=$(cd "$(dirname "$0")/../.." && realpath "${CARGO_TARGET_DIR:-target}/debug/kiosk")
fi
cd "$(dirname "$0")"
descendants() { echo "$1"; for c in $(ps -o pid= --ppid "$1"); do descendants "$c"; done; }
tree_mem() {
  local rss=0 pss=0 r s
  for p in $(descendants "$1"); do
    r=$(awk '/^Rss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); s=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
    rss=$((rss + ${r:-0})); pss=$((pss + ${s:-0}))
  done
  echo "RSS ${rss} kB, PSS ${pss} kB"
}
measure() {
  local name=$1; shift
  xvfb-run -a -s "-screen 0 1280x800x24" bash -c '"$@" >/dev/null 2>&1 & echo $! > /tmp/bench-pid; wait' _ "$@" &
  local runner=$!
  sleep 5
  local pid; pid=$(cat /tmp/bench-pid)
  echo "$name: $(tree_mem "$pid") (process tree of $pid)"
  kill "$pid" 2>/dev/null
  wait "$runner" 2>/dev/null
}
measure kiosk "$KIOSK" --socket /nonexistent.sock
measure chromium chromium --kiosk --no-sandbox --no-first-run --disable-gpu --user-data-dir=/tmp/bench-chromium "file://$PWD/language.html"
