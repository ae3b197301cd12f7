"""Real spans of instrumentations that write the GenAI semantic conventions themselves, counted against the
fake servers' ground truth (tests/normalize/gen/py_native/generate.py made the data files; versions in its
requirements.txt and in py_native-truth.json):

* ``agent-framework-openai``: Microsoft Agent Framework's own OTel (agent_framework/observability.py):
  ``invoke_agent {name}`` over ``chat {model}`` (and ``execute_tool``); the agent span repeats the sum of its
  chat spans' usage (_apply_accumulated_usage) and must never add to it.
* ``agents-otel``: OpenTelemetry contrib's opentelemetry-instrumentation-openai-agents-v2 over the Agents SDK
  (the agents_sdk generator's scenarios and fake Responses API).
* ``ollama-openllmetry``, ``groq-openllmetry``, ``mistralai-openllmetry``, ``cohere-openllmetry``: OpenLLMetry's
  provider instrumentations, each against a fake of the provider's own API (the mistralai SDK's own spans,
  scope ``mistralai_sdk_tracer``, beside OpenLLMetry's: two spans per call, counted once).

Input includes cache reads (the semantic conventions' meaning), output includes reasoning.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from tests.normalize.captured import DATA, assert_totals, capture_lines_are, scenario_totals, trees, with_gaps

TRUTH: dict[str, Any] = json.loads((DATA / "py_native-truth.json").read_text())
ALL = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: Ollama reports no cache count at all (prompt_eval_count / eval_count only): no cached scenario
SCENARIOS = {"agent-framework-openai": ALL, "agents-otel": ALL, "ollama-openllmetry": [s for s in ALL if s != "cached"],
             "groq-openllmetry": ALL, "mistralai-openllmetry": ALL, "cohere-openllmetry": ALL}
SOURCES = list(SCENARIOS)
PROVIDER = {"agent-framework-openai": "openai", "agents-otel": "openai", "ollama-openllmetry": "ollama",
            "groq-openllmetry": "groq", "mistralai-openllmetry": "mistral_ai", "cohere-openllmetry": "cohere"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-openai-agents-v2 0.1.0 span_processor.py _get_attributes_from_response_span_data
    # writes usage.input_tokens / output_tokens only: the Response's input_tokens_details.cached_tokens and
    # output_tokens_details.reasoning_tokens are never written (inside input and output, unnamed)
    ("agents-otel", "cached", "cache_read"): 0,
    ("agents-otel", "tool_use", "cache_read"): 0,
    ("agents-otel", "tool_use", "reasoning"): 0,
    # openai-agents 0.24.0 ends a stream cut by max_output_tokens (response.incomplete) with ModelBehaviorError
    # and records no usage on the response span (agents/models/openai_responses.py stream_response): the cut
    # call (430 in, 64 out, 40 reasoning) is a failed call without usage in every instrumentation of it
    ("agents-otel", "streaming", "failed"): 1,
    ("agents-otel", "streaming", "input"): 830 - 430,
    ("agents-otel", "streaming", "output"): 116 - 64,
    ("agents-otel", "streaming", "reasoning"): 0,
    # opentelemetry-instrumentation-cohere 0.62.4 span_utils.py _set_span_chat_response reads
    # usage.billed_units only (its comment: usage.tokens "has the same number of output tokens, but many more
    # input tokens"), and never usage.cached_tokens: the span's input is the billed input
    **{("cohere-openllmetry", sc, "input"): TRUTH["cohere-openllmetry"]["scenarios"][sc]["billed_input"] for sc in ALL
       if sc != "errors"},
    ("cohere-openllmetry", "cached", "cache_read"): 0,
}
#: request model as read, where the library writes another: openai-agents-v2 0.1.0 (the same function) yields
#: gen_ai.request.model = ``span_data.response.model`` (the served, dated name) since ResponseSpanData has no model
SERVED_AS_REQUEST = {"agents-otel"}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS[s])
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS[s]), s
        assert sorted(results[s]) == sorted(SCENARIOS[s]), s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS[s]])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)  # unread: none, every successful call is counted
    assert want["cache_write"] == 0, "cache write tokens (none of these APIs has them)"
    assert got["providers"] <= {PROVIDER[source]} and (got["providers"] or not want["calls"]), got["providers"]
    ok = [m for m, st in zip(want["models"], want.get("statuses", ["completed"] * len(want["models"])), strict=True)
          if st == "completed"]
    assert sorted(got["models"]) == sorted(m[1] if source in SERVED_AS_REQUEST else m[0] for m in ok)


def test_truth_keeps_cache_and_reasoning_where_the_api_has_them() -> None:
    """The fake servers did send cache reads (all but Ollama) and reasoning (the OpenAI APIs): the gaps above
    are the libraries', not the captures'."""
    for s in SOURCES:
        if "cached" in SCENARIOS[s]:
            assert TRUTH[s]["scenarios"]["cached"]["cache_read"] == (3584 if s == "agents-otel" else 17920), s
    assert TRUTH["agent-framework-openai"]["scenarios"]["tool_use"]["reasoning"] == 192
    assert TRUTH["agents-otel"]["scenarios"]["tool_use"]["reasoning"] == 128
    assert TRUTH["cohere-openllmetry"]["scenarios"]["healthy"]["input"] > \
        TRUTH["cohere-openllmetry"]["scenarios"]["healthy"]["billed_input"]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """Agent and workflow spans above a model call (Agent Framework's invoke_agent, which repeats its chat
    spans' usage; openai-agents-v2's invoke_agent and ``unknown`` turn spans) never count, tool spans are tools,
    and the mistralai SDK's own span and OpenLLMetry's for one call count once."""
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                assert c.kind == "inference", (scenario, e.view.name, c.kind)
            if e.view.name.startswith(("invoke_agent", "execute_tool", "tool.", "unknown", "workflow")):
                assert c is None or not c.counted, (scenario, e.view.name)
    agent = [e for sc, t in trees("agent-framework-openai") if sc == "tool_use" for e in t.spans
             if e.view.name.startswith("invoke_agent")]
    assert [e.call.input_tokens for e in agent if e.call is not None] == [890]  # the sum it repeats


#: finish reasons as the spans tell them: OpenLLMetry's Ollama instrumentation writes none (0.62.4 span_utils.py
#: set_response_attributes: content and role only; done_reason goes to its events, event_emitter.py), nor do
#: openai-agents-v2's Responses API spans (output items carry no finish_reason)
NO_FINISH = {"ollama-openllmetry", "agents-otel"}
#: streamed as read: Agent Framework's streamed chat span is its non-streamed one (observability.py
#: _start_streaming_span: same name, kind and attributes, no stream flag), openai-agents-v2 writes no flag; Cohere's
#: is known from its chunk events, read for a cut call only (dialects.py)
STREAMED = {"agent-framework-openai": [None, None], "agents-otel": [None], "ollama-openllmetry": [True, True],
            "groq-openllmetry": [True, True], "mistralai-openllmetry": [True, True],
            "cohere-openllmetry": [None, True]}


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS[source]:
        want = [r.lower() for r in TRUTH[source]["scenarios"][scenario].get("finish_reasons", [])]
        got = [r.lower() for r in results[source][scenario]["finish_reasons"]]
        if source in NO_FINISH:
            assert got == [], scenario
        else:
            norm = {"tool_calls": "tool_call", "complete": "stop", "max_tokens": "length"}
            assert sorted(norm.get(r, r) for r in got) == sorted(norm.get(r, r) for r in want), scenario
    seen: dict[str, list[tuple[int, bool | None]]] = defaultdict(list)
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and c.report_of is None and not c.error:
                seen[scenario].append((int(e.view.start_time_unix_nano), c.streaming))
    assert [s for _, s in sorted(seen["streaming"])] == STREAMED[source]
    assert all(s is not True for sc, v in seen.items() if sc != "streaming" for _, s in v)
