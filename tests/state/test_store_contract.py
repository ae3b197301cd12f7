"""The calls every stage makes, with the same answers from the memory store and a real Redis, and
state that leaves no trace behind once its TTL has passed (a bounded store, on either backend)."""

from __future__ import annotations

import time
from typing import Any

import redis

from otel_tokenwatch.state.redis_store import RedisStore
from tests.state.conftest import fresh_prefix


def test_put_get_pop_and_idempotency(store: Any) -> None:
    store.put("o", "t:1", b"v", ttl=60)
    assert store.get("o", "t:1") == b"v" and store.get("o", "t:2") is None
    assert store.pop("o", "t:1") == b"v"
    assert store.pop("o", "t:1") is None and store.get("o", "t:1") is None
    assert store.add_if_absent("seen", "k", ttl=60) is True
    assert store.add_if_absent("seen", "k", ttl=60) is False


def test_append_keeps_the_newest(store: Any) -> None:
    for i in range(10):
        store.append("w", "p", b"%d" % i, max_len=3, ttl=60)
    assert store.items("w", "p") == [b"7", b"8", b"9"]
    assert store.items("w", "none") == []


def test_keys_of_a_namespace(store: Any) -> None:
    store.put("o", "t:1", b"v", ttl=60)
    store.put("o", "c:*weird[key]", b"v", ttl=60)  # glob characters in a key are literal
    store.put("o.other", "x", b"v", ttl=60)
    store.append("o", "list", b"a", max_len=5, ttl=60)
    store.log_append("o", "log", b"a", max_len=5, ttl=60, since=0)
    store.put("o", "gone", b"v")
    store.pop("o", "gone")
    assert store.keys("o") == sorted(["t:1", "c:*weird[key]", "list", "log"])
    assert store.keys("o.other") == ["x"]


def test_redis_holds_nothing_once_every_ttl_has_passed(redis_url: str) -> None:
    """Every key the stages write carries its TTL, and no index grows beside them: a tree summary per
    tree must not leave a set member behind in Redis forever."""
    prefix = fresh_prefix("bounded")
    s = RedisStore(redis_url, prefix=prefix)
    for i in range(50):
        s.put("outcome.trees", f"{i:032x}", b"summary", ttl=0.2)
        s.append("outcome.conv", f"c{i % 5}", b"%d" % i, max_len=10, ttl=0.2)
        s.log_append("score.baseline_log", "wf|usd", b"1,%d" % i, max_len=100, ttl=0.2, since=i)
        s.add_if_absent("outcome.seen", f"k{i}", ttl=0.2)
    r = redis.Redis.from_url(redis_url)
    assert len(list(r.scan_iter(match=prefix + "*"))) > 50
    deadline = time.monotonic() + 10
    while list(r.scan_iter(match=prefix + "*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(r.scan_iter(match=prefix + "*")) == []
    s.close()


def test_batch_is_the_calls_in_one_step(store: Any) -> None:
    store.put("o", "t:1", b"early", ttl=60)
    got = store.batch([("pop", "o", "t:1"), ("get", "o", "c:9"), ("put", "o", "tree", b"sum", 60),
                       ("append", "conv", "c1", b"a", 2, 60), ("append", "conv", "c1", b"b", 2),
                       ("append", "conv", "c1", b"c", 2, 60), ("items", "conv", "c1"), ("get", "o", "tree"),
                       ("pop", "o", "t:1")])
    assert got == [b"early", None, None, None, None, None, [b"b", b"c"], b"sum", None]
    assert store.get("o", "tree") == b"sum" and store.items("conv", "c1") == [b"b", b"c"]
    assert store.batch([]) == []


def test_a_guard_stops_the_batch_where_an_earlier_call_found_a_value(store: Any) -> None:
    """carry.py's guard: the calls planned on "nothing was held" do not run when something was."""
    later = [("put", "o", "planned", b"p", 60), ("log_extend", "b", "wf", [b"s"], 10, 60, 0), ("items", "conv", "c")]
    got = store.batch([("pop", "o", "t:1"), ("get", "o", "c:1"), ("guard", [0, 1]), *later])
    assert got[:3] == [None, None, False] and got[4][0] == 1  # nothing held: every call ran
    assert store.get("o", "planned") == b"p"

    store.put("o", "c:2", b"conversation outcome", ttl=60)
    got = store.batch([("pop", "o", "t:2"), ("put", "o", "tree", b"sum", 60), ("get", "o", "c:2"),
                       ("guard", [0, 2]), ("put", "o", "planned2", b"p", 60), *later[1:]])
    assert got == [None, None, b"conversation outcome", True, None, None, None]
    # what came before the guard ran, nothing after it did
    assert store.get("o", "tree") == b"sum" and store.get("o", "planned2") is None
    assert store.log_read("b", "wf")[0] == 1
    # a log read whole in a batch, with the calls around it (a replica new to the log: pipeline/score/engine.py)
    got = store.batch([("log_extend", "b", "wf", [b"t", b"u"], 10, 60, 1), ("log_read", "b", "wf"),
                       ("log_read", "b", "none"), ("get", "o", "tree")])
    assert got == [(3, []), (3, [b"s", b"t", b"u"]), (0, []), b"sum"]


def test_a_redis_that_lost_the_script_gets_it_again(redis_url: str) -> None:
    """The batch script runs on the connection directly (RedisStore._script): a server that forgot it
    (restarted, SCRIPT FLUSH) answers NOSCRIPT, and the call loads it and still gives its results."""
    s = RedisStore(redis_url, prefix=fresh_prefix("noscript"))
    s.put("o", "t:1", b"v", ttl=60)
    assert s.batch([("get", "o", "t:1")]) == [b"v"]
    redis.Redis.from_url(redis_url).script_flush()
    assert s.batch([("pop", "o", "t:1"), ("get", "o", "t:1")]) == [b"v", None]
    assert s.batch([("get", "o", "t:1")]) == [None]  # and the direct path works again after the load
    s.close()


def test_the_client_parses_with_hiredis(redis_url: str) -> None:
    """The ``redis`` extra brings hiredis, and redis-py picks it up on its own: replies parsed and commands
    packed in compiled code (README, Dependencies). Without it every call still works, at several times
    the CPU for a batch that reads long windows; this says when an install step lost it."""
    s = RedisStore(redis_url, prefix=fresh_prefix("hiredis"))
    conn = s._r.connection
    assert type(conn._parser).__name__ == "_HiredisParser"
    assert "Hiredis" in type(conn._command_packer).__name__
    s.close()
