"""Real spans of OTel contrib's Vertex AI instrumentation and OpenInference's Mistral and Groq ones, counted
against the fake servers' ground truth (tests/normalize/gen/contrib3/generate.py made the data files; versions in
its requirements.txt and in contrib3-truth.json).

* ``vertexai-otel`` / ``vertexai-otel-latest``: opentelemetry-instrumentation-vertexai 2.2b0 over
  google-cloud-aiplatform's ``GenerativeModel`` (REST), default semconv (content in log events) and
  gen_ai_latest_experimental (content on the span); Vertex's ``promptTokenCount`` includes the cache,
  ``candidatesTokenCount`` leaves the thoughts out.
* ``mistralai-openinference``: openinference-instrumentation-mistralai 2.2.2 over mistralai 3.7.0.
* ``groq-openinference``: openinference-instrumentation-groq 0.1.33 over groq 1.7.0.

OTel contrib's Anthropic instrumentation is not here: it has no release on PyPI (the name's every version is
Traceloop's).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.normalize.counting import _descendants
from tests.normalize.captured import DATA, counted, failed_in_errors, scenario_totals, trees

TRUTH: dict[str, Any] = json.loads((DATA / "contrib3-truth.json").read_text())
SOURCES = ["vertexai-otel", "vertexai-otel-latest", "mistralai-openinference", "groq-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
PROVIDER = {"vertexai-otel": "gcp.vertex_ai", "vertexai-otel-latest": "gcp.vertex_ai",
            "mistralai-openinference": "mistral_ai", "groq-openinference": "groq"}
VERTEX = ("vertexai-otel", "vertexai-otel-latest")

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    **{(src, sc, f): v for src in VERTEX for sc, f, v in (
        # opentelemetry-instrumentation-vertexai 2.2b0 __init__.py _methods_to_wrap wraps
        # PredictionServiceClient.generate_content only (v1 and v1beta1, sync and async), never
        # stream_generate_content, which GenerativeModel.generate_content(stream=True) calls: a streamed call
        # has no span at all
        ("streaming", "calls", 0), ("streaming", "input", 0), ("streaming", "output", 0),
        # utils.py get_genai_response_attributes writes input = usage_metadata.prompt_token_count and output =
        # candidates_token_count, nothing else (no thoughts, no cached_content_token_count, no total): the
        # thoughts are missing from output and the cache reads from the span
        ("healthy", "output", 240), ("healthy", "reasoning", 0),
        ("tool_use", "output", 43), ("tool_use", "reasoning", 0),
        ("cached", "cache_read", 0))},
    # openinference-instrumentation-mistralai 2.2.2 _response_attributes_extractor.py
    # _get_attributes_from_completion_usage writes total, prompt and completion tokens only: Mistral's
    # prompt_tokens_details.cached_tokens is not on the span (inside input, unnamed)
    ("mistralai-openinference", "cached", "cache_read"): 0,
    # openinference-instrumentation-groq 0.1.33 _wrappers.py _CompletionsWrapper.__call__ finishes the span on
    # create()'s return value; with stream=True that is the groq.Stream not yet read (output.value
    # ``<groq.Stream object at ...>``, _response_attributes_extractor.py finds no ``usage`` on it): both
    # streamed calls' spans have no token count
    ("groq-openinference", "streaming", "calls"): 0,
    ("groq-openinference", "streaming", "input"): 0,
    ("groq-openinference", "streaming", "output"): 0,
    ("groq-openinference", "streaming", "unread"): 2,
}


def test_data_files_are_there() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for source in SOURCES:
        lines = (DATA / f"{source}.jsonl").read_text().splitlines()
        assert sorted(json.loads(x)["scenario"] for x in lines) == sorted(SCENARIOS)
        assert all(json.loads(x)["source"] == source for x in lines)
        assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    truth = TRUTH[source]["scenarios"][scenario]
    g = scenario_totals(source)[scenario]
    want = {"calls": truth["calls"] - truth["failed"], "unread": 0, "input": truth["input"],
            "output": truth["output"], "cache_read": truth["cache_read"], "cache_write": truth.get("cache_write", 0),
            "reasoning": truth["reasoning"]}
    want = {field: GAPS.get((source, scenario, field), value) for field, value in want.items()}
    calls = counted(source, scenario)
    got = {"calls": len(calls), "unread": g["unread"], "input": g["input"], "output": g["output"],
           "cache_read": g["cache_read"], "cache_write": g["cache_write"], "reasoning": g["reasoning"]}
    assert got == want
    assert g["failed"] == truth["failed"]
    assert g["providers"] <= {PROVIDER[source]}
    for e in calls:
        c = e.call
        assert c is not None and c.provider == PROVIDER[source] and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
    models = [m if isinstance(m, str) else m[0] for m in truth["models"]]
    assert sorted(e.call.request_model for e in calls) == sorted(  # type: ignore[union-attr]
        models[:len(calls)] if (source, scenario, "calls") in GAPS else models)
    # the root's totals are the counted calls', nothing twice
    assert g["root_calls"] == len(calls) and g["root_input"] == g["input"] and g["root_output"] == g["output"]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app (no SDK retries): two failed calls with provider and model, no usage.
    OpenInference's Mistral error spans have the request's attributes only (no llm.provider): the provider is
    the instrumentation's scope's; the Vertex spans under gen_ai_latest_experimental name none either."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == TRUTH[source]["scenarios"]["errors"]["failed"] == 2
    model = {"mistralai-openinference": "mistral-small-latest", "groq-openinference": "llama-3.3-70b-versatile"}
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        (PROVIDER[source], model.get(source, "gemini-2.5-flash"))] * 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        children = tree.children()
        for e in tree.spans:
            if e.call is not None and e.call.counted:
                assert not any(d.call is not None and d.call.counted for d in _descendants(e, children)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streaming(source: str) -> None:
    """The MAX_TOKENS / length cut is seen as truncation where the stream has a span; Mistral's streamed spans
    say stream."""
    for scenario in SCENARIOS:
        truth = [r.lower() for r in TRUTH[source]["scenarios"][scenario]["finish_reasons"]]
        got = [e.call.finish_reasons for e in counted(source, scenario)]  # type: ignore[union-attr]
        if (source, scenario, "calls") in GAPS or (source, scenario, "unread") in GAPS:
            assert got == [], (scenario, got)
            continue
        assert [any(r.lower() in ("length", "max_tokens") for r in rs) for rs in got] == \
            [t in ("length", "max_tokens") for t in truth], scenario
        assert all(rs for rs in got), (scenario, got)
    if source == "mistralai-openinference":
        assert [e.call.streaming for e in counted(source, "streaming")] == [True, True]  # type: ignore[union-attr]
    for sc in ("healthy", "cached", "duplicate"):
        assert not any(e.call.streaming for e in counted(source, sc))  # type: ignore[union-attr]


def test_scenario_totals_are_what_the_generator_chose() -> None:
    """The truth file itself: the numbers generate.py scripted (so a silently changed re-run shows)."""
    for source in SOURCES:
        by = {k: (v["calls"], v["failed"], v["input"], v["output"], v["cache_read"], v["reasoning"])
              for k, v in TRUTH[source]["scenarios"].items()}
        tool_use = (2, 0, 870, 171, 0, 128) if source in VERTEX else (2, 0, 890, 36, 0, 0)
        healthy = (2, 0, 2550, 304, 0, 64) if source in VERTEX else (2, 0, 2550, 240, 0, 0)
        assert by == {"healthy": healthy, "cached": (3, 0, 27770, 330, 17920, 0),
                      "streaming": (2, 0, 1340, 112, 0, 0), "tool_use": tool_use,
                      "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 60, 0, 0)}, source
