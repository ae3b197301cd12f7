"""Trees released together go through the stages together: the same attributes as one at a time, and
a few round trips to the shared state for all of them instead of two or more per tree.

Trees are copies of the shared fixtures' traces (real instrumentations' spans) under two workflows,
with token counts varied so that some exceed their workflow's baseline, conversation ids on some
calls (conversation duplicates across trees) and early outcomes held for most of them."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
from collections import Counter
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.otlp import files
from otel_tokenwatch.outcome.model import Outcome
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import PREPARED, ProcessorChain, ProcessorContext
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from otel_tokenwatch.state.redis_store import RedisStore
from otel_tokenwatch.state.trip import run_async
from tests.conftest import FIXTURES
from tests.state.conftest import fresh_prefix

N_TREES = 60


def _set(span: Span, key: str, value: Any) -> None:
    for kv in span.attributes:
        if kv.key == key:
            break
    else:
        kv = span.attributes.add()
        kv.key = key
    if isinstance(value, int):
        kv.value.int_value = value
    else:
        kv.value.string_value = value


def workload() -> tuple[list[bytes], list[str]]:
    """Requests (one per trace) and the trace ids that get an early outcome."""
    templates: list[ExportTraceServiceRequest] = []
    for path in sorted(FIXTURES.glob("*.jsonl")):
        for rec in files.read(str(path)):
            if rec.signal == "traces":
                templates.append(rec.request)  # type: ignore[arg-type]
    rng = random.Random(3)
    reqs, outcomes = [], []
    for i in range(N_TREES):
        req = ExportTraceServiceRequest()
        req.CopyFrom(rng.choice(templates))
        tid = rng.randbytes(16)
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    sp.trace_id = tid
                    if not sp.parent_span_id:
                        _set(sp, "gen_ai.workflow.name", f"wf-{i % 2}")
                    for kv in sp.attributes:
                        if kv.key == "gen_ai.usage.input_tokens":
                            kv.value.int_value = rng.choice([100, 110, 120, 5000])  # now and then far more
                    if i % 5 == 0 and any(kv.key == "gen_ai.usage.input_tokens" for kv in sp.attributes):
                        _set(sp, "gen_ai.conversation.id", "conv-7")
        reqs.append(req.SerializeToString())
        if i % 4 != 3:
            outcomes.append(tid.hex())
    return reqs, outcomes


class Counting:
    """The store, counting calls (a batch is one call: one round trip over Redis)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.ops: Counter[str] = Counter()  # the batches' calls by name

    def __getattr__(self, name: str) -> Any:
        f = getattr(self.inner, name)
        if not callable(f):
            return f

        def call(*a: Any, **k: Any) -> Any:
            self.calls[name] += 1
            if name in ("batch", "batch_async"):
                self.ops.update(op[0] for op in a[0])
            return f(*a, **k)
        return call


def run(store: Any, reqs: list[bytes], early: list[str], together: int,
        failing_ok: bool = False, carried: bool = True, awaited: bool = False
        ) -> tuple[dict[str, dict[str, Any]], Counting]:
    """Every span's added attributes after the full chain, trees released ``together`` at a time;
    ``carried=False``: enrich takes its outcomes in a round trip of its own, before score runs;
    ``awaited``: each release's round trips awaited, the next release prepared meanwhile, as the
    service does over Redis (state/trip.py)."""
    counting = Counting(store)
    cfg = load(None)
    _, stages = build_processors(cfg, "traces", ProcessorContext(state=counting))
    for stage in stages:  # score against a baseline after a few trees
        if stage.name == "score":
            stage.scorer.cfg = stage.cfg = dataclasses.replace(stage.cfg, baseline_min_samples=3)
            if not carried:
                stage.scorer.state = counting
    enrich = next(s for s in stages if s.name == "enrich")
    if not carried:
        enrich.carry = None
    for tid in early:
        enrich.book.hold(Outcome(outcome="success", trace_id=tid))
    counting.calls.clear()
    counting.ops.clear()
    chain = ProcessorChain(stages)
    trees: list[Tree] = []
    for r in reqs:  # one release per request: the order of the workload
        asm = Assembler(AssembleConfig())
        asm.add(None, 0.0, None, r)
        trees += asm.flush(0.0)
    parts = [trees[at:at + together] for at in range(0, len(trees), together)]
    normalize = next(s for s in stages if s.name == "normalize")
    real = normalize.process

    def normalized(tree: Tree) -> None:
        counting.normalized[tree.trace_id_hex] += 1
        real(tree)

    counting.normalized = Counter()
    normalize.process = normalized  # type: ignore[method-assign]
    if awaited:
        async def releases() -> None:
            for i, part in enumerate(parts):
                ahead = functools.partial(chain.prepare, parts[i + 1]) if i + 1 < len(parts) else None
                await run_async(chain.steps(part), ahead)
        asyncio.run(releases())
        unprepared = [i for i, part in enumerate(parts) for t in part if PREPARED not in t.facts]
        assert unprepared == [0] * len(parts[0]), unprepared
        parts = []
    for at in range(0, len(trees) if parts else 0, together):
        if together == 1:
            chain.process(trees[at])
        else:
            chain.process_many(trees[at:at + together])
    out: dict[str, dict[str, Any]] = {}
    for t in trees:
        assert failing_ok or "failed_stages" not in t.facts, t.facts["failed_stages"]
        for e in t.spans:
            out[f"{t.trace_id_hex}/{e.span_id.hex()}"] = dict(e.added)  # every attribute the stages wrote
    return out, counting


