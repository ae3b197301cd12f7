"""A sliding-window quantile sketch: log-spaced buckets (DDSketch style) per time slot.

Relative accuracy about 1%, memory bounded by the number of distinct
buckets times slots, mergeable across replicas (it is plain counts), and
serializable to the state store as JSON. Old slots fall out of the window
by time; the oldest slots are also dropped when the count bound is hit.
"""

from __future__ import annotations

import math
from typing import Any

GAMMA = 1.02  # bucket width: values within 2% share a bucket (~1% relative error)
_LOG_GAMMA = math.log(GAMMA)
SLOTS = 48


class WindowSketch:
    def __init__(self, window_s: float, max_count: int, data: dict[str, Any] | None = None) -> None:
        self.slot_s = max(1.0, window_s / SLOTS)
        self.window_s = window_s
        self.max_count = max_count
        #: slot number -> {bucket index: count}; bucket -1 holds zeros
        self.slots: dict[int, dict[int, int]] = {}
        if data:
            self.slots = {int(s): {int(b): int(c) for b, c in bs.items()} for s, bs in data.get("slots", {}).items()}
        #: counts held, kept as slots come and go (read on every add and every judgement)
        self._count = sum(sum(bs.values()) for bs in self.slots.values())

    def to_dict(self) -> dict[str, Any]:
        return {"slots": {str(s): {str(b): c for b, c in bs.items()} for s, bs in self.slots.items()}}

    @staticmethod
    def _bucket(v: float) -> int:
        return -1 if v <= 0 else math.ceil(math.log(v) / _LOG_GAMMA)

    def _expire(self, now: float) -> None:
        oldest = int((now - self.window_s) // self.slot_s)
        for s in [s for s in self.slots if s <= oldest]:
            self._count -= sum(self.slots.pop(s).values())
        while self._count > self.max_count and len(self.slots) > 1:
            self._count -= sum(self.slots.pop(min(self.slots)).values())

    def add(self, v: float, now: float) -> None:
        slot = int(now // self.slot_s)
        b = self._bucket(v)
        bs = self.slots.setdefault(slot, {})
        bs[b] = bs.get(b, 0) + 1
        self._count += 1
        self._expire(now)

    @property
    def count(self) -> int:
        return self._count

    def quantile(self, q: float, now: float) -> float | None:
        self._expire(now)
        merged: dict[int, int] = {}
        for bs in self.slots.values():
            for b, c in bs.items():
                merged[b] = merged.get(b, 0) + c
        total = sum(merged.values())
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = 0
        for b in sorted(merged):
            seen += merged[b]
            if seen > rank:
                return 0.0 if b == -1 else 2 * GAMMA**b / (GAMMA + 1)
        return None
