"""Real spans of OpenLIT's Bedrock and Ollama instrumentations, counted against the fake servers' ground truth
(tests/normalize/gen/vendors3/generate.py made the data files; versions in its requirements.txt and in
vendors3-truth.json):

* ``openlit-bedrock``: openlit 1.45.0 over boto3 ``bedrock-runtime`` ``converse`` / ``converse_stream`` against the
  bedrock generator's fake. Its ``gen_ai.usage.input_tokens`` is Bedrock's ``inputTokens``, cache reads and writes
  left out (instrumentation/bedrock/utils.py ``_input_tokens = usage.get("inputTokens")``, priced with
  ``prompt_tokens_include_cache=False``): read with the cache added, as the semantic conventions mean it.
* ``openlit-ollama``: openlit 1.45.0 over the ollama client against py_native's fake ``/api/chat`` (the scenarios
  ``ollama-openllmetry`` was captured with; no ``cached``: Ollama reports no cache count).
* ``openllmetry-vertexai``: Traceloop's opentelemetry-instrumentation-vertexai 0.62.4 over the vertexai SDK
  (google-cloud-aiplatform 2.7.0) against contrib3's fake Vertex AI REST endpoint. Its output is
  ``candidates_token_count`` (thoughts left out) beside ``llm.usage.total_tokens`` (span_utils.py
  set_model_response_attributes): the thoughts are the total's rest, read into output and reasoning. Its provider
  is ``Google`` on every span (__init__.py _wrap), read as Vertex AI's by the scope. No ``tool_use``: the
  instrumentation's _handle_response reads ``response.candidates[0].text``, which raises for a function call.
* ``openllmetry-haystack``: Traceloop's opentelemetry-instrumentation-haystack 0.62.4 with opentelemetry-
  instrumentation-openai 0.62.4 over a Haystack 2.31 ``Pipeline`` of ``OpenAIChatGenerator``. The Haystack span
  (``haystack.openai.chat``, wrap_openai.py) has no usage, no model unless in generation_kwargs; the OpenAI span
  inside it counts the call. (opentelemetry-instrumentation-haystack 0.62.4 cannot instrument haystack-ai 3.x:
  its WRAPPED_METHODS name ``haystack.components.generators.openai``, which 3.x no longer has.)

A failed OpenLIT call is a span with its name, an ERROR status and the exception event only (bedrock.py calls the
client inside ``tracer.start_as_current_span``, every attribute comes from the response; ollama likewise).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.enrich.trees import trees_of
from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "vendors3-truth.json").read_text())
SCENARIOS = {"openlit-bedrock": ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"],
             "openlit-ollama": ["healthy", "streaming", "tool_use", "errors", "duplicate"],
             "openllmetry-vertexai": ["healthy", "cached", "streaming", "errors", "duplicate"],
             "openllmetry-haystack": ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]}
SOURCES = list(SCENARIOS)
PROVIDER = {"openlit-bedrock": "aws.bedrock", "openlit-ollama": "ollama", "openllmetry-vertexai": "gcp.vertex_ai",
            "openllmetry-haystack": "openai"}
SCOPE = {"openlit-bedrock": "openlit.instrumentation.bedrock", "openlit-ollama": "openlit.instrumentation.ollama",
         "openllmetry-vertexai": "opentelemetry.instrumentation.vertexai",
         "openllmetry-haystack": "opentelemetry.instrumentation.openai.v1"}
#: the request model of the failed calls (the span name's: ``chat {model}``)
FAILED_MODEL = {"openlit-bedrock": "anthropic.claude-3-5-haiku-20241022-v1:0", "openlit-ollama": "llama3.2",
                "openllmetry-vertexai": "gemini-2.5-flash", "openllmetry-haystack": "gpt-4o-mini"}
#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-vertexai 0.62.4 __init__.py _wrap: ``span = tracer.start_span(...)``, then
    # ``response = wrapped(*args, **kwargs)`` and ``span.end()`` after it, no try: a call that raises leaves its
    # span unended, never exported; the 429 and the 500 are not in the trace
    ("openllmetry-vertexai", "errors", "calls"): 0,
    ("openllmetry-vertexai", "errors", "failed"): 0,
}
#: finish reasons and stream flags the spans cannot carry: Traceloop's Vertex AI spans have neither
#: (span_utils.py set_model_response_attributes writes usage and model only; _build_from_streaming_response the
#: same attributes as a call answered at once)
NO_FINISH = {"openllmetry-vertexai"}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS[s])
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS[s]), s
        assert sorted(results[s]) == sorted(SCENARIOS[s]), s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS[s]])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert got["scopes"] <= {SCOPE[source]}, got["scopes"]
    assert got["providers"] == ({PROVIDER[source]} if want["calls"] else set()), got["providers"]
    ok = [m[0] if isinstance(m, list) else m for m in want["models"]]
    assert got["models"] == ok
    assert got["failed_models"] == [FAILED_MODEL[source]] * want["failed"]


def test_truth_keeps_the_cache_outside_bedrocks_input() -> None:
    """The fake Bedrock sent cache reads and writes beside an ``inputTokens`` without them, one call with more
    uncached input than cache read (a cache-larger-than-input guess alone would miss it)."""
    sc = TRUTH["openlit-bedrock"]["scenarios"]
    assert (sc["cached"]["cache_read"], sc["cached"]["cache_write"]) == (4096, 2048)
    assert sc["cached"]["input"] == sc["cached"]["uncached_input"] + 6144 == 9319
    assert sc["streaming"]["cache_read"] == 2048
    for s in SOURCES:
        assert TRUTH[s]["scenarios"]["errors"]["failed"] == 2 and TRUTH[s]["scenarios"]["duplicate"]["calls"] == 2
    # the fake Vertex AI sent thoughts (not in candidatesTokenCount) and cache reads: the reader found them
    vx = TRUTH["openllmetry-vertexai"]["scenarios"]
    assert (vx["healthy"]["reasoning"], vx["cached"]["cache_read"]) == (64, 17920)


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    """Finish reasons as the API sent them, the cut stream seen as cut, and the stream flags."""
    key = "stop_reasons" if source == "openlit-bedrock" else "finish_reasons"
    for scenario in SCENARIOS[source]:
        want = TRUTH[source]["scenarios"][scenario][key][:expected(source, scenario)["calls"]]
        got = results[source][scenario]["finish"]
        if source in NO_FINISH:
            assert got == [()] * len(want), scenario
            assert results[source][scenario]["streamed"] == [None] * len(want), scenario
            continue
        assert [r for rs in got for r in rs] == [{"tool_calls": "tool_call"}.get(r, r) for r in want], scenario
        assert [cut_by_finish_reason(rs) for rs in got] == [r in ("max_tokens", "length") for r in want], scenario
        streamed = results[source][scenario]["streamed"]
        assert streamed == ([True, True] if scenario == "streaming" else [False] * len(want)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call, never one inside another; the roots carry their sums; the failed calls
    only in ``errors``; the app's tool spans are tools."""
    for scenario, tree in trees(source):
        want = expected(source, scenario)
        if not want["calls"]:  # no model call in the trace: the root carries no totals
            assert not any(e.call is not None and e.call.kind == "inference" for e in tree.spans), scenario
            continue
        calls = counted_once(tree, ("input", "output", "cache_read", "cache_write"))
        assert len(calls) == want["calls"] - want["failed"], scenario
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "workflow")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)
    assert len(failed_in_errors(source, SCENARIOS[source])) == expected(source, "errors")["failed"]


