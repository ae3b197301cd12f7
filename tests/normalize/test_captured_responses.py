"""Real spans of the OpenAI Responses API called directly (tests/normalize/data/responses-*.jsonl) read right.

Captured by tests/normalize/gen/responses/generate.py (``client.responses.create``, with and without
``stream=True``, against the agents_sdk generator's fake Responses API; versions in its requirements.txt and
in responses-truth.json): OpenInference's openinference-instrumentation-openai, OpenLLMetry's
opentelemetry-instrumentation-openai and OpenLIT. OTel contrib's opentelemetry-instrumentation-openai-v2 2.4b0
makes no span for the Responses API (its ``_instrument`` wraps chat completions and embeddings only). The
Responses API's ``input_tokens`` includes ``input_tokens_details.cached_tokens`` and ``output_tokens``
includes ``output_tokens_details.reasoning_tokens``, as the semantic conventions' input and output do.

``responses-logfire-6.0`` is ``responses-logfire``'s run with logfire 6.0.0b8, the newest release (a pre-release
of the next major): its llm_providers/usage.py get_usage_attributes writes input, output and ``gen_ai.usage.raw``
(the Response's ``usage`` as JSON) only, no cache keys, so the cache read is read from the raw usage's
``input_tokens_details.cached_tokens``; what 6.0.0b8 no longer writes at all (finish reasons, a stream's
response id and served model, the usage of a stream that ends ``response.incomplete``) is pinned below.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from tests.normalize import captured as cap

SOURCES = ["responses-openinference", "responses-openllmetry", "responses-openlit", "responses-logfire",
           "responses-logfire-6.0"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
TRUTH_FILE: dict[str, Any] = json.loads((cap.DATA / "responses-truth.json").read_text())
TRUTH: dict[str, dict[str, Any]] = TRUTH_FILE[SOURCES[0]]["scenarios"]

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
#: instead of the truth's. ``unread``: successful calls whose span has no usage at all (truth: 0).
GAPS: dict[tuple[str, str, str], int] = {
    # openinference-instrumentation-openai 0.1.66 _response_accumulator.py _ResponsesAccumulator.process_chunk
    # keeps only ``ResponseCompletedEvent``: a stream that ends in ``response.incomplete`` (the o4-mini answer cut
    # by max_output_tokens: 430 in, 64 out of which 40 reasoning) leaves its span without output, usage or
    # served model
    ("responses-openinference", "streaming", "unread"): 1,
    ("responses-openinference", "streaming", "input"): 400,
    ("responses-openinference", "streaming", "output"): 52,
    ("responses-openinference", "streaming", "reasoning"): 0,
    # openlit 1.45.0 instrumentation/openai/utils.py process_responses_chunk reads usage, response model and
    # status from ``response.completed`` only; for the stream ending in ``response.incomplete`` its
    # common_response_logic falls back to ``general_tokens(prompt)`` / ``general_tokens(scope._llmresponse)``
    # (a tokenizer estimate of the ``input`` text alone, instructions left out, and of the streamed text) and
    # writes them as gen_ai.usage.input_tokens / output_tokens: 9 and 31 for 430 and 64 (40 reasoning)
    ("responses-openlit", "streaming", "input"): 400 + 9,
    ("responses-openlit", "streaming", "output"): 52 + 31,
    ("responses-openlit", "streaming", "reasoning"): 0,
    # (logfire writes a streamed call as two spans, the request span, ended when the stream is returned, without
    # usage, and the "streaming response" log span: the request span reads as a report of the log span, one call)
    # logfire 6.0.0b8's OpenaiResponsesStreamState.get_response_data returns
    # ``ResponseStreamState._completed_response`` alone (llm_providers/openai.py; 5.4 also kept a
    # ``response.incomplete`` / ``response.failed`` event's response): the stream cut by max_output_tokens (430 in,
    # 64 out of which 40 reasoning) leaves its log span without usage, response id or served model
    ("responses-logfire-6.0", "streaming", "unread"): 1,
    ("responses-logfire-6.0", "streaming", "input"): 400,
    ("responses-logfire-6.0", "streaming", "output"): 52,
    ("responses-logfire-6.0", "streaming", "reasoning"): 0,
}
#: (source, scenario) whose last call's served model is nowhere (the same dropped ``response.incomplete``)
NO_SERVED = {("responses-openinference", "streaming"), ("responses-openlit", "streaming")}

#: finish reasons per successful call where a source does not say truncation for the cut: OpenInference 0.1.66
#: writes llm.finish_reason only for chat completion choices (_response_attributes_extractor.py), never for a
#: Response; OpenLIT 1.45.0 writes the Responses ``status`` (utils.py ``scope._finish_reason =
#: response_data.get("status")``), ``completed`` even for the tool call, and "" for the dropped incomplete stream
FINISH: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "responses-openinference": {sc: [()] * (TRUTH[sc]["calls"] - TRUTH[sc]["failed"]) for sc in SCENARIOS},
    "responses-openlit": {sc: [("completed",)] * (TRUTH[sc]["calls"] - TRUTH[sc]["failed"]) for sc in SCENARIOS},
}
FINISH["responses-openlit"]["streaming"] = [("completed",), ()]
FINISH["responses-openinference"]["streaming"] = [()]  # the cut call is unread
#: logfire 6.0.0b8 writes no finish reason for a Response at all: it lacks 5.4's ``responses_finish_reasons``
#: (llm_providers/openai.py on_response and the stream state set gen_ai.response.finish_reasons for chat
#: completions only; a Response has no finish_reason field, its status and incomplete_details are not written)
FINISH["responses-logfire-6.0"] = {sc: [()] * (TRUTH[sc]["calls"] - TRUTH[sc]["failed"]) for sc in SCENARIOS}
FINISH["responses-logfire-6.0"]["streaming"] = [()]  # the cut call is unread
#: OpenLLMetry 0.62.4 and Logfire 5.4.0 map the Responses status and output to chat finish reasons
TOOL_FINISH = {"responses-openllmetry": [("tool_call",), ("stop",)], "responses-logfire": [("tool_calls",), ("stop",)]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return cap.with_gaps(TRUTH[scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: cap.scenario_totals(s, parts_within=True) for s in SOURCES}


def test_data_files_are_there() -> None:
    assert sorted(TRUTH) == sorted(SCENARIOS)
    assert sorted(TRUTH_FILE) == sorted(SOURCES)
    for source in SOURCES:
        cap.capture_lines_are(source, SCENARIOS)
        assert TRUTH_FILE[source]["scenarios"] == TRUTH, "every source ran the same answers"


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    cap.assert_totals(got, want)
    assert got["providers"] == {"openai"}
    calls = cap.counted(source, scenario)
    assert [e.call.request_model for e in calls] == [  # type: ignore[union-attr]
        m for m, _ in TRUTH[scenario]["models"]][:len(calls)], "request model of each counted call"
    served = [s for _, s in TRUTH[scenario]["models"]]
    if (source, scenario) in NO_SERVED:
        served[-1] = None  # type: ignore[call-overload]
    if source == "responses-logfire-6.0" and scenario == "streaming":
        # logfire 6.0.0b8's stream state sets no gen_ai.response.model from the final Response (5.4 did): the log
        # span of a streamed call keeps the request model that the request span was given as its response model
        served = [m for m, _ in TRUTH[scenario]["models"]]
    assert sorted(got["served"], key=str) == sorted(served, key=str)


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    failed = cap.failed_in_errors(source, SCENARIOS)
    assert len(failed) == TRUTH["errors"]["failed"] == 2
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        ("openai", "gpt-4.1-mini")] * 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in cap.trees(source):
        calls = cap.counted_once(tree, ("input", "cache_read", "output"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streaming(results: dict[str, Any], source: str) -> None:
    """The max_output_tokens cut (status incomplete) is truncation where the source says anything; the flag
    ``stream`` is read on the streamed calls only."""
    for scenario in SCENARIOS:
        finish = [e.call.finish_reasons for e in cap.counted(source, scenario)]  # type: ignore[union-attr]
        if source in FINISH:
            assert finish == FINISH[source][scenario], scenario
        else:
            cut = [s == "incomplete" for s in TRUTH[scenario]["statuses"]]
            assert [cut_by_finish_reason(f) for f in finish] == cut, scenario
            assert all(finish), scenario
            if scenario == "tool_use":
                assert finish == TOOL_FINISH[source]
        streamed = [e.call.streaming is True for e in cap.counted(source, scenario)]  # type: ignore[union-attr]
        assert streamed == [scenario == "streaming"] * len(streamed), scenario


def test_scenario_totals_are_what_the_generator_chose() -> None:
    """The truth file itself: the numbers generate.py scripted (so a silently changed re-run shows)."""
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH.items()}
    assert by == {"healthy": (2, 0, 890, 0, 68, 0), "cached": (3, 0, 5630, 3584, 119, 0),
                  "streaming": (2, 0, 830, 0, 116, 40), "tool_use": (2, 0, 1370, 512, 190, 128),
                  "errors": (3, 2, 415, 0, 20, 0), "duplicate": (2, 0, 840, 0, 76, 0)}
    assert TRUTH["streaming"]["statuses"] == ["completed", "incomplete"]
