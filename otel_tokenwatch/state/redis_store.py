"""The Redis backend of the StateStore, for replicas that share baselines, windows and outcomes.

Replicas behind the Collector's load-balancing exporter share nothing per
trace (routing by trace id does that) but must share what outlives a tree.
Each call maps to one atomic Redis command, MULTI block or script, so two
replicas racing on the same key see the same rules as threads on the memory
backend: ``pop`` is GETDEL, ``add_if_absent`` is SET NX; ``batch`` is one Lua
script (one round trip; Redis runs a script without interleaving other
clients' commands), and ``append`` (RPUSH, LTRIM, EXPIRE) and
``log_append``/``log_extend`` are a batch of one: the log's sequence number, a
read of the items the caller has not seen, RPUSH and LTRIM.
The trees released together take their outcomes, store their summaries and
append their baseline samples in one such script each.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from otel_tokenwatch.errors import Unavailable
from otel_tokenwatch.state.redis_async import AsyncRedisConnection, ReplyError
from otel_tokenwatch.state.store import BATCH_CALLS

log = logging.getLogger("otel_tokenwatch.state")
F = TypeVar("F", bound=Callable[..., Any])

#: newest items of a log fetched with every append: a replica that fell behind by up to this many
#: appends of other replicas catches up in the same round trip, further behind it reads the whole log
LOG_TAIL = 32

#: batch as one script (one command: less client work than a MULTI block, and as atomic): per call
#: its name in ARGV, then its arguments; its key in KEYS (a log: the list, then its sequence number).
#: A TTL of 0 means none. log_extend: the sequence number before the items, the items after ``since``
#: the caller has not seen (0 when not all at hand: more than LOG_TAIL, trimmed away, or the log
#: started again), the pushes, the trim and both expiries, with no other client's command between
_BATCH = """
local out = {}
local a = 2
local ki = 1
local n = tonumber(ARGV[1])
for i = 1, n do
  local op, k = ARGV[a], KEYS[ki]
  a = a + 1
  if op == 'guard' then
    local m = tonumber(ARGV[a])
    local hit = false
    for j = a + 1, a + m do
      if out[tonumber(ARGV[j])] then hit = true end
    end
    a = a + 1 + m
    if hit then
      out[i] = 1
      for j = i + 1, n do out[j] = false end
      return out
    end
    out[i] = 0
  else
    ki = ki + 1
  end
  if op == 'get' then
    out[i] = redis.call('GET', k)
  elseif op == 'pop' then
    out[i] = redis.call('GETDEL', k)
  elseif op == 'items' then
    out[i] = redis.call('LRANGE', k, 0, -1)
  elseif op == 'log_read' then
    out[i] = {tonumber(redis.call('GET', KEYS[ki]) or '0'), redis.call('LRANGE', k, 0, -1)}
    ki = ki + 1
  elseif op == 'put' then
    if tonumber(ARGV[a + 1]) > 0 then
      redis.call('SET', k, ARGV[a], 'PX', ARGV[a + 1])
    else
      redis.call('SET', k, ARGV[a])
    end
    a = a + 2
    out[i] = 0
  elseif op == 'append' then
    redis.call('RPUSH', k, ARGV[a])
    redis.call('LTRIM', k, -tonumber(ARGV[a + 1]), -1)
    if tonumber(ARGV[a + 2]) > 0 then
      redis.call('PEXPIRE', k, ARGV[a + 2])
    end
    a = a + 3
    out[i] = 0
  elseif op == 'log_extend' then
    local kseq = KEYS[ki]
    ki = ki + 1
    local n = tonumber(ARGV[a])
    local first = a + 1
    a = a + 1 + n
    local max_len, px, since, tail = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]),
                                     tonumber(ARGV[a + 3])
    a = a + 4
    local gap = tonumber(redis.call('GET', kseq) or '0') - since
    local between = 0
    if gap == 0 then
      between = {}
    elseif gap > 0 and gap <= tail then
      between = redis.call('LRANGE', k, -gap, -1)
      if #between ~= gap then between = 0 end
    end
    local seq = redis.call('INCRBY', kseq, n)
    for j = first, first + n - 1 do
      redis.call('RPUSH', k, ARGV[j])
    end
    redis.call('LTRIM', k, -max_len, -1)
    if px > 0 then
      redis.call('PEXPIRE', k, px)
      redis.call('PEXPIRE', kseq, px)
    end
    out[i] = {seq, between}
  end
