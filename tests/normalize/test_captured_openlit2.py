"""Real spans of OpenLIT over Groq, Mistral AI, LiteLLM, pydantic-ai and Cohere
(tests/normalize/data/{groq,mistralai,litellm,pydantic-ai,cohere}-openlit.jsonl), read right, call for call.

Captured by tests/normalize/gen/openlit2/generate.py (openlit 1.45.0; versions in its requirements.txt and in the
truth file) against the fake provider servers of gen/py_native, with the scenario runners of gen/py_native,
gen/py_vendors2 (LiteLLM) and gen/oi2 (pydantic-ai) run unchanged. The fake servers' answers are the truth
(openlit2-truth.json, one entry per source): input includes cached tokens, output includes reasoning, as the
semantic conventions' counts do. Two spans per call where a second library traces it too: the mistralai SDK's own
span under OpenLIT's, OpenLIT's pydantic-ai agent spans over its OpenAI ``chat`` span: counted once.
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

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "openlit2-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: the provider each source's counted calls name (LiteLLM's and pydantic-ai's model is OpenAI's)
PROVIDER = {"groq-openlit": "groq", "mistralai-openlit": "mistral_ai", "litellm-openlit": "openai",
            "pydantic-ai-openlit": "openai", "cohere-openlit": "cohere"}
SOURCES = list(PROVIDER)
CASES = [(src, sc) for src in SOURCES for sc in SCENARIOS]

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/groq/utils.py common_chat_logic fails on a tool call after writing the
    # finish reason (``scope._tools.get("function", {})``: ``_tools`` is the message's tool_calls list), and
    # groq.py chat's ``except Exception: handle_exception(span, e)`` marks the span ERROR with no usage; the app
    # got its answer (420 in, 24 out, the fake server's truth): a successful call whose usage no span holds
    ("groq-openlit", "tool_use", "unread"): 1,
    ("groq-openlit", "tool_use", "input"): 470,
    ("groq-openlit", "tool_use", "output"): 12,
    # openlit 1.45.0 instrumentation/litellm/utils.py process_chat_response reads prompt_tokens,
    # completion_tokens and the cache counts (_extract_litellm_cache_tokens), no reasoning count
    ("litellm-openlit", "tool_use", "reasoning"): 0,
    # openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic (Chat Completions, pydantic-ai's
    # OpenAIChatModel) writes no reasoning count (only common_response_logic, the Responses API, does)
    ("pydantic-ai-openlit", "tool_use", "reasoning"): 0,
    # openlit 1.45.0 instrumentation/cohere/utils.py: ``scope._input_tokens = billed.get("input_tokens", 0)``,
    # usage.billed_units only; Cohere's usage.tokens.input_tokens (the model's own count, with the prompt
    # template) is on no span
    **{("cohere-openlit", sc, "input"): TRUTH["cohere-openlit"]["scenarios"][sc]["billed_input"]
       for sc in SCENARIOS if sc != "errors"},
}
#: the served model the spans name, where it is not the one the server answered with: LiteLLM's stream wrapper
#: builds its chunks with the request's model (litellm 1.110.2 litellm_core_utils/streaming_handler.py
#: CustomStreamWrapper ``self.model``), and OpenLIT reads the chunks' ``model``
SERVED_AS_REQUEST = {("litellm-openlit", "streaming")}
#: streams whose span names no served model: openlit 1.45.0 instrumentation/groq/utils.py process_chunk takes
#: it from the last chunk's ``x_groq.model`` (Groq's x_groq names the request id; the model is the chunk's own
#: ``model``, never read); instrumentation/cohere/cohere.py TracedSyncStream starts ``self._response_model = ""``
#: and utils.py process_chunk never sets it (the non-streamed path takes the request's model: Cohere's v2 API
#: names none)
NO_SERVED = {("groq-openlit", "streaming"), ("cohere-openlit", "streaming")}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[source]["scenarios"][scenario]  # type: ignore[no-any-return]


def test_data_files_are_there() -> None:
    for source in SOURCES:
        assert TRUTH[source]["sources"] == [source]
        assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS)
        assert TRUTH[source]["versions"]["openlit"] == "1.45.0"
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize(("source", "scenario"), CASES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    got = scenario_totals(source, failed_providers_apart=True, parts_within=True)[scenario]
    want = with_gaps(truth(source, scenario), GAPS, source, scenario, unread=0)
    assert_totals(got, want)
    assert got["models"] == [m for m, _ in want["models"]]
    as_request = (source, scenario) in SERVED_AS_REQUEST
    assert got["served"] == [None if (source, scenario) in NO_SERVED else m if as_request else s
                             for m, s in want["models"]]
    assert got["providers"] == ({PROVIDER[source]} if want["calls"] > want["failed"] else set())
    assert got["finish_reasons"] == [r.lower() for r in want["finish_reasons"]] or \
        got["finish_reasons"] == want["finish_reasons"]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app: two failed calls, each once (the mistralai SDK's own span beside
    OpenLIT's is paired with it); OpenLIT's failed spans carry no attribute but the span name and status, the
    provider is the scope's (openlit.instrumentation.litellm names a router, no provider)."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == truth(source, "errors")["failed"] == 2
    want = None if source == "litellm-openlit" else PROVIDER[source]
    assert {(e.call.provider, e.call.counted) for e in failed} == {(want, False)}  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        # OpenLIT's pydantic-ai agent spans (provider pydantic_ai, the task span summing the run's usage) and
        # its LiteLLM span's router name are never a provider of a counted call
        assert {e.call.provider for e in calls} <= {PROVIDER[source]}, scenario  # type: ignore[union-attr]
        assert all(e.scope.name != "openlit.instrumentation.pydantic_ai" for e in calls), scenario


def test_groq_tool_call_span_marked_error_by_openlit_is_no_failed_call() -> None:
    """The span OpenLIT's own exception marked ERROR (error.type AttributeError) names the finish reason: the
    call was answered, so it is neither a failed call nor counted (it holds no usage)."""
    spans = [e for sc, t in trees("groq-openlit") if sc == "tool_use" for e in t.spans
             if e.call is not None and e.call.kind == "inference"]
    marked = [e for e in spans if e.view.status_code == 2]
    assert len(marked) == 1
    c = marked[0].call
    assert c is not None and not c.error and not c.counted and c.finish_reasons == ("tool_calls",)


def test_mistral_cache_reads_come_from_openlits_span_over_the_sdks() -> None:
    """The mistralai SDK's span counts (the deepest); its cache count is OpenLIT's, the wrapper's."""
    calls = counted("mistralai-openlit", "cached")
    assert [e.scope.name for e in calls] == ["mistralai_sdk_tracer"] * 3
    assert [e.call.cache_read_tokens for e in calls] == [0, 8960, 8960]  # type: ignore[union-attr]


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH["groq-openlit"]["scenarios"].items()}
    assert by == {"healthy": (2, 0, 2550, 0, 240, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0), "tool_use": (2, 0, 890, 0, 36, 0),
                  "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0)}
    assert {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
            for k, v in TRUTH["mistralai-openlit"]["scenarios"].items()} == by
    assert TRUTH["litellm-openlit"]["scenarios"]["tool_use"]["reasoning"] == 128
    assert TRUTH["pydantic-ai-openlit"]["scenarios"]["tool_use"]["reasoning"] == 192
    assert TRUTH["cohere-openlit"]["scenarios"]["healthy"]["input"] > \
        TRUTH["cohere-openlit"]["scenarios"]["healthy"]["billed_input"]
