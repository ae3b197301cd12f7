"""Each reason of waste-score v1.1, and beside each a healthy tree that looks similar and scores 0."""

from __future__ import annotations

from otel_tokenwatch.config.build import build
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.pipeline.score.sketch import WindowSketch
from tests.score.helpers import Engine, calls, chat, check_explainable, reasons, root_score, tool_request


def test_failed_call_wastes_its_usage_and_healthy_scores_zero() -> None:
    eng = Engine()
    t = eng.run(calls(chat("a question"), chat("another question", **{"error.type": "500"}), error={1}))
    assert reasons(t) == {"chat 1": "failed_call"}
    assert 0 < root_score(t) < 1
    check_explainable(t)
    assert root_score(eng.run(calls(chat("a question"), chat("another question")))) == 0.0


def test_retry_of_a_truncated_call_and_duplicate_and_truncated() -> None:
    eng = Engine()
    trunc = chat("summarize the incident", out=512, **{"gen_ai.response.finish_reasons": ["length"]})
    t = eng.run(calls(trunc, chat("summarize the incident", out=300)))
    assert reasons(t) == {"chat 0": "retry"}  # the first attempt is wasted, the retry is not
    check_explainable(t)
    t = eng.run(calls(chat("summarize the incident", out=512, **{"gen_ai.response.finish_reasons": ["length"]})))
    assert reasons(t) == {"chat 0": "truncated"}
    r = t.root()
    assert r is not None
    assert 0 < root_score(t) < 1  # only the output is wasted


def test_exact_and_near_duplicates_but_not_different_questions() -> None:
    eng = Engine()
    t = eng.run(calls(chat("where is my order A-1"), chat("where is my order A-1")))
    assert reasons(t) == {"chat 1": "duplicate"}
    assert abs(root_score(t) - 0.5) < 1e-9
    e = next(x for x in t.spans if x.span.name == "chat 1")
    assert e.get("tokenwatch.waste.match") == "exact" and e.get("tokenwatch.waste.basis") == "content"
    ctx = "[the same 100-page contract] "
    t = eng.run(calls(chat(ctx + "Where is the termination clause?", inp=50000),
                      chat(ctx + "Where is the termination clause? Be precise.", inp=50400)))
    e = next(x for x in t.spans if x.span.name == "chat 1")
    assert (e.get("tokenwatch.waste.reason"), e.get("tokenwatch.waste.match")) == ("duplicate", "near")
    # looks alike, is not: different questions after a shared system block, and small calls
    healthy = eng.run(calls(chat("Can I return shoes?", inp=9000, system="policy manual"),
                            chat("Is return shipping free?", inp=9050, system="policy manual",
                                 **{"gen_ai.usage.cache_read.input_tokens": 8960})))
    assert root_score(healthy) == 0.0


def test_loop_past_the_threshold_but_not_three_times_or_different_arguments() -> None:
    eng = Engine()
    same = {"gen_ai.output.messages": tool_request("get_order_status", {"order_id": "A-1001"})}
    t = eng.run(calls(*[chat(f"step {i}", inp=800 + i, out=20, **same) for i in range(5)]))
    assert reasons(t) == {"chat 3": "loop", "chat 4": "loop"}
    check_explainable(t)
    assert root_score(eng.run(calls(*[chat(f"step {i}", inp=800 + i, **same) for i in range(3)]))) == 0.0
    varied = [chat(f"step {i}", inp=800 + i, **{"gen_ai.output.messages": tool_request(
        "get_order_status", {"order_id": f"A-{i}"})}) for i in range(5)]
    assert root_score(eng.run(calls(*varied))) == 0.0


def test_uncached_prefix_but_not_when_the_cache_is_read() -> None:
    eng = Engine()
    kb = "KNOWLEDGE BASE " * 2000
    none = {"gen_ai.usage.cache_read.input_tokens": 0}
    t = eng.run(calls(chat("Is SKU-100 in stock?", inp=60000, system=kb, **none),
                      chat("What is the refund policy?", inp=60010, system=kb, **none)))
    assert reasons(t) == {"chat 1": "uncached_prefix"}
    check_explainable(t)
    cached = eng.run(calls(chat("Is SKU-100 in stock?", inp=60000, system=kb),
                           chat("What is the refund policy?", inp=60010, system=kb,
                                **{"gen_ai.usage.cache_read.input_tokens": 59904})))
    assert root_score(cached) == 0.0


def test_failed_outcome_takes_what_is_left_and_unknown_weight() -> None:
    eng = Engine()
    t = eng.run(calls(chat("fix the bug"), chat("try again differently")), outcome="failure")
    assert root_score(t) == 1.0 and set(reasons(t).values()) == {"failed_outcome"}
    assert root_score(eng.run(calls(chat("fix the bug"), chat("try again differently")), outcome="success")) == 0.0
    half = Engine(unknown_outcome_weight=0.5).run(calls(chat("fix the bug")), outcome="unknown")
    assert abs(root_score(half) - 0.5) < 1e-9


def test_over_baseline_after_enough_successful_trees() -> None:
    eng = Engine(baseline_min_samples=30)
    for i in range(30):
        t = eng.run(calls(chat(f"q{i}", inp=1000 + i, out=100)), outcome="success")
        assert root_score(t) == 0.0  # no baseline yet, then within it
    t = eng.run(calls(chat("long one", inp=1000, out=5000)), outcome="success")
    assert reasons(t) == {"chat 0": "over_baseline"}
    assert 0.5 < root_score(t) < 1
    check_explainable(t)
    assert root_score(eng.run(calls(chat("normal", inp=1010, out=100)), outcome="success")) == 0.0


