"""Real spans of OpenLIT over DSPy on LiteLLM (tests/normalize/data/dspy-openlit.jsonl), read right, call for call.

Captured by tests/normalize/gen/olmore/generate.py (openlit 1.45.0, dspy 3.4.1 on its LiteLLM engine, litellm
1.110.2; versions in its requirements.txt and in olmore-truth.json) against the fake OpenAI server of gen/py_native,
with gen/py_frameworks' DSPy runner unchanged (its OpenInference instrumentors replaced by ``openlit.init``). The
fake server's answers are the truth: input includes cached tokens, output includes reasoning, as the semantic
conventions' counts do. OpenLIT has no DSPy instrumentation and LiteLLM's OpenAI provider posts past the openai
SDK's ``Completions.create`` (see the generator): each call is one ``openlit.instrumentation.litellm`` span, counted
once, named by ``gen_ai.provider.name`` "litellm" (a router) and read as the model's provider (openai).

Also OpenLIT over the Vertex AI SDK (google-cloud-aiplatform 2.7.0 ``GenerativeModel``, REST to the fake Vertex AI
of gen/contrib3, its scenarios unchanged): ``openlit-vertexai`` (``generation_config=GenerationConfig(...)``) and
``openlit-vertexai-dict-config`` (the same as dicts). openlit 1.45.0 fails on most of these calls after the answer
came and hands the answer to the app all the same (see the generator): an answered call whose span OpenLIT marked
ERROR is no failed call where the span shows the answer came (a finish reason, a time to first token:
dialects.read_call_and_plan); where OpenLIT's failure leaves the span as bare as an API error's (streams, a
function-call answer), nothing can tell them apart: pinned in GAPS.
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
    failed_calls,
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


# --------------------------------------------------------------------------------------------------------
# OpenLIT over the Vertex AI SDK
# --------------------------------------------------------------------------------------------------------

VERTEX = ["openlit-vertexai", "openlit-vertexai-dict-config"]
#: what the Vertex AI spans cannot carry, (source, scenario, field) -> value read
VERTEX_GAPS: dict[tuple[str, str, str], Any] = {
    **{k: v for src in VERTEX for k, v in {
        # openlit 1.45.0 instrumentation/vertexai/vertexai.py TracedSyncStream.__next__: at the stream's end
        # ``with self._span: process_streaming_chat_response(...)`` fails in utils.py format_content
        # (``part.video_metadata``: google-cloud-aiplatform 2.7.0's Part has none); the span's context manager
        # ends it ERROR with the exception only, the app's stream ends normally: 2 answered calls read as failed
        (src, "streaming", "failed"): 2,
        (src, "streaming", "input"): 0, (src, "streaming", "output"): 0,
        # utils.py process_chat_response starts with ``getattr(response, "text", "")``; on the function-call
        # answer the SDK's ``text`` raises ValueError (no text part), so that span too is ERROR with nothing else:
        # one answered call read as failed; the 2nd call (no generation_config) reads right, but OpenLIT takes
        # candidates_token_count alone as output (``scope._output_tokens``): the thoughts (128, 0) are on no span
        (src, "tool_use", "failed"): 1,
        (src, "tool_use", "input"): 460, (src, "tool_use", "output"): 25, (src, "tool_use", "reasoning"): 0,
    }.items()},
    # no thoughts count either (process_chat_response reads prompt_token_count, candidates_token_count and
    # cached_content_token_count; gen_ai.client.token.usage is their input + output sum, not total_token_count)
    ("openlit-vertexai-dict-config", "healthy", "output"): 240,
    ("openlit-vertexai-dict-config", "healthy", "reasoning"): 0,
    # on a GenerationConfig object utils.py common_chat_logic fails (``inference_config.get(key)``) after the
    # span's name, model and timings, before its finish reason, usage and content: answered calls, no usage
    **{("openlit-vertexai", sc, k): v for sc, n in (("healthy", 2), ("cached", 3), ("duplicate", 2))
       for k, v in (("unread", n), ("input", 0), ("output", 0), ("cache_read", 0), ("reasoning", 0))},
}
#: scenarios whose answered calls have no span saying so (streams, the function-call answer)
VERTEX_HIDDEN = {"streaming": 2, "tool_use": 1}


def vtruth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[source]["scenarios"][scenario]  # type: ignore[no-any-return]


@pytest.mark.parametrize("source", VERTEX)
def test_vertex_data_files_are_there(source: str) -> None:
    assert TRUTH[source]["sources"] == [source]
    assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS)
    assert TRUTH[source]["versions"]["openlit"] == "1.45.0"
    assert TRUTH[source]["versions"]["google-cloud-aiplatform"] == "2.7.0"
    capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in VERTEX for sc in SCENARIOS])
def test_vertex_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    got = scenario_totals(source, failed_providers_apart=True, parts_within=True)[scenario]
    want = with_gaps(vtruth(source, scenario), VERTEX_GAPS, source, scenario, unread=0, cache_write=0)
    assert_totals(got, want)
    answered = want["calls"] - want["failed"]
    hidden = VERTEX_HIDDEN.get(scenario, 0)
    # the request model, which OpenLIT also writes as the response's (process_chat_response ``scope.
    # _response_model = request_model``: the fake's modelVersion, gemini-2.5-flash-001, is on no span)
    assert got["models"] == want["models"][hidden:][:answered]
    assert got["served"] == got["models"]
    assert got["providers"] == ({"gcp.vertex_ai"} if answered else set())
    if (source, scenario, "unread") not in VERTEX_GAPS:
        # str() of the proto's FinishReason is its number ("1"), read as its name (dialects.VERTEX_FINISH)
        assert got["finish_reasons"] == want["finish_reasons"][hidden:]
    else:
        assert got["finish_reasons"] == []


@pytest.mark.parametrize("source", VERTEX)
def test_vertex_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500: the SDK raises inside OpenLIT's span (vertexai.py ``response = wrapped(...)`` before its
    try), which ends ERROR with no attribute: two failed calls of the scope's provider, none counted."""
    failed = failed_calls(source, "errors")
    assert len(failed) == vtruth(source, "errors")["failed"] == 2
    assert {(e.call.provider, e.call.counted, e.call.has_usage) for e in failed} == \
        {("gcp.vertex_ai", False, False)}  # type: ignore[union-attr]


