"""Real spans from OpenInference's Haystack, Instructor and BeeAI instrumentations, counted against the fake server's
ground truth (tests/normalize/gen/oi4/generate.py made the data files; versions in its requirements.txt and in
oi4-truth.json).

* ``haystack-openinference``: haystack-ai 3.4.1 ``Pipeline`` with one ``OpenAIChatGenerator`` over py_native's fake
  OpenAI under openinference-instrumentation-haystack 0.1.46: ``Pipeline.run`` (CHAIN) over
  ``OpenAIChatGenerator.run`` (LLM), the only span of the call (no OpenAI instrumentation below it).
* ``instructor-openinference``: instructor 1.17.0 (``from_openai``, Mode.TOOLS) under
  openinference-instrumentation-instructor 0.1.29, with openinference-instrumentation-openai 0.1.66 on the same
  client: ``instructor.create`` / ``instructor.async_create`` (CHAIN, model and provider, no tokens) over the OpenAI
  instrumentation's ``ChatCompletion`` (LLM) spans. ``validation_retry``: the first answer fails the response
  model's validator, Instructor asks again (max_retries=2): two ``ChatCompletion`` spans under one
  ``instructor.create``, both real calls, both counted.
* ``beeai-openinference``: beeai-framework 0.1.85 ``OpenAIChatModel`` (LiteLLM 1.110.2 below it, its own HTTP
  client: no OpenAI span) over py_native's fake OpenAI under openinference-instrumentation-beeai 0.1.30: one
  ``OpenAIChatModel`` span per call, and a child span per emitter event (``new_token``, ``error``) with the run's
  kind LLM, no model and no usage: events, not calls (dialects.kind_of).

OpenAI's ``prompt_tokens`` includes ``cached_tokens`` (the semantic conventions' input includes the cache); output
includes reasoning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import (
    assert_totals,
    capture_lines_are,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "oi4-truth.json").read_text())
SOURCES = ["haystack-openinference", "instructor-openinference", "beeai-openinference"]
BASE = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCENARIOS = {"haystack-openinference": BASE, "instructor-openinference": [*BASE, "validation_retry"],
             "beeai-openinference": BASE}
CALL_SCOPES = {"haystack-openinference": "openinference.instrumentation.haystack",
               "instructor-openinference": "openinference.instrumentation.openai",
               "beeai-openinference": "openinference.instrumentation.beeai"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openinference-instrumentation-haystack 0.1.46 _wrappers.py _get_llm_token_count_attributes: completion,
    # prompt and total tokens only, from the reply's meta["usage"] (no prompt_tokens_details.cached_tokens, no
    # completion_tokens_details.reasoning_tokens); output.value holds the replies as Python reprs, not JSON
    ("haystack-openinference", "cached", "cache_read"): 0,
    ("haystack-openinference", "tool_use", "reasoning"): 0,
    # beeai-framework 0.1.85 adapters/litellm/utils.py parse_chat_model_usage keeps prompt, completion, total,
    # cached prompt and cache creation tokens (backend/types.py ChatModelUsage): no reasoning count to write
    ("beeai-openinference", "tool_use", "reasoning"): 0,
}
for _sc in BASE:
    # no finish reason attribute: the reply's meta["finish_reason"] is written into the repr of output.value only
    if TRUTH["haystack-openinference"]["scenarios"][_sc]["finish_reasons"]:
        GAPS[("haystack-openinference", _sc, "finish_reasons")] = []
        # openinference-instrumentation-beeai 0.1.30 processors/chat.py writes no finish reason (ChatModelOutput.
        # finish_reason is never read)
        GAPS[("beeai-openinference", _sc, "finish_reasons")] = []


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t.get("usage_unsent", 0), cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, roots_carry_totals=True, parts_within=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS[s]), s
        assert sorted(results[s]) == sorted(SCENARIOS[s]), s
        capture_lines_are(s, SCENARIOS[s])


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        t = TRUTH[s]["scenarios"][sc]
        assert {**t, "unread": t.get("usage_unsent", 0)}[k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS[s]])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    sent, served = [m[0] for m in want["models"]], [m[1] for m in want["models"]]
    if source == "haystack-openinference":
        # llm.model_name is the reply's meta["model"], the served model (_wrappers.py
        # _get_llm_model_provider_system_attributes); a failed call has no reply, so no model
        assert got["models"] == served, "request model of each call"
        assert got["failed_models"] == [None] * want["failed"]
        assert got["providers"] == ({"openai", None} if want["failed"] else {"openai"}) - (
            {"openai"} if want["failed"] == want["calls"] else set())
    else:  # the OpenAI instrumentation's invocation parameters, BeeAI's model_id: the request's model
        assert got["models"] == sent, "request model of each call"
        assert got["failed_models"] == ["gpt-4o-mini"] * want["failed"]
        assert got["providers"] == {"openai"}
    assert got["finish_reasons"] == want["finish_reasons"], "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_each_call_counted_once_by_its_own_span(source: str) -> None:
    """Pipelines, Instructor's create spans and tools never count; each call counts once, on its call span; the
    two failed calls are those spans too, in ``errors`` only."""
    scope = CALL_SCOPES[source]
    for scenario, tree in trees(source):
        want = expected(source, scenario)
        calls = counted_once(tree, ("input", "output", "cache_read"))
        assert len(calls) == want["calls"] - want["failed"] - want["unread"], scenario
        assert {(e.call.kind, e.scope.name) for e in calls if e.call} <= {("inference", scope)}, scenario
    failed = failed_in_errors(source, SCENARIOS[source])
    assert [e.scope.name for e in failed] == [scope, scope]


def test_instructor_spans_wrap_the_calls_without_counting() -> None:
    """Every call sits under Instructor's own span (model and provider, no usage), which is no call itself; the
    validation retry's two calls share one."""
    for scenario, tree in trees("instructor-openinference"):
        children = tree.children()
        wrappers = [e for e in tree.spans if e.scope.name == "openinference.instrumentation.instructor"]
        assert wrappers and all(e.call is None or not (e.call.counted or e.call.has_usage) for e in wrappers)
        under = [len([c for c in children.get(w.span_id, []) if c.call is not None]) for w in wrappers]
        assert under == ([2] if scenario == "validation_retry" else [1] * len(wrappers)), scenario


def test_streams_read_as_streams(results: dict[str, Any]) -> None:
    """The OpenAI instrumentation's and BeeAI's parameters carry ``stream``; Haystack's span cannot tell a stream (its
    OpenAIChatGenerator.run span records no invocation parameters and no streaming callback, _wrappers.py)."""
    assert results["instructor-openinference"]["streaming"]["streamed"] == [True, True]
    assert results["beeai-openinference"]["streaming"]["streamed"] == [True, True]
    assert results["haystack-openinference"]["streaming"]["streamed"] == [None, None]
    for s in SOURCES:
        assert all(x is not True for sc, r in results[s].items() if sc != "streaming" for x in r["streamed"])
