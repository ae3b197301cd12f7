"""The right reason on the right spans of the fixture scenarios, span by span, for every source."""

from __future__ import annotations

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree
from tests.score.test_fixture_scores import CONTENT_SOURCES, SOURCES, scored_trees


def inference(t: Tree) -> list[SpanEntry]:
    return sorted((e for e in t.spans if e.call is not None and e.call.kind == "inference"),
                  key=lambda e: e.span.start_time_unix_nano)


@pytest.mark.parametrize("source", SOURCES)
def test_failed_calls_of_retry_storm_and_rate_limited_carry_failed_call_and_the_retry_is_not_waste(
        source: str) -> None:
    seen_failed = 0
    for scenario, t in scored_trees(source):
        if scenario not in ("retry_storm", "rate_limited"):
            continue
        for e in inference(t):
            assert e.call is not None
            if e.span.status.code == 2:
                seen_failed += 1
                assert e.get(semconv.WASTE_REASON) in ("failed_call", "retry"), (scenario, e.span.name)
            else:  # the successful attempt after the failures bought the answer
                assert e.get(semconv.WASTE_REASON) is None, (scenario, e.span.name)
    assert seen_failed >= 2


@pytest.mark.parametrize("source", SOURCES)
def test_repeated_prompts_are_duplicates_on_the_later_calls_only(source: str) -> None:
    trees = {str(t.root().attrs.get("app.tokenmaxx.variant")): t  # type: ignore[union-attr]
             for scenario, t in scored_trees(source) if scenario == "tokenmaxx"}
    for variant in ("re_ask_same_prompt", "huge_prompt_repeated"):
        calls = inference(trees[variant])
        assert calls[0].get(semconv.WASTE_REASON) is None  # the first ask bought the answer
        assert all(e.get(semconv.WASTE_REASON) == "duplicate" for e in calls[1:]), variant
        first = calls[0].span_id.hex()
        assert all(e.get(semconv.WASTE_MATCHED_SPAN) in {c.span_id.hex() for c in calls[:-1]} for e in calls[1:])
        assert calls[1].get(semconv.WASTE_MATCHED_SPAN) == first
        basis = {e.get(semconv.WASTE_BASIS) for e in calls[1:]}
        assert basis == ({"content"} if source in CONTENT_SOURCES else {"shape"}), (variant, basis)


@pytest.mark.parametrize("source", [s for s in CONTENT_SOURCES if s not in ("pydantic-ai.jsonl",
                                                                           "openai-v2-latest.jsonl")])
def test_a_huge_prompt_re_asked_in_paraphrase_is_a_near_duplicate(source: str) -> None:
    t = next(t for scenario, t in scored_trees(source) if scenario == "tokenmaxx"
             and t.root().attrs.get("app.tokenmaxx.variant") == "huge_prompt_repeated")  # type: ignore[union-attr]
    later = inference(t)[1:]
    assert {e.get(semconv.WASTE_MATCH) for e in later} == {"near"}