def test_answered_calls_openlit_marked_error_are_no_failed_calls() -> None:
    """openlit-vertexai's healthy calls: ERROR and error.type AttributeError from OpenLIT's own failure, but
    a gen_ai.server.time_to_first_token, which only an answer gives: answered, not counted (no usage)."""
    spans = [e for sc, t in trees("openlit-vertexai") if sc == "healthy" for e in t.spans
             if e.call is not None and e.call.kind == "inference"]
    assert len(spans) == 2 and all(e.view.status_code == 2 for e in spans)
    assert all(e.get("gen_ai.server.time_to_first_token") is not None for e in spans)
    assert all(not e.call.error and not e.call.counted and e.call.error_type is None  # type: ignore[union-attr]
               for e in spans)
    assert failed_calls("openlit-vertexai", "healthy") == []


def test_vertex_one_span_per_call() -> None:
    """google-genai is installed beside the Vertex AI SDK and instrumented too; GenerativeModel does not call it:
    one OpenLIT vertexai span per model call, failed ones included."""
    for source in VERTEX:
        for scenario, tree in trees(source):
            calls = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
            assert len(calls) == vtruth(source, scenario)["calls"], (source, scenario)
            assert {e.scope.name for e in calls} == {"openlit.instrumentation.vertexai"}, (source, scenario)
            counted_once(tree, ("input", "output"))


def test_vertex_cache_reads() -> None:
    assert [e.call.cache_read_tokens for e in counted("openlit-vertexai-dict-config", "cached")] == \
        [0, 8960, 8960]  # type: ignore[union-attr]
