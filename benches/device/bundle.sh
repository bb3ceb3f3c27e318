#!/usr/bin/env bash
# Packs what the many-core run needs into .device/ at the repository root,
# for a machine that has no network and maybe another Linux distribution:
# redcore-server, redcore-bench and redcore-load (release, stripped), stock
# redis-server, redis-benchmark and redis-cli, every shared library they load and the
# dynamic loader. Each program starts through a wrapper in .device/bin that
# runs it with the packed loader and libraries, so nothing on the other
# machine but its kernel (and, if present, taskset) is used.
#
#   benches/device/bundle.sh        # here, with cargo and redis-server installed
#   then, with the device tool: carry [".device"], command benches/device/run.sh
#
# .device/ is listed in .git/info/exclude, so git ignores it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build --release -p redcore-server -p redcore-benches --bins
B=.device
rm -rf "$B"
mkdir -p "$B/real" "$B/lib" "$B/bin"
progs=("$CARGO_TARGET_DIR/release/redcore-server" "$CARGO_TARGET_DIR/release/redcore-bench"
       "$CARGO_TARGET_DIR/release/redcore-load" "$(command -v redis-server)" "$(command -v redis-benchmark)"
       "$(command -v redis-cli)")
for prog in "${progs[@]}"; do
    name="$(basename "$prog")"
    cp -L "$prog" "$B/real/$name"
    strip "$B/real/$name" 2>/dev/null || true
    # Every library the program loads, by the path the loader resolved.
    ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
        cp -nL "$lib" "$B/lib/"
    done
    cat > "$B/bin/$name" <<WRAP
#!/bin/sh
d="\$(dirname "\$0")/.."
exec "\$d/lib/ld-linux-x86-64.so.2" --library-path "\$d/lib" "\$d/real/$name" "\$@"
WRAP
    chmod +x "$B/bin/$name"
done
loader="$(ldd "$CARGO_TARGET_DIR/release/redcore-server" | awk '/ld-linux/ { print ($3 ~ /^\// ? $3 : $1) }' | head -1)"
cp -L "$loader" "$B/lib/ld-linux-x86-64.so.2"
exclude="$(git rev-parse --git-path info/exclude)"
grep -qx '/.device/' "$exclude" 2>/dev/null || echo '/.device/' >> "$exclude"
"$B/bin/redis-server" --version
"$B/bin/redcore-bench" --help > /dev/null
du -sh "$B"
