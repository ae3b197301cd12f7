"""The event loop's own Redis connection (state/redis_async.py) reaches the server the URL names as the
blocking one does: its password, its ACL user, its database; and a refused login is Redis out (the
breaker), not a stage's bug."""

from __future__ import annotations

import asyncio

import pytest
import redis

from otel_tokenwatch.state.redis_store import RedisStore, StateUnavailable
from tests.servers import free_port, start_redis, stop

pytestmark = pytest.mark.server

OPS = [("put", "s", "k", b"v", 60.0), ("log_extend", "b", "wf", [b"x"], 100, 60.0, 0), ("get", "s", "k")]


def test_password_user_and_database_as_the_url_says() -> None:
    port = free_port()
    proc = start_redis(port, password="s3cret")
    try:
        admin = redis.Redis(port=port, password="s3cret")
        admin.execute_command("ACL", "SETUSER", "tw", "on", ">tw-pass", "~*", "+@all")
        for url, db in ((f"redis://:s3cret@127.0.0.1:{port}/2", 2), (f"redis://tw:tw-pass@127.0.0.1:{port}/3", 3)):
            store = RedisStore(url, prefix="tw-auth:")
            got = asyncio.run(store.batch_async(OPS))
            assert got == [None, (1, []), b"v"]
            assert store.batch(OPS)[1] == (2, [b"x"])  # the blocking connection sees the same log
            assert redis.Redis(port=port, password="s3cret", db=db).get("tw-auth:s:k") == b"v"
            assert redis.Redis(port=port, password="s3cret", db=0).get("tw-auth:s:k") is None
            store.close()

        # the password changed under a running replica: its loop's connection, made at the first call,
        # is refused; the store's breaker says so (the blocking connection logged in before the change)
        stale = RedisStore(f"redis://:s3cret@127.0.0.1:{port}/0", prefix="tw-auth:")
        admin.config_set("requirepass", "rotated")
        with pytest.raises(StateUnavailable, match="refused AUTH"):
            asyncio.run(stale.batch_async(OPS))
        assert stale.health()["reachable"] is False
        stale.close()
    finally:
        stop(proc, 10)


def test_a_second_event_loop_gets_a_connection_of_its_own(redis_url: str) -> None:
    """A store used from one loop, then from another (a test's asyncio.run after another, an embedding
    program's loop restarted): the first loop's socket and lock are not the second's, and no call fails."""
    from tests.state.conftest import fresh_prefix

    store = RedisStore(redis_url, prefix=fresh_prefix("loops"))
    assert asyncio.run(store.batch_async(OPS)) == [None, (1, []), b"v"]
    assert asyncio.run(store.batch_async(OPS)) == [None, (2, [b"x"]), b"v"]
    assert store.health()["reachable"] is True
    store.close()
