"""Round trips to the shared state that a stage asks for and a driver makes, so that one stage's code
runs both blocking (the SDK plugin, ``tokenwatch score``, tests) and on the event loop without
blocking it (the service over Redis).

A stage that needs the shared state is written as a generator: it yields a ``Trip`` (a store and
the batch calls for it) and gets the batch's results back, or the exception that kept them from
coming. ``run`` makes each trip with the store's blocking ``batch``; ``run_async`` awaits the store's
``batch_async`` where it has one, so the loop goes on receiving while Redis answers (the replica's
round trips took 0.24-0.62 ms at the median in bench/latency_scaling.py's watchdog rounds, runs 17-23),
and ``meanwhile`` (the next release's normalize) runs in that wait; it falls back to ``batch`` for a
store without (memory: no wait to hide).

A trip's follow-up asks for its own trip the same way: enrich storing a tree's summary again with the
early outcome it took (Carry.flush_steps sends it), a replica reading a baseline's whole log when it
starts or fell far behind (one more trip for every such log of the release).

The generators nest with ``yield from``: a chain's steps are its stages' steps, a stage's steps its
engine's, and the Carry's (state/carry.py) sit under those.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Generator
from typing import Any, TypeVar

R = TypeVar("R")
log = logging.getLogger("otel_tokenwatch.pipeline")


class Trip:
    """One round trip a stage asks for: ``ops`` in one ``batch`` on ``state``."""

    __slots__ = ("ops", "state")

    def __init__(self, state: Any, ops: list[tuple[Any, ...]]) -> None:
        self.state = state
        self.ops = ops


#: what a stage's steps are: yields trips, is sent their results, returns its own result
Steps = Generator[Trip, list[Any], R]


def batch_steps(state: Any, ops: list[tuple[Any, ...]]) -> Steps[list[Any]]:
    """``state.batch(ops)`` as a step: through the Carry's steps when ``state`` is one."""
    steps = getattr(state, "batch_steps", None)
    if steps is not None:
        return (yield from steps(ops))  # type: ignore[no-any-return]
    return (yield Trip(state, ops))


def run(steps: Steps[R]) -> R:
    """Drive ``steps`` to the end, each trip a blocking ``batch``."""
    try:
        trip = next(steps)
        while True:
            try:
                got = trip.state.batch(trip.ops)
            except Exception as exc:  # noqa: BLE001 - the stage that asked decides what its failure means
                trip = steps.throw(exc)
            else:
                trip = steps.send(got)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(steps: Steps[R], meanwhile: Callable[[], None] | None = None) -> R:
    """Drive ``steps`` to the end, awaiting each trip where the store can be awaited; ``meanwhile``
    runs while the first trip is out (its request sent), for work that needs no reply."""
    try:
        trip = next(steps)
        while True:
            try:
                wait = getattr(trip.state, "batch_async", None)
                if wait is None:
                    got = trip.state.batch(trip.ops)
                elif meanwhile is None:
                    got = await wait(trip.ops)
                else:
                    out = asyncio.ensure_future(wait(trip.ops))
                    await asyncio.sleep(0)  # the task sends the request and waits for the reply
                    try:
                        meanwhile()
                    except Exception:
                        log.exception("work done while a round trip was out failed")
                    meanwhile = None
                    got = await out
            except Exception as exc:  # noqa: BLE001 - as in run
                trip = steps.throw(exc)
            else:
                trip = steps.send(got)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def awaitable(state: Any) -> bool:
    """Whether trips on ``state`` (a store, or a Carry over one: it hands the store's on) can be awaited."""
    return callable(getattr(state, "batch_async", None))
