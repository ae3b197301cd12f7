"""The contract between the assembler and the stages that work on trees.

A stage is one small object with one method over a tree. It reads spans
(``tree.spans``, ``entry.attrs``, ``entry.call``) and writes attributes with
``entry.set``; it never builds SDK span objects and never drops a span.
Stages run in the order the pipeline lists them. A stage that raises leaves
the tree as the earlier stages made it: the tree is still exported, and the
failure is counted (``tokenwatch.processor.failed``).

The same chain runs in ``tokenwatch serve``, ``tokenwatch score``, the SDK
exporter and for coding-agent sessions, so every rule has one
implementation.

Trees released together go through the chain together (``process_many``):
stage by stage, each tree in release order. A stage whose state lives in a
shared store (Redis) offers ``process_many`` too and reads and writes the
state of all of them in one round trip, with the answers each tree would have
had one at a time; the others are called per tree. A stage may leave its calls
for a later stage's round trip to carry (enrich's for score's: one round trip
per release, state/carry.py) and says at ``finish_many`` how they went.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import TokenwatchError
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.state.carry import Carry
from otel_tokenwatch.state.trip import Steps, run

WARN_EVERY = 10.0
#: trees that go through the stages together at most: one release after a stall is not one script of
#: thousands of calls to the shared state
EMIT_SLICE = 32


def slices(trees: list[Tree]) -> Iterator[list[Tree]]:
    """``trees`` in slices of at most EMIT_SLICE, for ``ProcessorChain.process_many``."""
    for at in range(0, len(trees), EMIT_SLICE):
        yield trees[at:at + EMIT_SLICE]

log = logging.getLogger("otel_tokenwatch.pipeline")


@runtime_checkable
class TreeProcessor(Protocol):
    """One stage of the traces pipeline."""

    name: str

    def process(self, tree: Tree) -> None:
        """Work on the tree in place (add attributes, leave facts for later stages)."""

    def start(self) -> None:
        """Called once before the first tree (load state, start helpers)."""

    def shutdown(self) -> None:
        """Called once after the last tree (persist state)."""


class BaseProcessor:
    """Default no-op start/shutdown so small stages only write ``process``."""

    name = "base"
    #: whether the stage reads or writes the shared state; a chain's leading stages that do not may run
    #: on the next release's trees while a release waits for its round trip (``ProcessorChain.prepare``)
    shared_state = True

    def process(self, tree: Tree) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def start(self) -> None:
        return None

    def shutdown(self) -> None:
        return None


@dataclass
class ProcessorFactory:
    """Ties a config type name to its default config and its constructor (Collector style)."""

    type: str
    config_class: builtins.type  # builtins: the field "type" shadows it in the class body
    create: Callable[[Any, ProcessorContext], TreeProcessor]
    stability: str = "alpha"


@dataclass
class ProcessorContext:
    """What a stage may reach besides the tree: shared state, metrics, data dir."""

    data_dir: str = "./tokenwatch-data"
    state: Any = None  # otel_tokenwatch.state.StateStore
    meter: Any = None  # opentelemetry.metrics.Meter
    telemetry: Any = None  # otel_tokenwatch.telemetry.SelfTelemetry
    extras: dict[str, Any] = field(default_factory=dict)

    def carry(self) -> Carry | None:
        """The one ``Carry`` over ``state`` that the stages of this context share: an earlier stage
        defers its calls there, a later one's round trip takes them along (see state/carry.py)."""
        if self.state is None:
            return None
        got = self.extras.get("carry")
        if got is None or got.state is not self.state:
            got = self.extras["carry"] = Carry(self.state)
        return got


#: tree.facts key: the tree went through the chain's leading stages ahead of its release (``prepare``)
PREPARED = "prepared_stages"