def test_released_together_scores_as_one_at_a_time() -> None:
    reqs, early = workload()
    alone, _ = run(MemoryStore(), reqs, early, together=1)
    roots = [a for a in alone.values() if "tokenwatch.trace.waste_score" in a]
    # the workload exercises what is shared across trees: baselines, conversations, early outcomes
    reasons = Counter(a.get("tokenwatch.waste.reason") for a in alone.values())
    assert reasons["over_baseline"] and reasons["duplicate"], reasons
    assert sum(a["tokenwatch.outcome.source"] == "reported" for a in roots) >= N_TREES // 3
    for together in (2, 7, 32):
        got, _ = run(MemoryStore(), reqs, early, together)
        assert got == alone, f"{together} trees at a time"
    # enrich's calls carried by score's round trip (state/carry.py), found outcomes and all, give what
    # a round trip of enrich's own before score gives
    for together in (1, 7):
        assert run(MemoryStore(), reqs, early, together, carried=False)[0] == alone, together


def test_released_together_over_redis_in_one_round_trip_each(redis_url: str) -> None:
    reqs, early = workload()
    alone, one = run(RedisStore(redis_url, prefix=fresh_prefix("alone")), reqs, early, together=1)
    together, many = run(RedisStore(redis_url, prefix=fresh_prefix("together")), reqs, early, together=10)
    assert together == alone
    slices = N_TREES // 10
    # one at a time: a round trip per tree for its outcome, summary and baseline sample, and for a tree
    # that took an early outcome two more (its summary stored again; its score planned again)
    assert one.calls["batch"] >= N_TREES + N_TREES // 2, one.calls
    # together, per slice of 10: outcomes taken and summaries stored (with the resources they name),
    # conversation windows read, baseline samples, conversation and inflation windows written; then,
    # when an outcome was taken, summaries stored again and the score planned again: three round trips
    # at most, whatever the slice holds
    assert many.calls["batch"] <= 3 * slices and not many.calls["put"], many.calls


def test_released_while_the_one_before_awaits_its_round_trip_scores_as_one_at_a_time(redis_url: str) -> None:
    """Over Redis the service awaits each release's round trip and meanwhile normalizes the next
    release's trees (ProcessorChain.prepare): every attribute as when each tree went alone, blocking."""
    reqs, early = workload()
    alone, _ = run(RedisStore(redis_url, prefix=fresh_prefix("blocking")), reqs, early, together=1)
    for together in (1, 8):
        got, counted = run(RedisStore(redis_url, prefix=fresh_prefix(f"awaited{together}")), reqs, early,
                           together, awaited=True)
        assert got == alone, f"{together} trees at a time"
        # awaited: every round trip, the ones that store a summary again with the early outcome its tree
        # took among them (here most trees take one): none blocks the loop
        assert counted.calls["batch_async"] >= N_TREES // together + len(early) // together, counted.calls
        assert set(counted.calls) == {"batch_async"}, counted.calls
        # normalized once each, all but the first release's while the release before waited
        assert len(counted.normalized) == N_TREES and set(counted.normalized.values()) == {1}


