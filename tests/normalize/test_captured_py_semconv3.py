"""Real spans from pydantic-ai's built-in instrumentation and Langfuse's LangChain handler, over the fake OpenAI
Chat Completions and Anthropic Messages servers, counted against their ground truth
(tests/normalize/gen/py_semconv3/generate.py made the data files; versions in its requirements.txt and in
py_semconv3-truth.json).

* ``pydantic-ai-openai`` / ``pydantic-ai-anthropic``: pydantic-ai-slim 2.68 ``Agent.instrument_all(
  InstrumentationSettings(include_content=True))`` (its default data format): ``invoke_agent support`` (the run's
  totals as ``gen_ai.aggregated_usage.*``) > ``chat {model}`` (the call) / ``execute_tool get_order_status``.
  pydantic-ai's input includes the cache on Anthropic too (pydantic_ai/models/anthropic.py _map_usage adds
  cache_read_input_tokens and cache_creation_input_tokens to input_tokens).
* ``langfuse-langchain-openai`` / ``langfuse-langchain-anthropic``: langfuse 5.2 (OTel-based) with
  ``langfuse.langchain.CallbackHandler`` over langchain-openai ``ChatOpenAI`` / langchain-anthropic
  ``ChatAnthropic``: one ``generation`` span per call, the usage as ``langfuse.observation.usage_details`` (JSON),
  the provider and request model only in the LangSmith metadata (``ls_provider`` / ``ls_model_name``).

The truth keeps each API's own counts: OpenAI's ``input`` (``prompt_tokens``, cache included), Anthropic's
``uncached_input`` (``input_tokens``, cache excluded); the semantic conventions' input, checked here, includes
cache reads and writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from tests.normalize.captured import assert_totals, capture_lines_are, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "py_semconv3-truth.json").read_text())
SOURCES = ["pydantic-ai-openai", "pydantic-ai-anthropic", "langfuse-langchain-openai", "langfuse-langchain-anthropic"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
CALL_SCOPES = {"pydantic-ai-openai": "pydantic-ai", "pydantic-ai-anthropic": "pydantic-ai",
               "langfuse-langchain-openai": "langfuse-sdk", "langfuse-langchain-anthropic": "langfuse-sdk"}
#: the semantic conventions' finish reasons pydantic-ai writes for each API's own
#: (pydantic_ai/models/openai.py _CHAT_FINISH_REASON_MAP, models/anthropic.py _FINISH_REASON_MAP)
FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_call",
          "end_turn": "stop", "max_tokens": "length", "tool_use": "tool_call"}


def truth(source: str, scenario: str) -> dict[str, Any]:
    """The server's truth in the semantic conventions' terms (input with the cache, finish reasons as written)."""
    t = dict(TRUTH[source]["scenarios"][scenario])
    if TRUTH[source]["api"] == "anthropic":
        t["input"] = t["uncached_input"] + t["cache_read"] + t["cache_write"]
        t["reasoning"] = 0
        t["finish_reasons"] = t["stop_reasons"]
    t["finish_reasons"] = [FINISH[f] for f in t["finish_reasons"]]
    return t


#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # langchain-anthropic 1.7.10 chat_models.py _make_message_chunk_from_anthropic_event: message_start yields no
    # usage_metadata ("it will be properly reported in message_delta"), message_delta's usage becomes it; a
    # message_delta with output_tokens only (the Messages API docs' streaming example, the 1st stream here) gives
    # the streamed message input 0, which Langfuse's handler passes on (usage_details {"input": 0, ...}). The 2nd
    # stream's message_delta carries every count, as the API sends today
    ("langfuse-langchain-anthropic", "streaming", "input"): 5436 - 640,
}
#: Langfuse's handler records no finish reason (langfuse/langchain/CallbackHandler.py on_llm_end: output, usage,
#: model; no stop / finish reason key on the generation), so its spans carry none
NO_FINISH = {"langfuse-langchain-openai", "langfuse-langchain-anthropic"}
#: Langfuse's langfuse.observation.model.name is the response's ``model_name`` when the result has one
#: (CallbackHandler.py on_llm_end ``_parse_model(response)``: llm_output["model_name"]); a streamed LangChain
#: result has no llm_output model, so the span keeps the request model only
SERVED_UNKNOWN = {("langfuse-langchain-openai", "streaming"), ("langfuse-langchain-anthropic", "streaming")}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(truth(source, scenario), GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        capture_lines_are(s, ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"])


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        assert truth(s, sc)[k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    api = TRUTH[source]["api"]
    assert_totals(got, want)  # unread: none (want's 0), the input with cache read and write
    assert got["providers"] <= {api}, got["providers"]
    if want["calls"]:
        assert got["providers"] == {api}, "every call names its provider"
    assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each call"
    if (source, scenario) in SERVED_UNKNOWN:
        assert got["served"] == [None] * len(want["models"])
    else:
        assert sorted(got["served"]) == sorted(s for _, s in want["models"]), "served model of each call"
    chat = "gpt-4o-mini" if api == "openai" else "claude-haiku-4-5"
    assert got["failed_models"] == [chat] * want["failed"], "request model of each failed call"
    if source in NO_FINISH:
        assert got["finish_reasons"] == []
    else:
        assert sorted(got["finish_reasons"]) == sorted(want["finish_reasons"]), "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """Only the model-call spans count; pydantic-ai's agent runs (with their aggregated usage) and tools never."""
    for scenario, tree in trees(source):
        want = expected(source, scenario)
        counted = [e for e in tree.spans if e.call is not None and e.call.counted]
        assert len(counted) == want["calls"] - want["failed"], scenario
        for e in counted:
            assert e.call is not None and e.call.kind == "inference", (scenario, e.view.name)
            assert e.scope.name == CALL_SCOPES[source], (scenario, e.scope.name)
        for e in tree.spans:
            if e.view.name.startswith(("invoke_agent", "execute_tool", "tool.")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)