class ProcessorChain:
    """Runs stages in order; contains each stage's failure to that stage."""

    def __init__(self, processors: list[TreeProcessor], on_failure: Callable[[str], None] | None = None) -> None:
        self.processors = processors
        self._order = {p.name: i for i, p in enumerate(processors)}
        #: how many leading stages touch no shared state (``prepare`` runs them ahead)
        self._lead = next((i for i, p in enumerate(processors) if getattr(p, "shared_state", True)), len(processors))
        self._on_failure = on_failure
        #: processor -> (when it was last logged, failures since): an outage fails every tree, and the
        #: log says so every WARN_EVERY seconds with a count rather than once a tree (the metric counts all)
        self._warned: dict[str, tuple[float, int]] = {}

    def _warn(self, name: str, exc: Exception) -> None:
        now = time.monotonic()
        last, since = self._warned.get(name, (-WARN_EVERY, 0))
        if now - last < WARN_EVERY:
            self._warned[name] = (last, since + 1)
            return
        self._warned[name] = (now, 0)
        log.warning("processor failed; tree exported without it",
                    # only our own errors' messages: another exception's text may quote span content
                    extra={"processor": name, "error": f"{type(exc).__name__}: {exc.message}"
                           if isinstance(exc, TokenwatchError) else type(exc).__name__,
                           "failures_not_logged": since})

    def start(self) -> None:
        for p in self.processors:
            p.start()

    def shutdown(self) -> None:
        for p in self.processors:
            try:
                p.shutdown()
            except Exception:
                log.exception("processor shutdown failed", extra={"processor": p.name})

    def process(self, tree: Tree) -> None:
        self.process_many([tree])

    def process_many(self, trees: list[Tree]) -> None:
        """The trees released together, stage by stage (see the module's docstring). A stage's own
        ``process_many(trees)`` works on each tree as its ``process`` would, in order, and returns per
        tree the exception that ``process`` would have raised, or None; its ``finish_many(trees)``,
        called after the last stage, says the same of the work it left for a later stage's round trip
        to carry (state/carry.py)."""
        run(self.steps(trees))

    def prepare(self, trees: list[Tree]) -> None:
        """Run the leading stages that touch no shared state (normalize) on trees whose release comes
        next, while the one before awaits its round trip: that wait does the next tree's work. ``steps``
        then starts those trees after them. Each tree is still staged in the chain's order."""
        todo = [t for t in trees if PREPARED not in t.facts]
        if not todo or not self._lead:
            return
        for t in todo:
            t.facts[PREPARED] = self._lead
        run(self._stages(todo, self.processors[:self._lead]))

    def steps(self, trees: list[Tree]) -> Steps[None]:
        """``process_many`` with the stages' round trips left to the driver (state/trip.py): a stage
        with ``process_many_steps`` (``finish_many_steps``) asks for them, the others run as they are."""
        unprepared = [t for t in trees if PREPARED not in t.facts]  # all, but after ``prepare``
        if unprepared:
            yield from self._stages(unprepared, self.processors[:self._lead])
        yield from self._stages(trees, self.processors[self._lead:])
        for p in self.processors:
            finish = getattr(p, "finish_many_steps", None)
            if finish is None and (blocking := getattr(p, "finish_many", None)) is not None:
                finish = _no_trips(blocking)
            if finish is not None:
                yield from self._said(p.name, trees, finish)

    def _stages(self, trees: list[Tree], stages: list[TreeProcessor]) -> Steps[None]:
        for p in stages:
            steps = getattr(p, "process_many_steps", None)
            if steps is not None:
                yield from self._said(p.name, trees, steps)
                continue
            many = getattr(p, "process_many", None)
            if many is None:
                for tree in trees:
                    try:
                        p.process(tree)
                    except Exception as exc:  # noqa: BLE001 - a stage failure never loses the tree
                        self._failed(p.name, tree, exc)
                continue
            yield from self._said(p.name, trees, _no_trips(many))

    def _said(self, name: str, trees: list[Tree], call: Callable[[list[Tree]], Steps[list[Exception | None]]]
              ) -> Steps[None]:
        try:
            errors = yield from call(trees)
        except Exception as exc:  # noqa: BLE001 - e.g. the shared state unreachable: all of them
            errors = [exc] * len(trees)
        for tree, err in zip(trees, errors):
            if err is not None:
                self._failed(name, tree, err)

    def _failed(self, name: str, tree: Tree, exc: Exception) -> None:
        failed = tree.facts.setdefault("failed_stages", [])
        if name in failed:
            return  # said once (a stage's own work and what it left to carry may both fail)
        failed.append(name)
        failed.sort(key=lambda n: self._order.get(n, len(self._order)))  # in the chain's order, whenever each failure was found
        self._warn(name, exc)
        if self._on_failure is not None:
            self._on_failure(name)
        root = tree.root()
        if root is not None and not tree.late:  # said on the tree itself: its numbers lack this stage
            try:
                root.set(semconv.PROCESSORS_FAILED, ",".join(failed))
            except Exception:
                log.debug("could not mark the failed stage on the root", exc_info=True)


def _no_trips(call: Callable[[list[Tree]], list[Exception | None]]
              ) -> Callable[[list[Tree]], Steps[list[Exception | None]]]:
    """A stage's blocking ``process_many`` (or ``finish_many``) as steps that ask for no trip (its own
    round trips, if any, block)."""

    def steps(trees: list[Tree]) -> Steps[list[Exception | None]]:
        yield from ()  # a generator, with no trip to ask for
        return call(trees)

    return steps
