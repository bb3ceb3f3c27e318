#!/usr/bin/env python3
"""README quick start with redis-py, run against a server on 127.0.0.1.

Usage: python3 tests/py/quickstart.py PORT
Exits 0 on success, non-zero (with a message on stderr) on any failure.
"""
import random
import sys

import redis


def check(cond, msg):
    if not cond:
        print("quickstart FAILED: " + msg, file=sys.stderr)
        sys.exit(1)


def main():
    if len(sys.argv) != 2:
        print("usage: quickstart.py PORT", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)

    check(r.ping() is True, "PING")
    check(r.set("key", "value") is True, "SET key value")
    got = r.get("key")
    check(got == b"value", "GET key returned %r" % (got,))
    keys = r.keys("*")
    check(keys == [b"key"], "KEYS * returned %r" % (keys,))

    rng = random.Random(1234)
    expected = {b"key": b"value"}
    for i in range(10):
        k = ("rand:%d:%d" % (i, rng.randrange(10**9))).encode()
        v = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        check(r.set(k, v) is True, "SET %r" % (k,))
        expected[k] = v

    keys = sorted(r.keys("*"))
    check(keys == sorted(expected), "KEYS * after sets: %r" % (keys,))
    for k, v in expected.items():
        got = r.get(k)
        check(got == v, "GET %r returned %r, want %r" % (k, got, v))
    vals = r.mget(list(expected))
    check(vals == list(expected.values()), "MGET mismatch")
    check(r.dbsize() == len(expected), "DBSIZE %r" % (r.dbsize(),))

    # A few more of the usual first steps.
    check(r.incr("counter") == 1 and r.incrby("counter", 5) == 6, "INCR/INCRBY")
    check(r.set("tmp", "x", ex=100) is True and 0 < r.ttl("tmp") <= 100, "SET EX / TTL")
    check(r.delete("tmp", "counter") == 2, "DEL")
    check(r.exists("key") == 1, "EXISTS")
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set("p:%d" % i, i)
    for i in range(100):
        pipe.get("p:%d" % i)
    res = pipe.execute()
    check(res[:100] == [True] * 100, "pipelined SETs")
    check(res[100:] == [str(i).encode() for i in range(100)], "pipelined GETs")

    # RESP3 connection (redis-py >= 5 supports protocol=3).
    try:
        r3 = redis.Redis(host="127.0.0.1", port=port, protocol=3, socket_timeout=10)
    except TypeError:
        r3 = None
    if r3 is not None:
        check(r3.get("key") == b"value", "RESP3 GET")
        check(r3.get("nokey") is None, "RESP3 GET missing")

    try:
        r.execute_command("NOSUCHCOMMAND")
        check(False, "unknown command must raise")
    except redis.ResponseError as e:
        check("unknown command" in str(e), "unknown command error text: %s" % e)

    print("quickstart OK: %d keys checked" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
