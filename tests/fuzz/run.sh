#!/bin/sh
# run.sh BUILD_DIR SECONDS: runs every libFuzzer target of BUILD_DIR/fuzz for SECONDS of wall
# time, all targets at once, then prints one table: target, executions, exec/s, corpus size,
# crashes. Exits 1 if any target crashed, leaked, ran out of memory or timed out.
#
# New inputs go to a work directory (BUILD_DIR/fuzz-work/<target>/corpus, or FUZZ_WORK/<target>),
# never to the committed seeds in tests/fuzz/corpus, and are minimised with -merge=1 at the end.
# Reproducers land in <work>/<target>/artifacts. Each target runs as a series of libFuzzer
# sessions of at most FUZZ_SESSION seconds (default 300) that share the work corpus, because a
# process that lives for hours accumulates memory that scenario_load_text keeps on purpose (its
# strings live as long as the process) and would end at -rss_limit_mb instead of finding bugs.
# Environment: FUZZ_TARGETS (default: every fuzz_* in BUILD_DIR/fuzz), FUZZ_WORK, FUZZ_SESSION.
set -eu

usage() {
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
}
[ $# -eq 2 ] || usage
build=$1
seconds=$2
case "$seconds" in '' | *[!0-9]*) usage ;; esac
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz
work=${FUZZ_WORK:-$build/fuzz-work}
session_max=${FUZZ_SESSION:-300}
if [ -z "${FUZZ_TARGETS:-}" ]; then
    FUZZ_TARGETS=$(find "$bin" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x |
        sed 's|.*/fuzz_||' | sort | tr '\n' ' ')
fi
[ -n "$FUZZ_TARGETS" ] || { echo "run.sh: no fuzz targets in $bin" >&2; exit 2; }
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

# Longest input per target: one stdin stretch or line, or one scenario file.
max_len() {
    case "$1" in
    scenario) echo 65536 ;;
    json) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

# One libFuzzer run; appends its executions to $dir/runs and its failure, if any, to $dir/failed.
session() {
    t=$1 dir=$2 secs=$3 n=$4
    log=$dir/logs/session-$n.log
    set --
    [ -f "$here/$t.dict" ] && set -- -dict="$here/$t.dict"
    rc=0
    "$bin/fuzz_$t" -max_total_time="$secs" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
        -timeout=25 -print_final_stats=1 "$@" -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" "$here/corpus/$t" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$runs" ]; then
        # No final stats (the session crashed): take the last progress line's count.
        runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    echo "${runs:-0}" >>"$dir/runs"
    if [ "$rc" -ne 0 ]; then
        echo "session $n exited with $rc: see $log" >>"$dir/failed"
        return 1
    fi
    return 0
}

# All sessions of one target, then the corpus minimisation.
run_target() {
    t=$1
    dir=$work/$t
    mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/logs"
    rm -f "$dir/runs" "$dir/failed" "$dir/logs"/session-*.log
    touch "$dir/started" # artifacts of earlier runs stay, but only newer ones count
    start=$(date +%s)
    left=$seconds
    n=0
    while [ "$left" -gt 0 ]; do
        n=$((n + 1))
        secs=$left
        [ "$secs" -gt "$session_max" ] && secs=$session_max
        session "$t" "$dir" "$secs" "$n" || break
        left=$((seconds - ($(date +%s) - start)))
    done
    echo $(($(date +%s) - start)) >"$dir/elapsed"
    if [ ! -s "$dir/failed" ] && [ -n "$(find "$dir/corpus" -type f | head -n 1)" ]; then
        rm -rf "$dir/merged"
        mkdir -p "$dir/merged"
        if "$bin/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
            "$dir/merged" "$dir/corpus" >"$dir/logs/merge.log" 2>&1; then
            rm -rf "$dir/corpus"
            mv "$dir/merged" "$dir/corpus"
        fi
    fi
}

pids=
# On ^C or kill: stop each target's loop and the fuzzer it is running.
# shellcheck disable=SC2154 # p is the trap's own loop variable
trap 'for p in $pids; do pkill -TERM -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done; exit 130' \
    INT TERM
for t in $FUZZ_TARGETS; do
    [ -x "$bin/fuzz_$t" ] || { echo "run.sh: $bin/fuzz_$t is missing" >&2; exit 2; }
    run_target "$t" &
    pids="$pids $!"
done
echo "run.sh: fuzzing $FUZZ_TARGETS for $seconds s each, in $work"
wait

status=0
printf '%-14s %14s %9s %9s %10s %8s\n' target executions exec/s corpus bytes crashes
for t in $FUZZ_TARGETS; do
    dir=$work/$t
    runs=$(awk '{ s += $1 } END { printf "%d", s }' "$dir/runs" 2>/dev/null || echo 0)
    elapsed=$(cat "$dir/elapsed" 2>/dev/null || echo 0)
    rate=$(awk -v r="$runs" -v e="$elapsed" 'BEGIN { printf "%d", (e > 0 ? r / e : 0) }')
    files=$(find "$dir/corpus" -type f | wc -l)
    bytes=$(du -sb "$dir/corpus" | cut -f1)
    crashes=$(find "$dir/artifacts" -type f -newer "$dir/started" | wc -l)
    if [ -s "$dir/failed" ] && [ "$crashes" -eq 0 ]; then
        crashes=1 # e.g. a leak found at exit: no input to save, the log says what
    fi
    printf '%-14s %14s %9s %9s %10s %8s\n' "$t" "$runs" "$rate" "$files" "$bytes" "$crashes"
    if [ "$crashes" -ne 0 ]; then
        status=1
        cat "$dir/failed" 2>/dev/null || true
        find "$dir/artifacts" -type f -newer "$dir/started" | sed 's|^|    |'
    fi
done
exit $status
