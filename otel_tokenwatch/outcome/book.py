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
import time
from collections.abc import Callable
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
        #: resource digest -> when this process stores it again (monotonic)
        self._stored: dict[str, float] = {}
        #: resources to store with the next settle (digest -> resource bytes)
        self._to_store: dict[str, bytes] = {}
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
        key = f"t:{o.trace_id}" if o.trace_id else f"c:{o.conversation_id}"
        self.state.put(NS_PENDING, key, o.to_bytes(), ttl=self.pending_ttl)
        if len(self._held) < 100_000:
            self._held.pop(key, None)  # re-inserted at the end: the dict stays in expiry order
            self._held[key] = time.time() + self.pending_ttl

    def settle_many(self, trees: list[tuple[str, list[str], TreeSummary | None]]) -> list[Outcome | None]:
        """The trees released together, (trace id, conversation ids, summary) each, in one atomic step
        (one round trip): each takes the outcome held for it (by trace id first, then by conversation;
        a conversation's outcome stays for its later trees) and its summary is remembered. An outcome
        that arrives on any replica after this finds the summary; one held before it is taken here.
        When an outcome is taken, the caller stores the summary again with it (``update_many``)."""
        ops, _, taken = self.settle_ops(trees)
        try:
            got = self.state.batch(ops)
        except Exception as exc:
            taken(None, exc)
            raise
        return taken(got, None)

    def settle_ops(self, trees: list[tuple[str, list[str], TreeSummary | None]]
                   ) -> tuple[list[tuple[Any, ...]], list[int], Callable[[list[Any] | None, Exception | None],
                                                                    list[Outcome | None]]]:
        """``settle_many`` as the batch calls, the positions of those that find a held outcome (a
        carry.py guard), and the function that reads their results (or their failure) as the outcomes
        taken, so that a later stage's round trip can carry them."""
        # the resources their summaries name, before the summaries (a reader finds both or neither)
        ops: list[tuple[Any, ...]] = [("put", NS_RES, k, data, self.tree_ttl) for k, data in self._to_store.items()]
        self._to_store = {}
        stored = [op[2] for op in ops]
        skip = len(ops)
        finds: list[int] = []
        for trace_id, conversation_ids, summary in trees:
            finds += range(len(ops), len(ops) + 1 + len(conversation_ids))
            ops.append(("pop", NS_PENDING, f"t:{trace_id}"))
            ops += [("get", NS_PENDING, f"c:{c}") for c in conversation_ids]
            if summary is not None:
                ops.append(("put", NS_TREES, trace_id, summary.to_bytes(), self.tree_ttl))
                ops += [("append", NS_CONV, c, trace_id.encode(), 1000, self.tree_ttl) for c in conversation_ids]

        def taken(got: list[Any] | None, exc: Exception | None) -> list[Outcome | None]:
            if got is None:
                for k in stored:  # stored with a later settle
                    self._stored.pop(k, None)
                return [None] * len(trees)
            out: list[Outcome | None] = []
            at = skip
            for trace_id, conversation_ids, summary in trees:
                raw = got[at]
                if raw is not None:
                    self._held.pop(f"t:{trace_id}", None)
                else:
                    raw = next((r for r in got[at + 1:at + 1 + len(conversation_ids)] if r is not None), None)
                at += 1 + len(conversation_ids) + ((1 + len(conversation_ids)) if summary is not None else 0)
                out.append(Outcome.from_bytes(raw) if raw is not None else None)
            return out

        return ops, finds, taken

    def resource_key(self, data: bytes) -> str:
        """Resources are shared by many trees: store each once, by digest (with the next settle)."""
        key = self._digests.get(data)
        if key is None:  # a handful of resources, each digested once (bytes keep their hash)
            if len(self._digests) >= 1024:
                self._digests.clear()
            key = self._digests[data] = hashlib.sha256(data).hexdigest()[:24]
        # stored again once a minute (or half its TTL), not checked per tree: every tree that names it
        # keeps it alive, and a store that evicted it (the memory bound) gets it back soon
        now = time.monotonic()
        if now >= self._stored.get(key, 0.0):
            self._to_store[key] = data
            if len(self._stored) >= 1024:
                self._stored.clear()
            self._stored[key] = now + min(60.0, self.tree_ttl / 2)
        return key

    def resource(self, key: str) -> bytes:
        return self.state.get(NS_RES, key) or b""

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
        self.update_many([s])

    def update_many(self, summaries: list[TreeSummary]) -> None:
        """Store summaries again (with the outcome their trees took), in one round trip."""
        if summaries:
            self.state.batch(self.update_ops(summaries))

    def update_ops(self, summaries: list[TreeSummary]) -> list[tuple[Any, ...]]:
        """``update_many`` as batch calls, for a caller that sends them with others (state/carry.py)."""
        return [("put", NS_TREES, s.trace_id, s.to_bytes(), self.tree_ttl) for s in summaries]
