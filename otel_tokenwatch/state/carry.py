"""One round trip to the shared state per released tree, across the stages that need it.

Enrich takes a tree's early outcome and stores its summary; score appends the tree's baseline
sample and reads what other replicas appended. Each was one round trip, and with Redis on the
same two cores every round trip is a sleep and a wake-up: the p99 at half load went from 13-16 ms
(state in memory) to 35-48 ms (in Redis) with two of them, 20-30 ms with one.

So enrich defers its calls here and goes on as if no outcome were held for the tree (almost always
true: outcomes arrive after their trees); the next stage's batch carries them, in front of its own
calls, behind a ``guard``: when the deferred calls do find an outcome, Redis runs none of the later
stage's calls (they were planned on the wrong outcome), enrich writes the outcome it took, and the
later stage is told to plan again (``Replan``) on a second round trip. Whatever no later stage
carried, the chain's end sends (``flush``). Every call keeps its order and its atomicity: the
deferred calls run first in the same script.

The stages of one chain run on one thread at a time, so the deferred calls need no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from otel_tokenwatch.state.trip import Steps, Trip, run

log = logging.getLogger("otel_tokenwatch.state")


class Replan(Exception):
    """The carried calls took an outcome: the calls planned after them were not run; plan them again."""


#: called with the deferred calls' results, or with the exception that kept them from running
Then = Callable[[list[Any] | None, Exception | None], None]


class Carry:
    """A state store's batch with calls deferred by earlier stages in front (see the module)."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._ops: list[tuple[Any, ...]] = []
        self._guarded: list[int] = []
        self._thens: list[tuple[int, Then]] = []

    def defer(self, ops: list[tuple[Any, ...]], then: Then, guard: list[int] | None = None) -> None:
        """Run ``ops`` with the next batch (or ``flush``), then ``then(results, None)``; when any of the
        results at the ``guard`` positions (into ``ops``) is not None, that batch's own calls are not run."""
        at = len(self._ops)
        self._ops += ops
        self._guarded += [at + i for i in guard or ()]
        self._thens.append((len(ops), then))

    def _take(self) -> tuple[list[tuple[Any, ...]], list[int], list[tuple[int, Then]]]:
        taken = self._ops, self._guarded, self._thens
        self._ops, self._guarded, self._thens = [], [], []
        return taken

    def batch(self, ops: list[tuple[Any, ...]]) -> list[Any]:
        """``ops`` in one round trip with the deferred calls; raises Replan when the guard stopped them."""
        return run(self.batch_steps(ops))

    def batch_steps(self, ops: list[tuple[Any, ...]]) -> Steps[list[Any]]:
        """``batch`` as a step (state/trip.py): the round trip is the driver's to make."""
        if not self._thens:
            return (yield Trip(self.state, ops))
        deferred, guarded, thens = self._take()
        lead = [*deferred, ("guard", guarded)] if guarded else deferred
        try:
            got: list[Any] = yield Trip(self.state, lead + ops)
        except Exception as exc:
            _tell(thens, None, exc)
            raise
        _tell(thens, got[:len(deferred)], None)
        if guarded and got[len(deferred)]:
            raise Replan()
        return got[len(lead):]

    def flush(self) -> None:
        """Send what no later stage carried (the chain's end calls this)."""
        run(self.flush_steps())

    def flush_steps(self) -> Steps[None]:
        """``flush`` as a step. A follow-up may defer more calls (enrich stores a summary again with the
        outcome it took): those go on a further trip, so that nothing is left for an unrelated batch."""
        while self._thens:
            deferred, _, thens = self._take()
            try:
                got = yield Trip(self.state, deferred)
            except Exception as exc:  # noqa: BLE001 - each deferring stage reports it for its trees
                _tell(thens, None, exc)
                continue
            _tell(thens, got, None)

    def __getattr__(self, name: str) -> Any:
        # every other call goes straight to the store (batch_async, which trip.awaitable looks for): the
        # deferred calls only ever ride on a batch
        return getattr(self.state, name)


def _tell(thens: list[tuple[int, Then]], got: list[Any] | None, exc: Exception | None) -> None:
    at = 0
    for n, then in thens:
        try:
            then(None if got is None else got[at:at + n], exc)
        except Exception:  # a stage's own follow-up failing is that stage's: never the next stage's batch
            log.exception("a deferred state call's follow-up failed")
        at += n