@pytest.mark.parametrize("source", ["pydantic-ai-openai", "pydantic-ai-anthropic"])
def test_pydantic_ai_run_totals_are_the_calls_sum_never_added(source: str) -> None:
    """pydantic-ai's ``invoke_agent`` span carries the run's usage as ``gen_ai.aggregated_usage.*``
    (pydantic_ai/capabilities/instrumentation.py: ``settings.aggregated_usage_attributes(self._run_usage)``): the
    sum of its ``chat`` calls. It is there in every run with a call, equals the calls' sum and is never added."""
    for scenario, tree in trees(source):
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        runs = [e for e in tree.spans if e.view.name == "invoke_agent support"]
        assert runs, scenario
        agg = sum(int(e.get("gen_ai.aggregated_usage.input_tokens") or 0) for e in runs)
        assert agg == sum(e.call.input_tokens or 0 for e in calls if e.call is not None), scenario
        assert all(e.call is not None and e.call.kind == "agent" and not e.call.counted for e in runs), scenario
        root = tree.root()
        assert root is not None and root.get(semconv.TRACE_INPUT_TOKENS) == expected(source, scenario)["input"]


def test_pydantic_ai_anthropic_input_includes_the_cache() -> None:
    """The first cached call wrote 8960 tokens to the cache with 240 uncached: pydantic-ai's input is 9200 (its
    Anthropic usage adds the cache in), read as is, never added to again."""
    first = next(e for sc, t in trees("pydantic-ai-anthropic") if sc == "cached"
                 for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
                 if e.call is not None and e.call.counted)
    assert first.call is not None
    assert (first.call.input_tokens, first.call.cache_write_tokens, first.call.cache_read_tokens) == (9200, 8960, 0)


def test_langfuse_anthropic_raw_usage_adds_the_cache_back() -> None:
    """langchain-anthropic's llm_output ``usage`` is Anthropic's raw usage, which Langfuse's handler reads before
    usage_metadata: ``input`` 240 is Anthropic's uncached input_tokens beside ``cache_creation_input_tokens`` 8960
    (and its ``cache_creation_ephemeral_5m_input_tokens`` split, 8960 again): the call's input is 9200, not 240
    and not 18160."""
    first = next(e for sc, t in trees("langfuse-langchain-anthropic") if sc == "cached"
                 for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
                 if e.call is not None and e.call.counted)
    assert first.call is not None
    usage = json.loads(first.get("langfuse.observation.usage_details"))
    assert (usage["input"], usage["cache_creation_input_tokens"], usage["cache_creation_ephemeral_5m_input_tokens"]) \
        == (240, 8960, 8960)
    assert (first.call.input_tokens, first.call.cache_write_tokens, first.call.cache_read_tokens) == (9200, 8960, 0)
