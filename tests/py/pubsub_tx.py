#!/usr/bin/env python3
"""redis-py against a server on 127.0.0.1: pubsub (subscribe, psubscribe,
get_message, unsubscribe) and transactional pipelines with and without WATCH.

Usage: python3 tests/py/pubsub_tx.py PORT
Exits 0 on success, non-zero (with a message on stderr) on any failure.
"""
import sys
import time

import redis


def fail(msg):
    print("pubsub_tx FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def next_message(p, timeout=5.0, **kw):
    """The next message of a PubSub object, waiting at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=max(0.01, deadline - time.monotonic()), **kw)
        if m is not None:
            return m
    fail("no pubsub message within %.1fs" % timeout)


def test_pubsub(r, port):
    p = r.pubsub()
    p.subscribe("news")
    m = next_message(p)
    check(m == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1},
          "subscribe confirmation: %r" % (m,))
    check(r.publish("news", "hello") == 1, "PUBLISH news -> 1 receiver")
    m = next_message(p)
    check(m == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"},
          "message: %r" % (m,))

    p.psubscribe("ne*")
    m = next_message(p)
    check(m == {"type": "psubscribe", "pattern": None, "channel": b"ne*", "data": 2},
          "psubscribe confirmation: %r" % (m,))
    check(r.publish("news", "both") == 2, "PUBLISH news -> channel + pattern")
    m1 = next_message(p)
    m2 = next_message(p)
    check(m1 == {"type": "message", "pattern": None, "channel": b"news", "data": b"both"},
          "message: %r" % (m1,))
    check(m2 == {"type": "pmessage", "pattern": b"ne*", "channel": b"news", "data": b"both"},
          "pmessage: %r" % (m2,))
    check(r.publish("nest", "p-only") == 1, "PUBLISH nest -> pattern only")
    m = next_message(p)
    check(m["type"] == "pmessage" and m["channel"] == b"nest" and m["data"] == b"p-only",
          "pmessage: %r" % (m,))

    # A second subscriber with a handler-less, ignore_subscribe_messages reader.
    p2 = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10).pubsub(
        ignore_subscribe_messages=True)
    p2.subscribe("news", "other")
    # Read (and drop) the confirmations until the server counts p2.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        p2.get_message(timeout=0.05)
        if dict(r.pubsub_numsub("news", "other")) == {b"news": 2, b"other": 1}:
            break
    numsub = dict(r.pubsub_numsub("news", "other", "nobody"))
    check(numsub == {b"news": 2, b"other": 1, b"nobody": 0}, "PUBSUB NUMSUB: %r" % (numsub,))
    check(r.pubsub_numpat() == 1, "PUBSUB NUMPAT")
    check(sorted(r.pubsub_channels()) == [b"news", b"other"],
          "PUBSUB CHANNELS: %r" % (r.pubsub_channels(),))
    check(r.publish("news", "three") == 3, "PUBLISH news -> 3")
    m = next_message(p2)
    check(m["type"] == "message" and m["data"] == b"three", "second subscriber: %r" % (m,))
    next_message(p)
    next_message(p)

    # Ordering from one publisher.
    for i in range(200):
        r.publish("other", str(i))
    for i in range(200):
        m = next_message(p2)
        check(m["data"] == str(i).encode(), "message %d out of order: %r" % (i, m))

    p.unsubscribe()
    m = next_message(p)
    check(m["type"] == "unsubscribe" and m["channel"] == b"news" and m["data"] == 1,
          "unsubscribe: %r" % (m,))
    p.punsubscribe()
    m = next_message(p)
    check(m["type"] == "punsubscribe" and m["channel"] == b"ne*" and m["data"] == 0,
          "punsubscribe: %r" % (m,))
    check(r.publish("nest", "x") == 0, "no pattern subscriber left")
    p.close()
    p2.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and r.publish("news", "x") != 0:
        time.sleep(0.02)
    check(r.publish("news", "x") == 0, "closed subscribers still counted")


def test_transactions(r, port):
    other = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)

    # MULTI/EXEC pipeline.
    pipe = r.pipeline(transaction=True)
    pipe.set("tx:a", 1).incr("tx:a").get("tx:a").mget("tx:a", "tx:missing")
    res = pipe.execute()
    check(res == [True, 2, b"2", [b"2", None]], "transaction result: %r" % (res,))

    # Runtime error inside EXEC: the others still run.
    pipe = r.pipeline(transaction=True)
    pipe.set("tx:s", "str").incr("tx:s").set("tx:t", "ok")
    res = pipe.execute(raise_on_error=False)
    check(res[0] is True and isinstance(res[1], redis.ResponseError) and res[2] is True,
          "runtime error result: %r" % (res,))
    check(r.get("tx:t") == b"ok", "command after a runtime error ran")

    # Queueing error: EXECABORT, nothing runs.
    pipe = r.pipeline(transaction=True)
    pipe.set("tx:never", 1)
    pipe.execute_command("NOSUCHCOMMAND", "x")
    try:
        pipe.execute()
        fail("transaction with an unknown command did not fail")
    except redis.exceptions.ExecAbortError:
        pass
    except redis.ResponseError as e:
        check("EXECABORT" in str(e) or "unknown command" in str(e), "unexpected error %r" % (e,))
    check(r.get("tx:never") is None, "aborted transaction ran a command")

    # WATCH without a conflict.
    r.set("tx:w", 10)
    with r.pipeline() as pipe:
        pipe.watch("tx:w")
        v = int(pipe.get("tx:w"))
        pipe.multi()
        pipe.set("tx:w", v + 1)
        res = pipe.execute()
    check(res == [True], "WATCH without conflict: %r" % (res,))
    check(r.get("tx:w") == b"11", "value after WATCH transaction")

    # WATCH with a conflict from another connection: WatchError, no write.
    with r.pipeline() as pipe:
        pipe.watch("tx:w")
        v = int(pipe.get("tx:w"))
        other.set("tx:w", 100)
        pipe.multi()
        pipe.set("tx:w", v + 1)
        try:
            pipe.execute()
            fail("EXEC after a conflicting write did not raise WatchError")
        except redis.WatchError:
            pass
    check(r.get("tx:w") == b"100", "the conflicting write was overwritten")

    # r.transaction() retries until it succeeds.
    attempts = []

    def incr_twice(pipe):
        v = int(pipe.get("tx:w"))
        if not attempts:
            other.incr("tx:w")  # conflict on the first attempt only
        attempts.append(v)
        pipe.multi()
        pipe.set("tx:w", v + 2)

    r.transaction(incr_twice, "tx:w")
    check(len(attempts) == 2, "transaction() attempts: %r" % (attempts,))
    check(r.get("tx:w") == b"103", "value after retried transaction: %r" % (r.get("tx:w"),))

    # Keys spread over the keyspace in one transaction (several cores).
    keys = ["tx:k%d" % i for i in range(16)]
    pipe = r.pipeline(transaction=True)
    for i, k in enumerate(keys):
        pipe.set(k, i)
    pipe.mget(keys)
    res = pipe.execute()
    check(res[-1] == [str(i).encode() for i in range(16)], "MGET in transaction: %r" % (res[-1],))

    # A non-transactional pipeline still works.
    pipe = r.pipeline(transaction=False)
    pipe.incr("tx:plain").incr("tx:plain")
    check(pipe.execute() == [1, 2], "plain pipeline")


def main():
    if len(sys.argv) != 2:
        print("usage: pubsub_tx.py PORT", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    check(r.ping() is True, "PING")
    test_pubsub(r, port)
    test_transactions(r, port)
    print("pubsub_tx OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