def test_haystack_spans_are_not_calls_of_their_own() -> None:
    """Every OpenAIChatGenerator run has its Haystack span around the OpenAI span, which alone is counted."""
    for scenario, tree in trees("openllmetry-haystack"):
        hay = [e for e in tree.spans if e.scope.name == "opentelemetry.instrumentation.haystack"
               and e.view.name == "haystack.openai.chat"]
        want = TRUTH["openllmetry-haystack"]["scenarios"][scenario]["calls"]
        assert len(hay) == want, scenario
        assert not any(e.call is not None and e.call.counted for e in hay), scenario


def test_a_call_whose_usage_no_span_carries_is_one_call_not_two() -> None:
    """A streamed OpenAI call without ``stream_options.include_usage`` reports no usage (genai-dialects.md section
    6, Streaming): then neither the Haystack span nor the OpenAI span inside it has any, and the pair is still one
    call. The real capture with every usage key taken off its spans: each Haystack span reads as a report of the
    OpenAI call below it, and only that call is left (uncounted, without usage), one per generator run."""
    stage = NormalizeProcessor(NormalizeConfig())

    def strip(span: Any) -> None:
        keep = [kv for kv in span.attributes if not kv.key.startswith(("gen_ai.usage.", "llm.usage."))]
        del span.attributes[:]
        span.attributes.extend(keep)

    for scenario, tree in trees_of(DATA / "openllmetry-haystack.jsonl"):
        if scenario == "errors":
            continue
        for e in tree.spans:
            e.rewrite(strip)
        stage.process(tree)
        calls = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert calls and not any(e.call.has_usage or e.call.counted for e in calls), scenario
        left = [e for e in calls if e.call.report_of is None]
        assert len(left) == TRUTH["openllmetry-haystack"]["scenarios"][scenario]["calls"], scenario
        assert {e.scope.name for e in left} == {"opentelemetry.instrumentation.openai.v1"}, scenario
        for e in calls:
            if e.scope.name == "opentelemetry.instrumentation.haystack":
                assert e.call.report_of in {x.span_id for x in left}, scenario