def test_a_replica_new_to_a_long_log_reads_it_in_an_awaited_round_trip(redis_url: str) -> None:
    """A replica that starts while others have logged more baseline samples than one round trip brings
    back (LOG_TAIL) reads each such log whole: awaited too, and judged as the blocking read judges."""
    reqs, early = workload()
    prefixes = [fresh_prefix("cold-blocking"), fresh_prefix("cold-awaited")]
    for prefix in prefixes:  # the replicas before: more than LOG_TAIL samples of each workflow
        for _ in range(3):
            run(RedisStore(redis_url, prefix=prefix), reqs, [], together=8)
    blocking, calls = run(RedisStore(redis_url, prefix=prefixes[0]), reqs, early, together=8)
    assert calls.calls["batch"] > 0 and not calls.calls["log_read"], calls.calls
    awaited, counted = run(RedisStore(redis_url, prefix=prefixes[1]), reqs, early, together=8, awaited=True)
    assert awaited == blocking
    assert set(counted.calls) == {"batch_async"}, counted.calls
    assert counted.ops["log_read"] == calls.ops["log_read"] == 2, counted.ops  # each workflow's log, once
    # the logs read whole: the scores stand on the earlier replicas' samples, not on this replica's alone
    fresh, _ = run(RedisStore(redis_url, prefix=fresh_prefix("cold-none")), reqs, early, together=8)
    assert fresh != blocking


def test_a_stage_failing_on_one_tree_fails_that_tree_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trees released with a tree a stage cannot score: that tree says so and goes out unscored, the
    others are scored exactly as when the failing tree came alone."""
    from otel_tokenwatch.pipeline.score.engine import Scorer

    reqs, early = workload()
    scored, _ = run(MemoryStore(), reqs, early, together=1)
    bad = sorted({k.split("/")[0] for k, a in scored.items() if "tokenwatch.trace.waste_score" in a})[:3]
    real = Scorer.retries

    def retries(self: Scorer, ts: Any) -> None:
        if ts.tree.trace_id_hex in bad:
            raise RuntimeError("cannot score this one")
        real(self, ts)

    monkeypatch.setattr(Scorer, "retries", retries)
    alone, _ = run(MemoryStore(), reqs, early, together=1, failing_ok=True)
    together, _ = run(MemoryStore(), reqs, early, together=7, failing_ok=True)
    assert together == alone
    failed = {s: a for s, a in together.items() if "tokenwatch.processors.failed" in a}
    assert failed and all(a["tokenwatch.processors.failed"] == "score" for a in failed.values())
    assert sorted(k.split("/")[0] for k in failed) == bad  # on their roots
    assert sum("tokenwatch.trace.waste_score" in a for a in together.values()) >= N_TREES - len(bad)


def test_shared_state_out_fails_the_stages_on_it_but_never_the_privacy_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis gone while trees are released together: enrich and score are named as failed on every
    root, and user ids are still pseudonymized before the trees leave."""
    from otel_tokenwatch.config.build import build
    from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
    from otel_tokenwatch.pipeline.enrich.factory import FACTORY as ENRICH
    from otel_tokenwatch.pipeline.normalize.factory import FACTORY as NORMALIZE
    from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig
    from otel_tokenwatch.pipeline.score.config import ScoreConfig
    from otel_tokenwatch.pipeline.score.factory import FACTORY as SCORE
    from otel_tokenwatch.state.redis_store import StateUnavailable

    class Gone(MemoryStore):
        def batch(self, ops: list[tuple[Any, ...]]) -> list[Any]:
            raise StateUnavailable("shared state at redis://127.0.0.1:1 unreachable")

    monkeypatch.setenv("TW_TEST_PSEUDONYM_KEY", "a-secret-of-some-length")
    ctx = ProcessorContext(state=Gone())
    stages = [NORMALIZE.create(NormalizeConfig(), ctx),
              ENRICH.create(build(EnrichConfig, {"privacy": {"pseudonymize": ["enduser.id"],
                                                             "key_env": "TW_TEST_PSEUDONYM_KEY"}}), ctx),
              SCORE.create(ScoreConfig(), ctx)]
    reqs, _ = workload()
    trees: list[Tree] = []
    for r in reqs[:12]:
        req = ExportTraceServiceRequest.FromString(r)
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    _set(sp, "enduser.id", "alice@example.com")
        asm = Assembler(AssembleConfig())
        asm.add(None, 0.0, None, req.SerializeToString())
        trees += asm.flush(0.0)
    ProcessorChain(stages).process_many(trees)
    for t in trees:
        root = t.root()
        assert root is not None and root.added["tokenwatch.processors.failed"] == "enrich,score"
        for e in t.spans:
            assert e.added.get(semconv.PSEUDONYMIZED) == ["enduser.id"]
            assert "alice" not in str(e.attrs.get("enduser.id"))


