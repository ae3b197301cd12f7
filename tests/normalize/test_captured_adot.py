"""Real spans of the AWS Distro for OpenTelemetry Python (aws-opentelemetry-distro 0.21.0) over boto3's
``bedrock-runtime`` client (tests/normalize/data/adot-bedrock.jsonl), counted against the Bedrock fake's truth
(adot-truth.json; made by tests/normalize/gen/adot/generate.py with ADOT started as ``opentelemetry-instrument``
starts it, ``aws_distro`` / ``aws_configurator``, its OTLP/HTTP exporters pointed at a loopback receiver,
Application Signals off; versions in its requirements.txt and in the truth file).

What ADOT's spans are: ADOT 0.21.0 has no Bedrock Runtime extension of its own (amazon/opentelemetry/distro/
patches/_botocore_patches.py ``_apply_botocore_bedrock_patch``: "Bedrock Runtime uses the upstream extension
directly"; its ``_Bedrock*Extension`` classes, which write ``aws.bedrock.*``, cover the ``bedrock``,
``bedrock-agent``, ``bedrock-agent-runtime`` and ``bedrock-agentcore`` clients only). A Bedrock Runtime span is
opentelemetry-instrumentation-botocore's bedrock-runtime extension, at the version ADOT pins (0.65b0, one behind
the 0.66b2 of ``bedrock-otel``), run by ADOT's replacement of ``BotocoreInstrumentor._patched_api_call``
(``_apply_botocore_api_call_patch``, a copy of contrib's v1.42.x-0.63bx one): that writes ``aws.region`` where
0.66b2 writes ``cloud.region``, and adds ``aws.auth.region`` and ``aws.auth.account.access_key`` (the caller's AWS
access key id, on every AWS SDK span). The GenAI keys are contrib's: ``gen_ai.system`` aws.bedrock,
``gen_ai.operation.name`` chat, ``gen_ai.request.model`` (the modelId), ``gen_ai.usage.input_tokens`` /
``output_tokens``, ``gen_ai.response.finish_reasons``, ``rpc.method`` (ConverseStream: the stream flag).
Read as they are; no reader change was needed.

Gaps (the spans say it wrongly or not at all):

* 0.65b0 extensions/bedrock.py ``_converse_on_success`` sets input and output tokens only: the Converse cache
  reads and writes that 0.66b2 writes (``gen_ai.usage.cache_read.input_tokens`` /
  ``cache_creation.input_tokens``) are not on ADOT's spans, and Bedrock's ``inputTokens`` leaves them out, so the
  cached and streaming scenarios read their uncached input only; ``_handle_anthropic_claude_response`` (InvokeModel
  with a Claude body) drops the cache read as 0.66b2 does.
* ``_handle_cohere_command_r_response`` (InvokeModel with a Cohere Command R body) writes no usage from the
  answer, which has none, but an estimate: ``estimate_token_count`` (bedrock_utils.py, ``ceil(len / 6)``) of the
  request's ``message`` as input and of the answer's ``text`` as output. The real counts are in the
  ``x-amzn-bedrock-input-token-count`` / ``-output-token-count`` response headers, which no span keeps.
* Content (system, messages, the answer, its tool calls) goes to log events only
  (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``, extensions/bedrock_utils.py), the line's
  ``otlp_logs``: the span reader reads none of it, so no content and no requested tool is read.
* No response model: the extension writes none (the Claude body's ``model`` is not kept).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

SOURCE = "adot-bedrock"
ENTRY: dict[str, Any] = json.loads((DATA / "adot-truth.json").read_text())[SOURCE]
TRUTH: dict[str, dict[str, Any]] = ENTRY["scenarios"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = "opentelemetry.instrumentation.botocore.bedrock-runtime"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
COHERE_MSG, COHERE_TEXT = "And order A-1004?", "Order A-1004 ships next week."


def estimate(text: str) -> int:
    """contrib botocore 0.65b0 bedrock_utils.py estimate_token_count: 6 characters a token, rounded up."""
    return -(-len(text) // 6)


#: what the spans cannot carry, so no reader can count it: (scenario, field) -> value read
GAPS: dict[tuple[str, str], int] = {
    # the Converse cache (a write, then reads) and the InvokeModel Claude cache read are not on the spans
    ("cached", "input"): 3175, ("cached", "cache_read"): 0, ("cached", "cache_write"): 0,
    ("streaming", "input"): 1200, ("streaming", "cache_read"): 0,
    # Cohere Command R: estimated from the request's message and the answer's text (fake: 260 in, 38 out)
    ("healthy", "input"): 3170 - 260 + estimate(COHERE_MSG),
    ("healthy", "output"): 365 - 38 + estimate(COHERE_TEXT),
}


def test_capture_and_its_truth() -> None:
    """Every scenario captured; the truth is what generate.py scripted (so a silently changed re-run shows)."""
    capture_lines_are(SOURCE, SCENARIOS)
    assert ENTRY["versions"]["aws-opentelemetry-distro"] == "0.21.0"
    assert ENTRY["versions"]["opentelemetry-instrumentation-botocore"] == "0.65b0"
    by = {k: (v["calls"], v["failed"], v["uncached_input"], v["cache_read"], v["cache_write"], v["output"],
              v["reasoning"]) for k, v in TRUTH.items()}
    assert by == {"healthy": (5, 0, 3170, 0, 0, 365, 0), "cached": (3, 0, 3175, 4096, 2048, 103, 0),
                  "streaming": (2, 0, 1200, 2048, 0, 264, 0), "tool_use": (2, 0, 1290, 0, 0, 85, 0),
                  "errors": (3, 2, 400, 0, 0, 60, 0), "duplicate": (2, 0, 1800, 0, 0, 160, 0)}
    assert TRUTH["healthy"]["models"] == [HAIKU, "amazon.nova-lite-v1:0", "meta.llama3-1-8b-instruct-v1:0",
                                          "cohere.command-r-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tokens_match_the_fake_servers_truth(scenario: str) -> None:
    truth = TRUTH[scenario]
    calls = counted(SOURCE, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    want = {"input": truth["uncached_input"] + truth["cache_read"] + truth["cache_write"],
            "cache_read": truth["cache_read"], "cache_write": truth["cache_write"], "output": truth["output"],
            "reasoning": 0}
    want.update({f: v for (sc, f), v in GAPS.items() if sc == scenario})
    assert token_sums(calls) == want
    for n, e in enumerate(calls):
        c = e.call
        assert c is not None and e.scope.name == SCOPE and c.kind == "inference"
        assert c.provider == "aws.bedrock" and c.request_model == truth["models"][n] and c.response_model is None
    assert [r for e in calls for r in e.call.finish_reasons] == truth["stop_reasons"]  # type: ignore[union-attr]


def test_invoke_model_bodies_per_family() -> None:
    """InvokeModel with a Claude, a Nova, a Llama and a Cohere Command R body, then Converse: each its own parser in
    contrib's extension; only Cohere's counts are estimates. Cost: computed where genai-prices knows the Bedrock
    model id, the Cohere one it does not."""
    calls = [e.call for e in counted(SOURCE, "healthy")]
    assert [(c.input_tokens, c.output_tokens, c.finish_reasons) for c in calls if c is not None] == [
        (1200, 150, ("end_turn",)), (800, 90, ("end_turn",)), (310, 42, ("stop",)),
        (estimate(COHERE_MSG), estimate(COHERE_TEXT), ("COMPLETE",)), (600, 45, ("tool_use",))]
    assert [c.cost_source for c in calls if c is not None] == ["computed"] * 3 + ["unpriced", "computed"]


def test_errors_are_failed_calls_counted_once() -> None:
    """429 ThrottlingException then 500 InternalServerException surfaced (no botocore retries)."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert [(e.call.provider, e.call.request_model, e.call.error_type) for e in failed] == [  # type: ignore[union-attr]
        ("aws.bedrock", HAIKU, "ThrottlingException"), ("aws.bedrock", HAIKU, "InternalServerException")]


