#!/usr/bin/env bash
# The whole benchmark in one command: redcore vs stock Redis on loopback.
#
#   benches/run.sh [--quick] [--out DIR] [--no-build] [--no-micro] [--no-plots] [-- REDCORE-BENCH-ARGS...]
#
#   --quick     seconds per measurement instead of a proper run (smoke test)
#   --out DIR   results directory (default benches/results/<date>[-quick])
#   --no-build  use the binaries already in $CARGO_TARGET_DIR/release
#   --no-micro  skip the criterion micro-benchmarks
#   --no-plots  skip the PNG plots
#   after --, arguments go to redcore-bench (e.g. --sections memory,
#   --sections persistence, --filter 'c50 P16', --server-cpus 2,3 --client-cpus 0,1)
#
# Builds redcore-server and the harness in release mode, runs redcore-bench
# (servers pinned with taskset, load generators on the other CPUs), the
# criterion micro-benchmarks, and benches/plot.py. Every server's PID goes to
# a temporary directory; the exit trap kills them, so an interrupted run
# leaves nothing behind. Each phase runs under `timeout`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=0
MICRO=1
PLOTS=1
BUILD=1
OUT=""
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) OUT="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --no-micro) MICRO=0 ;;
        --no-plots) PLOTS=0 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "$OUT" ]; then
    OUT="benches/results/$(date +%Y-%m-%d)"
    [ "$QUICK" = 1 ] && OUT="$OUT-quick"
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

if [ "$QUICK" = 1 ]; then
    BENCH_LIMIT=900; MICRO_LIMIT=600
    CRITERION_ARGS=(--warm-up-time 0.2 --measurement-time 0.5 --sample-size 10)
else
    BENCH_LIMIT=3600; MICRO_LIMIT=1200
    CRITERION_ARGS=()
fi

# Stock Redis and its benchmark tool (Debian/Ubuntu packages), as test.sh does.
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "== installing redis-server and redis-tools"
    if command -v apt-get >/dev/null; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools) >/dev/null \
            || { echo "run.sh: could not install redis-server/redis-tools" >&2; exit 1; }
    else
        echo "run.sh: redis-server and redis-benchmark are required" >&2; exit 1
    fi
fi
# redis-server must not be running as a service on the port we do not use anyway;
# we start our own on free ports.

PIDDIR="$(mktemp -d /tmp/redcore-bench-pids.XXXXXX)"
CHILD=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
        kill -TERM "$CHILD" 2>/dev/null || true
    fi
    for f in "$PIDDIR"/*; do
        [ -e "$f" ] || continue
        kill -TERM "$(basename "$f")" 2>/dev/null || true
    done
    sleep 0.5
    for f in "$PIDDIR"/*; do
        [ -e "$f" ] || continue
        kill -KILL "$(basename "$f")" 2>/dev/null || true
    done
    rm -rf "$PIDDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$BUILD" = 1 ]; then
    echo "== building (release): redcore-server, redcore-bench, redcore-load"
    cargo build --release -p redcore-server -p redcore-benches
    if [ "$MICRO" = 1 ]; then
        cargo bench -p redcore-benches --bench micro --no-run
    fi
fi
for bin in redcore-server redcore-bench; do
    [ -x "$CARGO_TARGET_DIR/release/$bin" ] || { echo "run.sh: $CARGO_TARGET_DIR/release/$bin missing (build first)" >&2; exit 1; }
done

MODE=()
[ "$QUICK" = 1 ] && MODE=(--quick)
echo "== benchmark -> $OUT"
timeout --kill-after=15 "$BENCH_LIMIT" "$CARGO_TARGET_DIR/release/redcore-bench" \
    --out "$OUT" --pid-dir "$PIDDIR" "${MODE[@]}" "${EXTRA[@]}" &
CHILD=$!
wait "$CHILD"
CHILD=""

if [ "$MICRO" = 1 ]; then
    echo "== criterion micro-benchmarks"
    export CRITERION_HOME="$CARGO_TARGET_DIR/criterion-redcore"
    rm -rf "$CRITERION_HOME"
    # On the last CPU (a server CPU: no server runs now).
    LAST_CPU="$(grep Cpus_allowed_list /proc/self/status | awk '{print $2}' | tr ',' '\n' | tail -1 | sed 's/.*-//')"
    timeout --kill-after=15 "$MICRO_LIMIT" taskset -c "${LAST_CPU:-0}" \
        cargo bench -p redcore-benches --bench micro -- "${CRITERION_ARGS[@]}" &
    CHILD=$!
    wait "$CHILD"
    CHILD=""
    "$CARGO_TARGET_DIR/release/redcore-bench" --out "$OUT" --collect-criterion "$CRITERION_HOME" | tee -a "$OUT/summary.txt"
fi

if [ "$PLOTS" = 1 ]; then
    echo "== plots"
    if ! python3 -c 'import matplotlib' 2>/dev/null; then
        python3 -m pip install --quiet matplotlib >/dev/null 2>&1 \
            || python3 -m pip install --quiet --break-system-packages matplotlib >/dev/null 2>&1 || true
    fi
    if python3 -c 'import matplotlib' 2>/dev/null; then
        timeout 300 python3 benches/plot.py "$OUT"
    else
        echo "run.sh: matplotlib unavailable (pip install matplotlib); no plots" >&2
    fi
fi

echo "== done: $OUT"
ls "$OUT"
