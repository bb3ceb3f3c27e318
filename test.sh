#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing:
# stock Redis (redis-server, redis-cli: differential tests and the redis-cli
# quick start) and redis-py (the Python quick start).
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi
fi
if ! python3 -c 'import redis' >/dev/null 2>&1; then
    python3 -m pip install -q redis 2>/dev/null || python3 -m pip install -q --break-system-packages redis
fi

cargo build --workspace --all-targets
cargo test --workspace -- "$@"
