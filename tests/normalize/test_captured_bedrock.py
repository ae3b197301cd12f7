"""Real spans of instrumented boto3 ``bedrock-runtime`` calls (tests/normalize/data/bedrock-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/bedrock/generate.py against a fake Bedrock Runtime (versions in its
requirements.txt): opentelemetry-instrumentation-botocore (OTel contrib), Traceloop's
opentelemetry-instrumentation-bedrock and Arize's openinference-instrumentation-bedrock, each alone, over
Converse, ConverseStream and InvokeModel (Anthropic Claude and Amazon Nova bodies), and Strands Agents' own
tracing of its agent loop over BedrockModel (Converse / ConverseStream, the same scripted answers). The fake
server's answers
are the truth (bedrock-truth.json): Bedrock's ``inputTokens`` (and Claude's ``input_tokens``) leave cache reads
and writes out, the semantic conventions' input includes them. Bedrock reports no reasoning tokens apart.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.normalize.counting import _descendants
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "bedrock-truth.json").read_text())["scenarios"]
SOURCES = ["bedrock-otel", "bedrock-openllmetry", "bedrock-openinference", "strands-bedrock"]
#: Strands Agents 1.62.0 telemetry/tracer.py writes gen_ai.system = "strands-agents" (the framework) on every
#: span whatever the model provider, and nothing else names Bedrock: no provider can be read
PROVIDER = {"strands-bedrock": None}
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
TRUNCATION = {"length", "max_tokens"}
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

#: what a source's spans say wrongly or not at all, so that no reader can count it:
#: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # opentelemetry-instrumentation-botocore 0.66b2 extensions/bedrock.py _handle_anthropic_claude_response sets
    # only usage.input_tokens / output_tokens from an InvokeModel Claude body: the cached scenario's third call
    # loses its 2048-token cache read (Converse calls keep theirs, _converse_on_success)
    ("bedrock-otel", "cached", "input"): 9319 - 2048,
    ("bedrock-otel", "cached", "cache_read"): 4096 - 2048,
}


def request_model(source: str, model: str, scenario: str, n: int) -> str:
    """The request model each library writes for a call with this modelId."""
    if source == "bedrock-openllmetry":
        # opentelemetry-instrumentation-bedrock 0.62.4 __init__.py _get_vendor_model / _cross_region_check:
        # gen_ai.request.model is the modelId without its region and vendor ("us.", "anthropic.")
        return model.split(".", 2)[-1] if model.startswith("us.") else model.split(".", 1)[1]
    if source == "bedrock-openinference" and "anthropic" in model and (scenario, n) in INVOKE_CLAUDE:
        # openinference-instrumentation-bedrock 0.1.61 (utils/anthropic/_messages.py): InvokeModel's Claude
        # spans name the model the response body gives, llm.model_name; the modelId is not kept
        return {HAIKU: "claude-3-5-haiku-20241022", SONNET: "claude-sonnet-4-5-20250929"}[model]
    return model


#: (scenario, index of the successful call) made with InvokeModel and a Claude body
INVOKE_CLAUDE = {("healthy", 0), ("cached", 2)}


def test_data_files_are_there() -> None:
    assert sorted(SCENARIOS) == sorted(TRUTH)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    truth = TRUTH[scenario]
    calls = counted(source, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output", "reasoning"))
    want = {"input": truth["uncached_input"] + truth["cache_read"] + truth["cache_write"],
            "cache_read": truth["cache_read"], "cache_write": truth["cache_write"],
            "output": truth["output"] + truth["reasoning"], "reasoning": truth["reasoning"]}
    for field, value in list(want.items()):
        want[field] = GAPS.get((source, scenario, field), value)
    assert got == want
    for n, e in enumerate(calls):
        c = e.call
        assert c is not None and c.provider == PROVIDER.get(source, "aws.bedrock") and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
        assert c.request_model == request_model(source, truth["models"][n], scenario, n), (scenario, n)


def test_calls_agree_across_sources_call_for_call() -> None:
    """Per call (in start order): the same input, cache and output in every source, gaps aside."""
    for scenario in SCENARIOS:
        rows = {}
        for source in SOURCES:
            rows[source] = [(c.input_tokens, c.cache_read_tokens or 0, c.cache_write_tokens or 0, c.output_tokens)
                            for c in (e.call for e in counted(source, scenario)) if c is not None]
        if scenario == "cached":  # the OTel botocore gap: InvokeModel Claude's cache read is not on its span
            assert rows["bedrock-otel"][2] == (3100, 0, 0, 45)
            rows["bedrock-otel"][2] = rows["bedrock-openinference"][2]
        assert rows["bedrock-otel"] == rows["bedrock-openllmetry"] == rows["bedrock-openinference"] \
            == rows["strands-bedrock"], scenario


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 ThrottlingException then 500 InternalServerException surfaced (no botocore retries)."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == TRUTH["errors"]["failed"] == 2
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        (PROVIDER.get(source, "aws.bedrock"), request_model(source, HAIKU, "errors", -1))] * 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "cache_read", "cache_write"))
        assert len(calls) == TRUTH[scenario]["calls"] - TRUTH[scenario]["failed"]


@pytest.mark.parametrize("source", SOURCES)
def test_stop_reasons_and_streaming(source: str) -> None:
    """The max_tokens stop is truncation in every source (Traceloop maps it to ``length``; Strands names it
    in its gen_ai.choice span event only); tool_use and end_turn are not. ConverseStream is streaming where the
    spans can tell."""
    for scenario in SCENARIOS:
        truth = TRUTH[scenario]["stop_reasons"]
        got = [e.call.finish_reasons for e in counted(source, scenario)]  # type: ignore[union-attr]
        assert len(got) == len(truth)
        assert [any(r.lower() in TRUNCATION for r in rs) for rs in got] == [t == "max_tokens" for t in truth]
        assert all(rs for rs in got), (scenario, got)
    streamed = [e.call.streaming for e in counted(source, "streaming")]  # type: ignore[union-attr]
    # opentelemetry-instrumentation-bedrock 0.62.4 __init__.py _instrumented_converse_stream: the same span
    # name and attributes as converse, its is_stream flag reaches its metrics only
    # Strands Agents 1.62.0 models/bedrock.py _stream replays a Converse answer as stream events
    # (convert_non_streaming_to_streaming) and its tracer writes the same model span either way
    assert streamed == ([None, None] if source in ("bedrock-openllmetry", "strands-bedrock") else [True, True])
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate", "tool_use")  # type: ignore[union-attr]
                   for e in counted(source, sc))


def test_otel_botocore_content_is_in_log_events_of_the_calls() -> None:
    """opentelemetry-instrumentation-botocore writes messages as log events (extensions/bedrock_utils.py), each
    pointing at its call's span; its spans carry no prompt text."""
    lines = [json.loads(x) for x in (DATA / "bedrock-otel.jsonl").read_text().splitlines()]
    for d in lines:
        spans = {s["spanId"] for rs in d["otlp"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
                 if s["name"].startswith("chat ")}
        records = [r for rl in d["otlp_logs"]["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
        assert records and {r["spanId"] for r in records} <= spans, d["scenario"]
        assert "support assistant for ACME" in json.dumps(d["otlp_logs"])
        assert "support assistant for ACME" not in json.dumps(d["otlp"])


def test_scenario_totals_are_what_the_generator_chose() -> None:
    """The truth file itself: the numbers generate.py scripted (so a silently changed re-run shows)."""
    by = {k: (v["calls"], v["failed"], v["uncached_input"], v["cache_read"], v["cache_write"], v["output"],
              v["reasoning"]) for k, v in TRUTH.items()}
    assert by == {"healthy": (2, 0, 2000, 0, 0, 240, 0), "cached": (3, 0, 3175, 4096, 2048, 103, 0),
                  "streaming": (2, 0, 1200, 2048, 0, 264, 0), "tool_use": (2, 0, 1290, 0, 0, 85, 0),
                  "errors": (3, 2, 400, 0, 0, 60, 0), "duplicate": (2, 0, 1800, 0, 0, 160, 0)}
    assert sorted(json.loads((DATA / "bedrock-truth.json").read_text())["sources"]) == sorted(SOURCES)


def test_strands_agent_spans_total_their_model_calls_and_count_nothing() -> None:
    """Strands' invoke_agent span repeats its model calls' summed usage (telemetry/tracer.py end_agent_span:
    accumulated_usage): read, never counted; its content is in span events, read for the duplicate check."""
    checked = 0
    for scenario, tree in trees("strands-bedrock"):
        children = tree.children()
        for e in tree.spans:
            if e.view.name.startswith("invoke_agent") and e.call is not None and e.call.input_tokens is not None:
                calls = [d.call for d in _descendants(e, children) if d.call is not None and d.call.counted]
                assert not e.call.counted and calls
                assert e.call.input_tokens == sum(c.input_tokens or 0 for c in calls), scenario
                assert e.call.output_tokens == sum(c.output_tokens or 0 for c in calls), scenario
                checked += 1
        for e in tree.spans:
            if e.call is not None and e.call.counted:
                got = e.call.input_content or ""
                assert "Where is order" in got or "And order A-" in got or "my refund for A-1003" in got, scenario
                assert "support assistant for ACME" in (e.call.system_content or ""), scenario
    assert checked == 10  # every agent run but the cut one and the two failed (their spans have no usage)
