"""The Redis backend of the StateStore, for replicas that share baselines, windows and outcomes.

Replicas behind the Collector's load-balancing exporter share nothing per
trace (routing by trace id does that) but must share what outlives a tree.
Each call maps to one atomic Redis command (or one MULTI block), so two
replicas racing on the same key see the same rules as threads on the memory
backend: ``pop`` is GETDEL, ``add_if_absent`` is SET NX, ``append`` is
RPUSH + LTRIM + EXPIRE in one transaction, and ``log_append`` is INCR of the
log's sequence number, a read of the items the caller has not seen, RPUSH and
LTRIM in one Lua script (one round trip; Redis runs a script without
interleaving other clients' commands).
"""

from __future__ import annotations

from typing import Any

#: newest items of a log fetched with every append: a replica that fell behind by up to this many
#: appends of other replicas catches up in the same round trip, further behind it reads the whole log
LOG_TAIL = 32

#: log_append as one script: the sequence number, the items after ``since`` (0 when not all at hand),
#: push, trim, expiry and the key index in one round trip that no other client can interleave with
_LOG_APPEND = """
local seq = redis.call('INCR', KEYS[2])
local gap = seq - 1 - tonumber(ARGV[4])
local between = 0
if gap == 0 then
  between = {}
elseif gap > 0 and gap <= tonumber(ARGV[5]) then
  between = redis.call('LRANGE', KEYS[1], -gap, -1)
  if #between ~= gap then between = 0 end
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('SADD', KEYS[3], ARGV[6])
return {seq, between}
"""


class RedisStore:
    def __init__(self, url: str, prefix: str = "tokenwatch:", client: Any = None) -> None:
        if client is None:
            import redis  # optional dependency: pip install otel-tokenwatch[redis]

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._r = client
        self._prefix = prefix
        self._log_append = client.register_script(_LOG_APPEND)

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

    def log_append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        k = self._k(ns, key)
        seq, between = self._log_append(keys=[k, k + ":seq", f"{self._prefix}{ns}:__keys__"],
                                        args=[item, max_len, 0 if ttl is None else max(1, int(ttl * 1000)),
                                              since, LOG_TAIL, key])
        return int(seq), None if between == 0 else [bytes(v) for v in between]

    def log_read(self, ns: str, key: str) -> tuple[int, list[bytes]]:
        k = self._k(ns, key)
        pipe = self._r.pipeline(transaction=True)
        pipe.get(k + ":seq")
        pipe.lrange(k, 0, -1)
        seq, items = pipe.execute()
        return int(seq or 0), [bytes(v) for v in items]

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
