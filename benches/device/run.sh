#!/usr/bin/env bash
# The many-core run of the benchmark harness, on a machine prepared only by
# bundle.sh's .device/ (no network, no cargo, no Redis installed): the
# scaling section (GET:SET throughput per --cores k, MSET across cores,
# local vs forwarded GET) with the servers on the upper half of the CPUs
# and the load generator on the lower half. Results go to $OUT/run
# (summary.txt and CSVs); the servers' data to a scratch directory.
#
#   OUT=/tmp/x [SECTIONS=scaling,throughput] benches/device/run.sh [extra redcore-bench args]
#
# SECTIONS defaults to `scaling` (about 2-3 minutes on 16 CPUs); adding
# `throughput` with `--filter c50` compares one core with Redis at 50
# clients there too (about 2 minutes more). Every run is bounded by
# `timeout`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
B="$ROOT/.device/bin"
[ -x "$B/redcore-bench" ] || { echo "run.sh: no .device/ here: run benches/device/bundle.sh first and carry .device" >&2; exit 2; }
OUT="${OUT:-/tmp/redcore-device}"
mkdir -p "$OUT"
n="$(nproc)"
half=$(( n / 2 > 0 ? n / 2 : 1 ))
if [ "$n" -ge 2 ]; then
    servers="$(( n - half ))-$(( n - 1 ))"; clients="0-$(( n - half - 1 ))"
else
    servers=0; clients=0
fi
cores="$(printf '%s\n' 1 2 4 8 "$half" | awk -v max="$half" '$1 <= max' | sort -nu | paste -sd, -)"
work="$(mktemp -d /tmp/redcore-device-work.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "CPUs $n: servers on $servers, load on $clients, --cores $cores"
timeout --kill-after=15 540 "$B/redcore-bench" --out "$OUT/run" --work-dir "$work" \
    --sections "${SECTIONS:-scaling}" --server-cpus "$servers" --client-cpus "$clients" \
    --scaling-cores "$cores" --scaling-clients 200 --duration 2 --warmup 1 --rounds 1 \
    --redcore-server "$B/redcore-server" --redis-server "$B/redis-server" \
    --redis-benchmark "$B/redis-benchmark" "$@"
cat "$OUT/run/summary.txt"
