"""Both state backends behind one fixture: the memory store and a real Redis (Debian's package)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from otel_tokenwatch.state import MemoryStore
from otel_tokenwatch.state.redis_store import RedisStore

_prefixes = itertools.count()


def fresh_prefix(name: str) -> str:
    """A key prefix no other test uses: tests share one Redis and must not see each other's keys."""
    return f"tw-{name}-{next(_prefixes)}:"


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
    else:
        s = RedisStore(request.getfixturevalue("redis_url"), prefix=fresh_prefix("store"))
        yield s
        s.close()