def test_nothing_counted_twice_and_root_totals() -> None:
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "cache_read", "cache_write"))
        assert len(calls) == TRUTH[scenario]["calls"] - TRUTH[scenario]["failed"]


def test_streams_and_truncation() -> None:
    """ConverseStream is streaming (``rpc.method``); the stream cut at max_tokens is cut, nothing else is."""
    got = {sc: [(e.call.streaming, cut_by_finish_reason(e.call.finish_reasons))  # type: ignore[union-attr]
                for e in counted(SOURCE, sc)] for sc in SCENARIOS}
    assert got["streaming"] == [(True, False), (True, True)]
    assert all(row == (False, False) for sc in SCENARIOS if sc != "streaming" for row in got[sc])


def test_content_is_in_log_events_only_and_not_read() -> None:
    """The messages and the answer (its tool call too) are log events pointing at their call's span; the spans
    carry no text, so the reader reads no content and no requested tool."""
    lines = {d["scenario"]: d for d in map(json.loads, (DATA / f"{SOURCE}.jsonl").read_text().splitlines())}
    for scenario, d in lines.items():
        spans = {s["spanId"] for rs in d["otlp"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
                 if s["name"].startswith("chat ")}
        records = [r for rl in d["otlp_logs"]["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]]
        assert records and {r["spanId"] for r in records} <= spans, scenario
        assert "support assistant for ACME" in json.dumps(d["otlp_logs"])
        assert "support assistant for ACME" not in json.dumps(d["otlp"])
    assert '"get_order_status"' in json.dumps(lines["tool_use"]["otlp_logs"])
    for scenario in SCENARIOS:
        for e in counted(SOURCE, scenario):
            c = e.call
            assert c is not None and not c.input_content and not c.system_content and not c.requested_tools


def _call_spans(source: str) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for d in map(json.loads, (DATA / f"{source}.jsonl").read_text().splitlines()):
        spans = [s for rs in d["otlp"]["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]
                 if s["name"].startswith("chat ")]
        out[d["scenario"]] = sorted(spans, key=lambda s: int(s["startTimeUnixNano"]))
    return out


def test_against_otel_contrib_botocore_span_for_span() -> None:
    """The same scripted answers as ``bedrock-otel`` (tests/normalize/gen/bedrock; healthy: its two calls are
    ADOT's first two): the same span names and keys, but for ADOT's own ``aws.region`` / ``aws.auth.*`` (0.66b2:
    ``cloud.region``) and the cache keys 0.65b0 lacks; the same counts once the cache is taken out of 0.66b2's
    input."""
    adot, otel = _call_spans(SOURCE), _call_spans("bedrock-otel")
    cache_keys = {"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_creation.input_tokens"}
    for scenario in SCENARIOS:
        pairs = list(zip(adot[scenario], otel[scenario], strict=scenario != "healthy"))
        assert pairs, scenario
        for a, o in pairs:
            ka, ko = {x["key"] for x in a["attributes"]}, {x["key"] for x in o["attributes"]}
            assert a["name"] == o["name"]
            assert ka - ko == {"aws.region", "aws.auth.region", "aws.auth.account.access_key"}
            assert ko - ka <= {"cloud.region"} | cache_keys
        mine = [(c.input_tokens, c.output_tokens) for c in (e.call for e in counted(SOURCE, scenario)) if c]
        theirs = [((c.input_tokens or 0) - (c.cache_read_tokens or 0) - (c.cache_write_tokens or 0), c.output_tokens)
                  for c in (e.call for e in counted("bedrock-otel", scenario)) if c]
        assert mine[:len(theirs)] == theirs, scenario
    key = next(x for x in adot["healthy"][0]["attributes"] if x["key"] == "aws.auth.account.access_key")
    assert key["value"] == {"stringValue": "AKIAFAKEFAKEFAKEFAKE"}  # the generator's fake key id