def test_suspected_inflation_needs_five_identical_trees_without_outcome_or_tools() -> None:
    eng = Engine()
    scores = [root_score(eng.run(calls(chat("write me a poem", user_id=None, **{"enduser.id": "u1"}),
                                       trace=bytes([i + 1]) * 16))) for i in range(6)]
    assert scores[:4] == [0.0] * 4 and scores[4] == 1.0 and scores[5] == 1.0
    eng2 = Engine()
    tool = {"gen_ai.output.messages": tool_request("send_email", {"to": "x"}), "enduser.id": "u1"}
    assert all(root_score(eng2.run(calls(chat("write me a poem", **tool), trace=bytes([i + 1]) * 16))) == 0.0
               for i in range(6))


def test_look_alikes_that_must_score_zero() -> None:
    eng = Engine(baseline_min_samples=5)
    # the same prompt in different traces of different principals
    for i, user in enumerate(("u1", "u2")):
        t = eng.run(calls(chat("summarize this ticket", **{"enduser.id": user}), trace=bytes([i + 1]) * 16))
        assert root_score(t) == 0.0
    # a retry after a failure: the failed attempt is wasted, the retry is not
    t = eng.run(calls(chat("order status?", **{"error.type": "500"}), chat("order status?"), error={0}))
    assert reasons(t) == {"chat 0": "failed_call"}
    # a long but successful answer, with no baseline yet
    assert root_score(eng.run(calls(chat("write the report", out=12000)), outcome="success")) == 0.0
    # a workflow whose trees are all large but equal: never over its own baseline
    big = Engine(baseline_min_samples=5)
    for i in range(12):
        t = big.run(calls(chat(f"big {i}", inp=90000, out=4000)), outcome="success")
        assert root_score(t) == 0.0, i


def test_baseline_needs_min_samples_and_a_tree_never_moves_its_own() -> None:
    eng = Engine(baseline_min_samples=10)
    for i in range(9):
        eng.run(calls(chat(f"q{i}", inp=1000, out=100)), outcome="success")
    # 9 samples: below the minimum, no over_baseline however large
    assert root_score(eng.run(calls(chat("huge", inp=1000, out=20000)), outcome="success")) == 0.0
    # now 10 samples, one of them huge: p90 still sits with the normal trees
    t = eng.run(calls(chat("huge again", inp=1000, out=20000)), outcome="success")
    assert reasons(t) == {"chat 0": "over_baseline"}
    # it was judged before it was added: had it counted itself, p90 of 11 samples with 2 huge would be huge
    assert logged(eng.state, "root|usd").count == 11


def logged(state: object, key: str) -> WindowSketch:
    """The sketch of everything a workflow's shared baseline log holds."""
    _, items = state.log_read("score.baseline_log", key)  # type: ignore[attr-defined]
    s = WindowSketch(3600.0, 10**6)
    s.apply(items, 0.0)
    return s


def test_baseline_written_by_another_scorer_is_counted() -> None:
    """A scorer keeps the sketch it last counted; what anyone else appended since (another replica on
    a shared store) reaches it with its next append, so both judge on every sample logged before."""
    a = Engine(baseline_min_samples=1000)
    b = Engine(baseline_min_samples=1000)
    b.state = a.state
    b.score = ScoreProcessor(build(ScoreConfig, {"baseline_min_samples": 1000}, "processors.score"), a.state)
    for i in range(10):
        (a if i % 3 else b).run(calls(chat(f"q{i}", inp=1000 + i, out=100)), outcome="success")
    assert logged(a.state, "root|usd").count == 10
    held = [e.score.scorer._sketches["root|usd"] for e in (a, b)]  # type: ignore[attr-defined]
    assert held[1] == (10, held[1][1]) and held[1][1].count == 10  # b scored the last tree: it counted all
    assert held[0][0] == 9 and held[0][1].count == 9  # a scored the 9th and has not looked since


def _tool_run(n: int, args: str | None, other_between: bool = False) -> dict[str, str]:
    from tests.normalize.spans import tree_of

    spans: list[tuple[int, int, str, dict[str, object]]] = [(1, 0, "root", {}), (2, 1, "chat 0", chat("go"))]
    for i in range(n):
        a: dict[str, object] = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}
        if args is not None:
            a["gen_ai.tool.call.arguments"] = args
        spans.append((3 + 2 * i, 1, "execute_tool lookup", a))
        if other_between:
            spans.append((4 + 2 * i, 1, "execute_tool other", {"gen_ai.operation.name": "execute_tool",
                                                                "gen_ai.tool.name": "other"}))
    return reasons(Engine().run(tree_of(*spans)))


def test_tool_span_runs_at_their_thresholds() -> None:
    """Repeated tool spans waste the call that asked for them past the loop threshold (3), or past
    three times it when the arguments are unknown; a different tool in between breaks the run."""
    assert _tool_run(3, '{"q": 1}') == {}
    assert _tool_run(4, '{"q": 1}') == {"chat 0": "loop"}
    assert _tool_run(9, None) == {}
    assert _tool_run(10, None) == {"chat 0": "loop"}
    assert _tool_run(6, '{"q": 1}', other_between=True) == {}
