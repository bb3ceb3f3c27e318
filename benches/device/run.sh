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
# glommio locks memory for its io_uring buffers; io_uring itself may be
# blocked by a container's seccomp profile. Find out in seconds, not after
# a whole run of n/a rows.
ulimit -l unlimited 2>/dev/null || ulimit -l "$(ulimit -H -l)" 2>/dev/null || true
command -v taskset >/dev/null || echo "run.sh: no taskset here: servers and load will not be pinned" >&2
"$B/redcore-server" --port 16399 --dir "$work" > "$work/preflight.log" 2>&1 &
pre=$!
ok=0
for _ in $(seq 50); do
    if "$B/redis-cli" -p 16399 ping 2>/dev/null | grep -q PONG; then ok=1; break; fi
    sleep 0.1
done
if [ "$ok" = 1 ]; then
    "$B/redis-cli" -p 16399 info server | grep -E '^(cores|redis_version|redcore_version):'
    "$B/redis-cli" -p 16399 shutdown nosave >/dev/null 2>&1 || true
fi
kill "$pre" 2>/dev/null || true
wait "$pre" 2>/dev/null || true
if [ "$ok" != 1 ]; then
    echo "run.sh: redcore-server did not answer PING; its log:" >&2
    cat "$work/preflight.log" >&2
    exit 3
fi
echo "CPUs $n: servers on $servers, load on $clients, --cores $cores"
timeout --kill-after=15 540 "$B/redcore-bench" --out "$OUT/run" --work-dir "$work" \
    --sections "${SECTIONS:-scaling}" --server-cpus "$servers" --client-cpus "$clients" \
    --scaling-cores "$cores" --scaling-clients 200 --duration 2 --warmup 1 --rounds 1 \
    --redcore-server "$B/redcore-server" --redis-server "$B/redis-server" \
    --redis-benchmark "$B/redis-benchmark" "$@"
cat "$OUT/run/summary.txt"