end
return out
"""


class StateUnavailable(Unavailable):
    """The shared state cannot be reached: the stage that needed it is skipped for this tree (the tree
    is still forwarded, and the skip counted), the outcome API answers 503."""

    reason = "state_unavailable"


def _guarded(f: F) -> F:
    """One failed call opens the breaker: for a backoff (0.5 s, doubling to 30 s) calls fail at once
    instead of each waiting for a socket timeout on the event loop; the first call after it tries
    Redis again."""

    @functools.wraps(f)
    def call(self: RedisStore, *args: Any, **kwargs: Any) -> Any:
        now = self._closed_breaker()
        try:
            out = f(self, *args, **kwargs)
        except self._transport_errors as e:
            raise self._opened(e, now) from e
        self._reached()
        return out

    return call  # type: ignore[return-value]


BACKOFF_MIN, BACKOFF_MAX = 0.5, 30.0


class RedisStore:
    def __init__(self, url: str, prefix: str = "tokenwatch:", client: Any = None,
                 timeout: float = 1.0) -> None:
        import redis  # optional dependency: pip install otel-tokenwatch[redis]

        own = client is None
        if own:
            # calls run on the event loop: a short timeout, and the breaker below, bound a stall
            # one connection behind a lock rather than the pool: a pool checks a connection out and back
            # for every command (135 -> 80 us of client CPU per call here); calls come from one thread
            # (the event loop) but the SDK plugin's worker and outcome reports may share the store
            client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                          single_connection_client=True)
        self._transport_errors: tuple[type[BaseException], ...] = (
            redis.ConnectionError, redis.TimeoutError, OSError)
        self._no_script = redis.exceptions.NoScriptError
        self._where = url.split("@")[-1]  # never a password in a message
        self._down_until = 0.0
        self._backoff = BACKOFF_MIN
        self._why = ""
        self._r = client
        self._prefix = prefix
        self._batch = client.register_script(_BATCH)
        #: the event loop's own connection, for ``batch_async`` (None: a caller's client, or not plain TCP)
        self._aconn = _async_connection(client, timeout) if own else None

    def _closed_breaker(self) -> float:
        """Now, if the breaker lets a call through (see ``_guarded``); else raises StateUnavailable."""
        now = time.monotonic()
        if now < self._down_until:
            raise StateUnavailable(f"shared state at {self._where} unreachable ({self._why}); retrying in "
                                   f"{self._down_until - now:.1f}s", retry_after=self._down_until - now)
        return now

    def _opened(self, e: BaseException, now: float) -> StateUnavailable:
        """The breaker opened by a failed call that started at ``now``: what the caller raises."""
        first = self._backoff == BACKOFF_MIN
        self._why = f"{type(e).__name__}: {e}"
        self._down_until = now + self._backoff
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)
        if first:
            log.warning("shared state unreachable: stages that need it are skipped and counted",
                        extra={"redis": self._where, "error": self._why})
        return StateUnavailable(f"shared state at {self._where} unreachable ({self._why})",
                                retry_after=self._down_until - now)

    def _reached(self) -> None:
        if self._backoff != BACKOFF_MIN:
            self._backoff = BACKOFF_MIN
            log.warning("shared state reachable again", extra={"redis": self._where})

    def health(self) -> dict[str, Any]:
        """For /status.json: whether the last call reached Redis, and if not why and when the next
        one tries (the URL without credentials)."""
        if self._backoff == BACKOFF_MIN:  # reset by every call that succeeds
            return {"backend": "redis", "url": self._where, "reachable": True}
        return {"backend": "redis", "url": self._where, "reachable": False, "error": self._why,
                "retry_in_s": round(max(0.0, self._down_until - time.monotonic()), 1)}

    def _k(self, ns: str, key: str) -> str:
        return f"{self._prefix}{ns}:{key}"

    @_guarded
    def get(self, ns: str, key: str) -> bytes | None:
        v = self._r.get(self._k(ns, key))
        return bytes(v) if v is not None else None

    @_guarded
    def put(self, ns: str, key: str, value: bytes, ttl: float | None = None) -> None:
        self._r.set(self._k(ns, key), value, px=_px(ttl) or None)

    @_guarded
    def pop(self, ns: str, key: str) -> bytes | None:
        v = self._r.getdel(self._k(ns, key))
        return bytes(v) if v is not None else None

    @_guarded
    def add_if_absent(self, ns: str, key: str, ttl: float) -> bool:
        return bool(self._r.set(self._k(ns, key), b"1", nx=True, px=_px(ttl)))

    def append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None = None) -> None:
        self.batch([("append", ns, key, item, max_len, ttl)])

    @_guarded
    def items(self, ns: str, key: str) -> list[bytes]:
        return [bytes(v) for v in self._r.lrange(self._k(ns, key), 0, -1)]

    def log_append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        return self.log_extend(ns, key, [item], max_len, ttl, since)

    def log_extend(self, ns: str, key: str, items: list[bytes], max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        return self.batch([("log_extend", ns, key, items, max_len, ttl, since)])[0]  # type: ignore[no-any-return]

    def log_read(self, ns: str, key: str) -> tuple[int, list[bytes]]:
        return self.batch([("log_read", ns, key)])[0]  # type: ignore[no-any-return]

    @_guarded
    def batch(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        if not ops:
            return []
        keys, args = self._pack(ops)
        return self._unpack(ops, self._script(keys, args))

    async def batch_async(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        """``batch`` on the event loop's own connection (state/redis_async.py): the loop goes on while
        Redis answers. The same script, breaker and errors; a store whose URL is not plain TCP (a
        socket path, TLS) or a caller's client makes the blocking call instead."""
        if self._aconn is None:
            return self.batch(ops)
        now = self._closed_breaker()
        if not ops:
            return []
        keys, args = self._pack(ops)
        try:
            try:
                got = await self._aconn.call("EVALSHA", self._batch.sha, len(keys), *keys, *args)
            except ReplyError as e:
                if not str(e).startswith("NOSCRIPT"):
                    raise
                got = await self._aconn.call("EVAL", _BATCH, len(keys), *keys, *args)  # and cached again
        except (OSError, TimeoutError) as e:
            raise self._opened(e, now) from e
        self._reached()
        return self._unpack(ops, got)

    def _pack(self, ops: list[tuple[Any, ...]]) -> tuple[list[str], list[Any]]:
        """The script's KEYS and ARGV for ``ops`` (see _BATCH)."""
        keys: list[str] = []
        args: list[Any] = [len(ops)]
        for name, *op in ops:
            if name == "guard":  # no key: the positions (Lua's, from 1) of the calls it looks at
                args += [name, len(op[0]), *(i + 1 for i in op[0])]
                continue
            ns, key, *rest = op
            k = self._k(ns, key)
            keys.append(k)
            args.append(name)
            if name == "put":
                value, ttl = (*rest, None)[:2]
                args += [value, _px(ttl)]
            elif name == "append":
                item, max_len, ttl = (*rest, None)[:3]
                args += [item, max_len, _px(ttl)]
            elif name == "log_read":
                keys.append(k + ":seq")
            elif name == "log_extend":
                items, max_len, ttl, since = rest
                keys.append(k + ":seq")
                args += [len(items), *items, max_len, _px(ttl), since, LOG_TAIL]
            elif name not in BATCH_CALLS:
                raise ValueError(f"batch takes {', '.join(sorted(BATCH_CALLS))}, not {name!r}")
        return keys, args

    @staticmethod
    def _unpack(ops: list[tuple[Any, ...]], replies: Any) -> list[Any]:
        """Per call its result, as the memory store gives it."""
        out: list[Any] = []
        for (name, *_), r in zip(ops, replies):
            if name in ("get", "pop"):
                out.append(bytes(r) if r is not None else None)
            elif r is None:  # not run: a guard stopped the batch
                out.append(None)
            elif name == "items":
                out.append([bytes(v) for v in r])
            elif name == "log_read":
                out.append((int(r[0]), [bytes(v) for v in r[1]]))
            elif name == "log_extend":
                seq, between = r
                out.append((int(seq), None if between == 0 else [bytes(v) for v in between]))
            elif name == "guard":
                out.append(r == 1)
            else:
                out.append(None)
        return out

    def _script(self, keys: list[str], args: list[Any]) -> Any:
        """The batch script's EVALSHA on the client's one connection, under the client's own lock.

        Every tree makes this call, and redis-py's command path around it (retry wrapper, response
        callbacks, observability hooks) cost more than the call: 56-95 us of CPU per call against
        31-62 us for the connection's own send and read (measured here, one run). A connection
        error drops the connection (the next call reconnects, as the client would) and goes to the
        breaker; a server that lost the script (restarted) gets it from the library's Script call."""
        conn = getattr(self._r, "connection", None)
        lock = getattr(self._r, "single_connection_lock", None)
        if conn is None or lock is None:  # a caller's client on a pool: the library's own path
            return self._batch(keys=keys, args=args)
        with lock:
            try:
                conn.send_packed_command(conn.pack_command("EVALSHA", self._batch.sha, len(keys), *keys, *args),
                                         check_health=False)
                return conn.read_response()
            except self._no_script:
                pass
            except self._transport_errors:
                conn.disconnect()
                raise
        return self._batch(keys=keys, args=args)  # loads the script, then runs it

    @_guarded
    def keys(self, ns: str) -> list[str]:
        # SCAN, not an index set kept on every write: such a set gains a member per tree summary and
        # loses it only when somebody lists the keys, so Redis would grow without bound
        start = len(self._k(ns, ""))
        out = set()
        for raw in self._r.scan_iter(match=_glob_escape(self._k(ns, "")) + "*", count=1000):
            key = (raw.decode() if isinstance(raw, bytes) else str(raw))[start:]
            if not key.endswith(":seq"):  # a log's sequence number, not a key of its own
                out.add(key)
        return sorted(out)

    def close(self) -> None:
        self._r.close()
        if self._aconn is not None:
            self._aconn.close()


def _async_connection(client: Any, timeout: float) -> AsyncRedisConnection | None:
    """The event loop's connection to the client's server: plain TCP only (a socket path or TLS keeps
    the blocking path, which redis-py's connection classes cover)."""
    import redis

    pool = client.connection_pool
    kw = pool.connection_kwargs
    if pool.connection_class is not redis.Connection or "host" not in kw:
        return None
    return AsyncRedisConnection(kw["host"], int(kw.get("port") or 6379), kw.get("username"), kw.get("password"),
                                int(kw.get("db") or 0), timeout)


def _px(ttl: float | None) -> int:
    """A TTL in whole milliseconds, at least 1; 0 for none (as the scripts take it)."""
    return 0 if ttl is None else max(1, int(ttl * 1000))


def _glob_escape(s: str) -> str:
    """A literal prefix for SCAN MATCH (its glob characters escaped)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in s)
