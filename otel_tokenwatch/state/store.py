"""State that outlives one tree, behind one small interface with two backends.

Per-workflow baselines, inflation windows per principal, outcomes that
arrived before their tree, idempotency keys of reported outcomes and
fingerprint windows per conversation all live here. Values are bytes (the
caller owns the encoding, usually orjson), every entry is bounded by a TTL
and every list by a length, so state can never grow without limit.

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
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

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

    def keys(self, ns: str) -> list[str]:
        """Keys currently held in a namespace (for expiry sweeps and reports)."""

    def close(self) -> None:
        """Persist (memory backend) or disconnect (Redis)."""


class MemoryStore:
    """In-process state with per-key TTL, a global entry bound and snapshots to disk.

    Thread-safe (the SDK exporter drives stages from a worker thread while the
    application thread reports outcomes).
    """

    def __init__(self, max_entries: int = 1_000_000, snapshot_path: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._data: OrderedDict[tuple[str, str], tuple[float | None, bytes | list[bytes]]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.RLock()
        self._clock = clock
        self.snapshot_path = snapshot_path
        if snapshot_path and os.path.exists(snapshot_path):
            self.restore(snapshot_path)

    def _live(self, k: tuple[str, str]) -> tuple[float | None, bytes | list[bytes]] | None:
        got = self._data.get(k)
        if got is None:
            return None
        exp = got[0]
        if exp is not None and exp <= self._clock():
            del self._data[k]
            return None
        return got

    def _set(self, k: tuple[str, str], exp: float | None, v: bytes | list[bytes]) -> None:
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

    def keys(self, ns: str) -> list[str]:
        with self._lock:
            now = self._clock()
            return [k for (n, k), (exp, _) in self._data.items() if n == ns and (exp is None or exp > now)]

    # --- persistence ---------------------------------------------------------------
    def snapshot(self, path: str | None = None) -> None:
        """Write every live entry atomically (temp file + rename)."""
        path = path or self.snapshot_path
        if not path:
            return
        with self._lock:
            now = self._clock()
            rows = [[ns, key, exp, v.hex() if isinstance(v, bytes) else [i.hex() for i in v]]
                    for (ns, key), (exp, v) in self._data.items() if exp is None or exp > now]
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
                val: bytes | list[bytes] = bytes.fromhex(v) if isinstance(v, str) else [bytes.fromhex(i) for i in v]
                self._set((ns, key), exp, val)

    def close(self) -> None:
        self.snapshot()
