"""Real spans of OpenLIT over DSPy on LiteLLM (tests/normalize/data/dspy-openlit.jsonl), read right, call for call.

Captured by tests/normalize/gen/olmore/generate.py (openlit 1.45.0, dspy 3.4.1 on its LiteLLM engine, litellm
1.110.2; versions in its requirements.txt and in olmore-truth.json) against the fake OpenAI server of gen/py_native,
with gen/py_frameworks' DSPy runner unchanged (its OpenInference instrumentors replaced by ``openlit.init``). The
fake server's answers are the truth: input includes cached tokens, output includes reasoning, as the semantic
conventions' counts do. OpenLIT has no DSPy instrumentation and LiteLLM's OpenAI provider posts past the openai
SDK's ``Completions.create`` (see the generator): each call is one ``openlit.instrumentation.litellm`` span, counted
once, named by ``gen_ai.provider.name`` "litellm" (a router) and read as the model's provider (openai).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "olmore-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SOURCE = "dspy-openlit"

#: what the spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/litellm/utils.py process_chat_response reads prompt_tokens,
    # completion_tokens and the cache counts (_extract_litellm_cache_tokens), no reasoning count (128 + 64 sent)
    (SOURCE, "tool_use", "reasoning"): 0,
}
#: LiteLLM's stream wrapper builds its chunks with the request's model (litellm 1.110.2 litellm_core_utils/
#: streaming_handler.py CustomStreamWrapper ``self.model``; dspy/clients/lm.py rebuilds the response from them with
#: ``stream_chunk_builder``), and OpenLIT reads the chunks' ``model``: the served model is the request's
SERVED_AS_REQUEST = {(SOURCE, "streaming")}


def truth(scenario: str) -> dict[str, Any]:
    return TRUTH[SOURCE]["scenarios"][scenario]  # type: ignore[no-any-return]


def test_data_files_are_there() -> None:
    assert TRUTH[SOURCE]["sources"] == [SOURCE]
    assert sorted(TRUTH[SOURCE]["scenarios"]) == sorted(SCENARIOS)
    assert TRUTH[SOURCE]["versions"]["openlit"] == "1.45.0"
    assert TRUTH[SOURCE]["versions"]["dspy"] == "3.4.1"
    capture_lines_are(SOURCE, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tokens_match_the_fake_servers_truth(scenario: str) -> None:
    got = scenario_totals(SOURCE, failed_providers_apart=True, parts_within=True)[scenario]
    want = with_gaps(truth(scenario), GAPS, SOURCE, scenario, unread=0)
    assert_totals(got, want)
    assert got["models"] == [m for m, _ in want["models"]]
    as_request = (SOURCE, scenario) in SERVED_AS_REQUEST
    assert got["served"] == [m if as_request else s for m, s in want["models"]]
    assert got["providers"] == ({"openai"} if want["calls"] > want["failed"] else set())
    assert got["finish_reasons"] == want["finish_reasons"]


def test_errors_are_failed_calls_counted_once() -> None:
    """429 then 500 surfaced to the app (DSPy re-raises LiteLLM's error): two failed calls, each once; OpenLIT's
    failed LiteLLM spans carry no attribute but the span name and status (the router's scope names no provider)."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert len(failed) == truth("errors")["failed"] == 2
    assert {(e.call.provider, e.call.counted) for e in failed} == {(None, False)}  # type: ignore[union-attr]


def test_one_span_per_call_nothing_counted_twice() -> None:
    """OpenLIT wraps LiteLLM (and the openai SDK, which LiteLLM posts past): one LiteLLM span per model call, the
    only counted one, streamed calls included."""
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "output"))
        want = truth(scenario)
        assert len(calls) == want["calls"] - want["failed"], scenario
        assert {e.scope.name for e in calls} <= {"openlit.instrumentation.litellm"}, scenario
        assert {e.call.provider for e in calls} <= {"openai"}, scenario  # type: ignore[union-attr]
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == want["calls"], scenario  # no second span of any call, failed ones included


def test_streams_and_cache_reads() -> None:
    assert [e.call.streaming for e in counted(SOURCE, "streaming")] == [True, True]  # type: ignore[union-attr]
    assert [e.call.streaming for e in counted(SOURCE, "healthy")] == [False, False]  # type: ignore[union-attr]
    assert [e.call.cache_read_tokens for e in counted(SOURCE, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH[SOURCE]["scenarios"].items()}
    assert by == {"healthy": (2, 0, 2550, 0, 240, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0), "tool_use": (2, 0, 890, 0, 240, 192),
                  "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0)}


def test_system_prompt_read_once() -> None:
    """OpenLIT's LiteLLM span names DSPy's system message twice (gen_ai.system_instructions and the system entry
    of gen_ai.input.messages): one system prompt (content.split_system), the other messages apart."""
    for scenario in ("healthy", "cached", "duplicate"):
        for e in counted(SOURCE, scenario):
            c = e.call
            assert c is not None and c.system_content is not None and c.input_content is not None
            assert c.system_content.count("Your input fields are:") == 1, scenario
            assert c.system_content.endswith("Answer briefly and politely.") or "POLICY:" in c.system_content
            assert '"system"' not in c.input_content