def test_one_round_trip_per_tree_when_no_outcome_is_held(redis_url: str) -> None:
    """The common case (outcomes arrive after their trees): enrich's calls ride on score's round trip
    (state/carry.py), and so do the reads of a tree's conversation windows, written with them in the same
    script: one round trip per tree, in a conversation or not; the same attributes as with the state in
    memory."""
    reqs, _ = workload()
    in_memory, _ = run(MemoryStore(), reqs, [], together=1)
    got, counting = run(RedisStore(redis_url, prefix=fresh_prefix("carried")), reqs, [], together=1)
    assert got == in_memory
    in_conversation = sum(1 for r in reqs if b"gen_ai.conversation.id" in r)
    assert 0 < in_conversation < N_TREES
    assert counting.calls["batch"] == N_TREES, counting.calls
    assert set(counting.calls) == {"batch"}, counting.calls


def test_trees_due_during_a_release_are_prepared_in_its_wait(redis_url: str) -> None:
    """Over Redis the pipeline awaits a release's round trip; a tree that came due meanwhile is taken
    into the same run of releases and normalized in that wait (TracesPipeline._emit_all), then
    scored after it, in order."""
    from otel_tokenwatch.pipelines import Fanout, TracesPipeline, releases

    reqs, _ = workload()
    clock = [0.0]
    store = RedisStore(redis_url, prefix=fresh_prefix("pull"))
    cfg = load(None)
    assemble, stages = build_processors(cfg, "traces", ProcessorContext(state=store))
    tp = TracesPipeline("traces", assemble, ProcessorChain(stages), Fanout([]), clock=lambda: clock[0])
    tp.awaitable = True
    seen: list[Tree] = []
    tp.observers.append(seen.append)
    tp.consume(None, raw=reqs[0])
    clock[0] = 100.0  # the first trace is due
    first = tp.assembler.expire(clock[0])
    assert len(first) == 1
    tp.consume(None, raw=reqs[1])
    clock[0] = 200.0  # the second comes due while the first's round trip is out
    asyncio.run(tp.emit_async(releases(first)))
    assert [t.trace_id_hex for t in seen] == [first[0].trace_id_hex, seen[1].trace_id_hex] and len(seen) == 2
    assert PREPARED not in seen[0].facts and PREPARED in seen[1].facts  # normalized in the first's wait
    assert all("tokenwatch.trace.waste_score" in dict(t.root().added) for t in seen)  # type: ignore[union-attr]
    store.close()


def test_trees_that_waited_for_a_release_go_as_the_ticker_releases_them(redis_url: str) -> None:
    """Trees released while a release awaits its round trip (on receipt, or by a tick) wait their turn,
    then go one at a time, each exported when it is done, as the ticker's due trees go; a backlog of
    them goes DUE_TOGETHER at a time (pipelines.releases)."""
    from otel_tokenwatch.pipelines import BACKLOG, DUE_TOGETHER, Fanout, TracesPipeline, releases

    reqs, _ = workload()
    store = RedisStore(redis_url, prefix=fresh_prefix("waited"))
    assemble, stages = build_processors(load(None), "traces", ProcessorContext(state=store))
    chain = ProcessorChain(stages)
    tp = TracesPipeline("traces", assemble, chain, Fanout([]), clock=lambda: 0.0)
    tp.awaitable = True
    sizes: list[int] = []
    real = chain.steps

    def steps(trees: list[Tree]) -> Any:
        sizes.append(len(trees))
        return real(trees)

    chain.steps = steps  # type: ignore[method-assign]
    failed: list[Any] = []
    tp.observers.append(lambda t: failed.append(t.facts.get("failed_stages")))

    def trees(batch: list[bytes]) -> list[Tree]:
        asm = Assembler(AssembleConfig())
        for r in batch:
            asm.add(None, 0.0, None, r)
        return asm.flush(0.0)

    async def go(waiting: list[Tree]) -> None:
        first = tp.emit_async(releases(trees(reqs[:1])))
        task = asyncio.ensure_future(first)
        await asyncio.sleep(0)  # the first release is in flight, awaiting Redis
        tp.emit(waiting)  # e.g. a trace released on receipt, or the ticker's housekeeping
        await task
        await tp.settle()

    asyncio.run(go(trees(reqs[1:4])))
    assert sizes == [1, 1, 1, 1], sizes
    assert failed == [None] * 4, failed
    sizes.clear()
    asyncio.run(go(trees(reqs[4:4 + BACKLOG + 3])))
    # 19 waited: 8 together while at least BACKLOG are left, then one at a time
    assert sizes == [1, DUE_TOGETHER] + [1] * (BACKLOG + 3 - DUE_TOGETHER), sizes
    assert failed == [None] * (4 + 1 + BACKLOG + 3), failed
    store.close()
