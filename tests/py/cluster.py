#!/usr/bin/env python3
"""redis-py's RedisCluster against a redcore cluster: writes and reads 1000
keys, following MOVED redirects from whichever node it starts at.

Usage: python3 tests/py/cluster.py PORT
Exits 0 on success, non-zero (with a message on stderr) on any failure.
"""
import sys

from redis.cluster import RedisCluster


def check(cond, msg):
    if not cond:
        print("cluster.py FAILED: " + msg, file=sys.stderr)
        sys.exit(1)


def main():
    port = int(sys.argv[1])
    rc = RedisCluster(host="127.0.0.1", port=port, socket_timeout=10)
    nodes = rc.get_nodes()
    check(len(nodes) >= 3, f"expected at least 3 nodes, got {nodes}")
    for i in range(1000):
        check(rc.set(f"pykey:{i}", f"value-{i}") is True, f"SET pykey:{i}")
    for i in range(1000):
        got = rc.get(f"pykey:{i}")
        check(got == f"value-{i}".encode(), f"GET pykey:{i} = {got!r}")
    # Keys sharing a hash tag may be used together.
    rc.mset_nonatomic({"{tag}a": "1", "{tag}b": "2"})
    check(rc.mget_nonatomic(["{tag}a", "{tag}b"]) == [b"1", b"2"], "MGET with hash tag")
    # Every master holds some of the keys.
    total = rc.dbsize(target_nodes=RedisCluster.PRIMARIES)
    check(total >= 1002, f"masters hold {total} keys, expected >= 1002")
    print("ok")


if __name__ == "__main__":
    main()
