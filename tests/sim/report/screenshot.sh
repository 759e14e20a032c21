#!/bin/sh
# screenshot.sh [BUILD_DIR]: refreshes tests/sim/report/screenshot.png, the picture of report.html
# that documentation shows. Runs eddy briefly on eddy-node with a partition, kills, pauses and
# clock faults, then renders the run's report.html in headless Chromium (Debian's chromium:
# .ci/deps chromium). Documentation tooling, not a test: CI has no browser.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build}
command -v chromium >/dev/null || { echo "screenshot.sh: no chromium (.ci/deps chromium)" >&2; exit 2; }
[ -x "$build/bin/eddy" ] || { echo "screenshot.sh: build eddy first (make build)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
# A short run with every kind of fault; the verdict (exit 0, 1 or 2) does not matter here.
status=0
"$build/bin/eddy" test -w unique-ids --bin "$build/bin/eddy-node" --node-count 5 \
    --time-limit 6 --rate 400 --nemesis partition,kill,pause,clock --nemesis-interval 0.8 \
    --seed 5 --store store --no-progress >run.log 2>&1 || status=$?
if [ "$status" -gt 2 ]; then
    cat run.log >&2
    echo "screenshot.sh: eddy exited $status" >&2
    exit 1
fi
page=$(ls store/unique-ids/*/report.html | grep -v /latest/ | head -n 1)

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1280,2400 \
    --screenshot="$tmp/screenshot.png" "file://$tmp/$page" >chromium.log 2>&1 || {
    cat chromium.log >&2
    exit 1
}
cp "$tmp/screenshot.png" "$here/screenshot.png"
echo "screenshot.sh: wrote $here/screenshot.png ($(wc -c <"$here/screenshot.png") bytes)"
