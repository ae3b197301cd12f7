"""State that outlives one tree, behind one small interface with two backends.

Per-workflow baselines, inflation windows per principal, outcomes that
arrived before their tree, idempotency keys of reported outcomes and
fingerprint windows per conversation all live here. Values are bytes (the
caller owns the encoding, usually orjson), every entry is bounded by a TTL
and every list by a length, so state can never grow without limit.

State that several replicas add to on every tree (a workflow's baseline) is a
log with sequence numbers rather than a value read, changed and written back:
an append is one atomic step that also hands back what others appended since
the caller last looked, so no replica's samples are lost to another's write
and a replica that is up to date reads nothing but its own sequence number.

The memory backend serves a single process and snapshots to the data
directory so baselines survive a restart; the Redis backend (for replicas
behind the Collector's load-balancing exporter) implements the same calls
with the same meaning, so the stages cannot tell which one they run on.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import orjson


class StateStore(Protocol):
    def get(self, ns: str, key: str) -> bytes | None:
        """The value, or None when absent or expired."""

    def put(self, ns: str, key: str, value: bytes, ttl: float | None = None) -> None:
        """Set a value; ttl in seconds (None = keep until evicted by the bound)."""

    def pop(self, ns: str, key: str) -> bytes | None:
        """Remove and return a value (atomic: of two replicas popping, one gets it)."""

    def add_if_absent(self, ns: str, key: str, ttl: float) -> bool:
        """True the first time a key is added within its ttl (idempotency)."""

    def append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None = None) -> None:
        """Append to a list, keeping the newest ``max_len`` items."""

    def items(self, ns: str, key: str) -> list[bytes]:
        """The list's items, oldest first."""

    def log_append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        """Append to a sequenced log in one atomic step: the item's sequence number (1 for the first
        item of a log) and the items appended after sequence ``since`` and before this one, oldest
        first; None when they are not all at hand (trimmed away, more than one step fetches, or the
        log started again below ``since``): then ``log_read`` gives the whole log."""

    def log_extend(self, ns: str, key: str, items: list[bytes], max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        """``log_append`` of several items at once, back to back (no other writer between them): the
        last one's sequence number, and what others appended after ``since`` and before the first."""

    def log_read(self, ns: str, key: str) -> tuple[int, list[bytes]]:
        """The newest sequence number of a log and the items it holds, oldest first, read atomically
        (the items carry sequence numbers up to it, one apart)."""

    def batch(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        """Several calls in one atomic step (one Lua script in Redis; under the lock in memory),
        each ``(name, *args)`` of get, pop, put, append, items or log_extend; their results in order.
        The trees released together read and write their state in one round trip, not one per call.
        ``("guard", positions)`` stops the batch where it stands when any earlier get or pop at those
        positions returned a value: its result is True and every later call's None (not run);
        otherwise False (see carry.py)."""

    def keys(self, ns: str) -> list[str]:
        """Keys currently held in a namespace, sorted (for expiry sweeps and reports)."""

    def close(self) -> None:
        """Persist (memory backend) or disconnect (Redis)."""


#: the calls ``batch`` takes
BATCH_CALLS = frozenset({"get", "pop", "put", "append", "items", "log_extend", "log_read", "guard"})


class _Log:
    """A sequenced log of the memory backend: the newest items and how many were ever appended."""

    __slots__ = ("items", "seq")

    def __init__(self, max_len: int, seq: int = 0, items: list[bytes] | None = None) -> None:
        self.items: deque[bytes] = deque(items or (), maxlen=max_len)
        self.seq = seq


Value = bytes | list[bytes] | _Log


class MemoryStore:
    """In-process state with per-key TTL, a global entry bound and snapshots to disk.

    Thread-safe (the SDK exporter drives stages from a worker thread while the
    application thread reports outcomes).
    """

    def __init__(self, max_entries: int = 1_000_000, snapshot_path: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._data: OrderedDict[tuple[str, str], tuple[float | None, Value]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.RLock()
        self._clock = clock
        self.snapshot_path = snapshot_path
        if snapshot_path and os.path.exists(snapshot_path):
            self.restore(snapshot_path)

    def _live(self, k: tuple[str, str]) -> tuple[float | None, Value] | None:
        got = self._data.get(k)
        if got is None:
            return None
        exp = got[0]
        if exp is not None and exp <= self._clock():
            del self._data[k]
            return None
        return got

    def _set(self, k: tuple[str, str], exp: float | None, v: Value) -> None:
        self._data[k] = (exp, v)
        self._data.move_to_end(k)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def _exp(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def get(self, ns: str, key: str) -> bytes | None:
        with self._lock:
            got = self._live((ns, key))
            return got[1] if got is not None and isinstance(got[1], bytes) else None

    def put(self, ns: str, key: str, value: bytes, ttl: float | None = None) -> None:
        with self._lock:
            self._set((ns, key), self._exp(ttl), value)

    def pop(self, ns: str, key: str) -> bytes | None:
        with self._lock:
            got = self._live((ns, key))
            if got is None or not isinstance(got[1], bytes):
                return None
            del self._data[(ns, key)]
            return got[1]

    def add_if_absent(self, ns: str, key: str, ttl: float) -> bool:
        with self._lock:
            if self._live((ns, key)) is not None:
                return False
            self._set((ns, key), self._exp(ttl), b"1")
            return True

    def append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None = None) -> None:
        with self._lock:
            got = self._live((ns, key))
            lst = list(got[1]) if got is not None and isinstance(got[1], list) else []
            lst.append(item)
            if len(lst) > max_len:
                del lst[: len(lst) - max_len]
            self._set((ns, key), self._exp(ttl), lst)

    def items(self, ns: str, key: str) -> list[bytes]:
        with self._lock:
            got = self._live((ns, key))
            return list(got[1]) if got is not None and isinstance(got[1], list) else []

    def log_append(self, ns: str, key: str, item: bytes, max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        return self.log_extend(ns, key, [item], max_len, ttl, since)

    def log_extend(self, ns: str, key: str, items: list[bytes], max_len: int, ttl: float | None,
                   since: int) -> tuple[int, list[bytes] | None]:
        with self._lock:
            got = self._live((ns, key))
            log = got[1] if got is not None and isinstance(got[1], _Log) else _Log(max_len)
            if log.items.maxlen != max_len:
                log.items = deque(log.items, maxlen=max_len)
            gap = log.seq - since
            held = len(log.items)
            between: list[bytes] | None
            if gap == 0:
                between = []  # the caller is up to date: the common case costs no copy
            elif 0 < gap <= held:
                between = [log.items[i] for i in range(held - gap, held)]
            else:
                between = None
            log.items.extend(items)
            log.seq += len(items)
            self._set((ns, key), self._exp(ttl), log)  # in place: a busy log is not copied per append
            return log.seq, between

    def log_read(self, ns: str, key: str) -> tuple[int, list[bytes]]:
        with self._lock:
            got = self._live((ns, key))
            if got is None or not isinstance(got[1], _Log):
                return 0, []
            return got[1].seq, list(got[1].items)

    def batch(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        bad = next((op[0] for op in ops if op[0] not in BATCH_CALLS), None)
        if bad is not None:
            raise ValueError(f"batch takes {', '.join(sorted(BATCH_CALLS))}, not {bad!r}")
        with self._lock:
            out: list[Any] = []
            for op in ops:
                if op[0] != "guard":
                    out.append(getattr(self, op[0])(*op[1:]))
                elif any(out[i] is not None for i in op[1]):
                    return out + [True] + [None] * (len(ops) - len(out) - 1)
                else:
                    out.append(False)
            return out

    def keys(self, ns: str) -> list[str]:
        with self._lock:
            now = self._clock()
            return sorted(k for (n, k), (exp, _) in self._data.items() if n == ns and (exp is None or exp > now))

    # --- persistence ---------------------------------------------------------------
    def snapshot(self, path: str | None = None) -> None:
        """Write every live entry atomically (temp file + rename)."""
        path = path or self.snapshot_path
        if not path:
            return
        with self._lock:
            now = self._clock()
            rows = [[ns, key, exp, _dump(v)] for (ns, key), (exp, v) in self._data.items()
                    if exp is None or exp > now]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".state-")
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps({"version": 1, "rows": rows}))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def restore(self, path: str) -> None:
        try:
            doc = orjson.loads(Path(path).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return  # a damaged snapshot means a cold start, not a crash
        now = self._clock()
        with self._lock:
            for ns, key, exp, v in doc.get("rows", []):
                if exp is not None and exp <= now:
                    continue
                self._set((ns, key), exp, _load(v))

    def close(self) -> None:
        self.snapshot()


def _dump(v: Value) -> Any:
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, _Log):
        return {"seq": v.seq, "max_len": v.items.maxlen, "items": [i.hex() for i in v.items]}
    return [i.hex() for i in v]


def _load(v: Any) -> Value:
    if isinstance(v, str):
        return bytes.fromhex(v)
    if isinstance(v, dict):
        return _Log(int(v["max_len"]), int(v["seq"]), [bytes.fromhex(i) for i in v["items"]])
    return [bytes.fromhex(i) for i in v]
