"""Where outcomes wait for their trees, and trees wait for their outcomes.

Three kinds of entries in the state store (memory or Redis, so every replica
sees them), each with a TTL:

* ``outcome.pending``: outcomes reported before their tree was released,
  by ``t:<trace id>`` or ``c:<conversation id>``; the enrich stage takes them.
* ``outcome.trees``: a short summary of each released tree (workflow, team,
  outcome, cost, root span id, resource), so an outcome reported after the
  export can update the metrics and add a ``tokenwatch.outcome`` span.
* ``outcome.seen``: idempotency keys; a report seen before counts once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from otel_tokenwatch.outcome.model import Outcome

NS_PENDING = "outcome.pending"
NS_TREES = "outcome.trees"
NS_CONV = "outcome.conv"
NS_SEEN = "outcome.seen"
NS_RES = "outcome.resource"


@dataclass
class TreeSummary:
    trace_id: str
    root_span_id: str
    workflow: str
    team: str
    outcome: str
    outcome_source: str
    cost_usd: float
    resource: str  # digest of the encoded Resource, stored once under outcome.resource
    end_time_unix_nano: int

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.__dict__)

    @classmethod
    def from_bytes(cls, data: bytes) -> TreeSummary:
        return cls(**orjson.loads(data))


class OutcomeBook:
    def __init__(self, state: Any, pending_ttl: float = 3600.0, tree_ttl: float = 86400.0,
                 seen_ttl: float = 86400.0) -> None:
        self.state = state
        self.pending_ttl = pending_ttl
        self.tree_ttl = tree_ttl
        self.seen_ttl = seen_ttl
        self._digests: dict[bytes, str] = {}
        #: keys held by this process and when they expire, to count outcomes that never found their tree
        self._held: dict[str, float] = {}

    def expired(self, now: float) -> int:
        """How many outcomes held here expired without their tree (each counted once)."""
        gone = []
        for k, t in self._held.items():  # insertion order is expiry order (one TTL): stop at the first live one
            if t > now:
                break
            gone.append(k)
        n = 0
        for k in gone:
            del self._held[k]
            # a trace outcome not taken by its tree (take_pending drops it from _held) and now gone;
            # a conversation outcome also settles later trees, so its expiry is its normal end
            if k.startswith("t:") and self.state.get(NS_PENDING, k) is None:
                n += 1
        return n

    def first_time(self, o: Outcome) -> bool:
        return bool(self.state.add_if_absent(NS_SEEN, o.key, self.seen_ttl))

    def hold(self, o: Outcome) -> None:
        import time

        key = f"t:{o.trace_id}" if o.trace_id else f"c:{o.conversation_id}"
        self.state.put(NS_PENDING, key, o.to_bytes(), ttl=self.pending_ttl)
        if len(self._held) < 100_000:
            self._held.pop(key, None)  # re-inserted at the end: the dict stays in expiry order
            self._held[key] = time.time() + self.pending_ttl

    def take_pending(self, trace_id: str, conversation_ids: list[str]) -> Outcome | None:
        """The outcome held for this trace (by id first, then by conversation)."""
        raw = self.state.pop(NS_PENDING, f"t:{trace_id}")
        if raw is not None:
            self._held.pop(f"t:{trace_id}", None)
        if raw is None:
            for c in conversation_ids:
                # a conversation outcome settles every tree of the conversation: keep it
                raw = self.state.get(NS_PENDING, f"c:{c}")
                if raw is not None:
                    break
        return Outcome.from_bytes(raw) if raw is not None else None

    def resource_key(self, data: bytes) -> str:
        """Resources are shared by many trees: store each once, by digest."""
        key = self._digests.get(data)
        if key is None:  # a handful of resources, each digested once (bytes keep their hash)
            if len(self._digests) >= 1024:
                self._digests.clear()
            key = self._digests[data] = hashlib.sha256(data).hexdigest()[:24]
        if self.state.get(NS_RES, key) is None:
            self.state.put(NS_RES, key, data, ttl=self.tree_ttl)
        return key

    def resource(self, key: str) -> bytes:
        return self.state.get(NS_RES, key) or b""

    def remember(self, s: TreeSummary, conversation_ids: list[str]) -> None:
        self.state.put(NS_TREES, s.trace_id, s.to_bytes(), ttl=self.tree_ttl)
        for c in conversation_ids:
            self.state.append(NS_CONV, c, s.trace_id.encode(), max_len=1000, ttl=self.tree_ttl)

    def released(self, trace_id: str) -> TreeSummary | None:
        raw = self.state.get(NS_TREES, trace_id)
        return TreeSummary.from_bytes(raw) if raw is not None else None

    def released_in_conversation(self, conversation_id: str) -> list[TreeSummary]:
        out = []
        for t in dict.fromkeys(self.state.items(NS_CONV, conversation_id)):
            s = self.released(t.decode())
            if s is not None:
                out.append(s)
        return out

    def update(self, s: TreeSummary) -> None:
        self.state.put(NS_TREES, s.trace_id, s.to_bytes(), ttl=self.tree_ttl)
