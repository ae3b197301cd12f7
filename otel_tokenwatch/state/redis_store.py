"""The Redis backend of the StateStore, for replicas that share baselines, windows and outcomes.

Replicas behind the Collector's load-balancing exporter share nothing per
trace (routing by trace id does that) but must share what outlives a tree.
Each call maps to one atomic Redis command (or one MULTI block), so two
replicas racing on the same key see the same rules as threads on the memory
backend: ``pop`` is GETDEL, ``add_if_absent`` is SET NX, ``append`` is
RPUSH + LTRIM + EXPIRE in one transaction.
"""

from __future__ import annotations

from typing import Any


class RedisStore:
    def __init__(self, url: str, prefix: str = "tokenwatch:", client: Any = None) -> None:
        if client is None:
            import redis  # optional dependency: pip install otel-tokenwatch[redis]

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._r = client
        self._prefix = prefix

    def _k(self, ns: str, key: str) -> str:
        return f"{self._prefix}{ns}:{key}"

    def get(self, ns: str, key: str) -> bytes | None:
        v = self._r.get(self._k(ns, key))
        return bytes(v) if v is not None else None

    def put(self, ns: str, key: str, value: bytes, ttl: float | None = None) -> None:
        k = self._k(ns, key)
        if ttl is None:
            self._r.set(k, value)
        else:
            self._r.set(k, value, px=max(1, int(ttl * 1000)))
        self._r.sadd(f"{self._prefix}{ns}:__keys__", key)

    def pop(self, ns: str, key: str) -> bytes | None:
        v = self._r.getdel(self._k(ns, key))
        self._r.srem(f"{self._prefix}{ns}:__keys__", key)
        return bytes(v) if v is not None else None

    def add_if_absent(self, ns: str, key: str, ttl: float) -> bool:
        return bool(self._r.set(self._k(ns, key), b"1", nx=True, px=max(1, int(ttl * 1000))))

    def append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None = None) -> None:
        k = self._k(ns, key)
        pipe = self._r.pipeline(transaction=True)
        pipe.rpush(k, item)
        pipe.ltrim(k, -max_len, -1)
        if ttl is not None:
            pipe.pexpire(k, max(1, int(ttl * 1000)))
        pipe.sadd(f"{self._prefix}{ns}:__keys__", key)
        pipe.execute()

    def items(self, ns: str, key: str) -> list[bytes]:
        return [bytes(v) for v in self._r.lrange(self._k(ns, key), 0, -1)]

    def keys(self, ns: str) -> list[str]:
        index = f"{self._prefix}{ns}:__keys__"
        out = []
        for raw in self._r.smembers(index):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            if self._r.exists(self._k(ns, key)):
                out.append(key)
            else:
                self._r.srem(index, key)  # expired: forget it
        return sorted(out)

    def close(self) -> None:
        self._r.close()
