"""Real spans of OpenLLMetry's SageMaker and Replicate instrumentations (0.62.4), counted against the fakes' ground
truth (tests/normalize/gen/smrep/generate.py made the data files, nothing sent beyond loopback; versions in its
requirements.txt and in smrep-truth.json):

* ``sagemaker-openllmetry``: opentelemetry-instrumentation-sagemaker over boto3's ``sagemaker-runtime``
  ``invoke_endpoint`` / ``invoke_endpoint_with_response_stream``, a fake endpoint answering as a Hugging Face TGI
  container. Its ``sagemaker.completion`` span carries the endpoint name as gen_ai.request.model and the raw request
  and response bodies as traceloop.entity.input / output, nothing else (span_utils.py): no operation, provider,
  usage, finish reason or stream flag. Read as a model call by its name (dialects.NAMED_CALL_KINDS), provider
  ``aws.sagemaker`` by its scope (the semantic conventions have no value for SageMaker; never aws.bedrock). The usage
  is what the TGI container itself wrote in the body (dialects._sagemaker_body), never a count made from text: a
  Messages API answer's ``usage.prompt_tokens`` / ``completion_tokens``, a generate answer's
  ``details.generated_tokens`` (output only: TGI's generate answer has no input count), a stream's last SSE line's
  ``details.{input_length, generated_tokens, finish_reason}``; the body's shape tells a stream (the payload parts as
  one JSON string) from a plain call. The endpoint is billed per instance hour: no call is priced.
* ``replicate-openllmetry``: opentelemetry-instrumentation-replicate over ``replicate.run`` / ``replicate.stream``
  at a fake predictions API. Its span says gen_ai.system "Replicate", llm.request.type "completion" and the model
  from the first argument, the prompt as ``gen_ai.prompt.0.user`` and the output pieces as
  ``gen_ai.completion.{i}.content`` (span_utils.py); no usage (the prediction's ``metrics.input_token_count`` /
  ``output_token_count`` are never read), no finish reason (Replicate's API has none), the stream told by the span's
  name (``replicate.stream``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
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

TRUTH: dict[str, Any] = json.loads((DATA / "smrep-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SAGEMAKER, REPLICATE = "sagemaker-openllmetry", "replicate-openllmetry"
SOURCES = [SAGEMAKER, REPLICATE]
SCOPES = {SAGEMAKER: "opentelemetry.instrumentation.sagemaker", REPLICATE: "opentelemetry.instrumentation.replicate"}
ENDPOINT = "jumpstart-dft-meta-textgeneration-l-20260115-101500"
REPLICATE_MODEL = "meta/meta-llama-3-8b-instruct"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read.
#: SageMaker: TGI's generate answer counts its generated tokens only (text-generation-inference router/src/lib.rs
#: Details: finish_reason, generated_tokens, seed, prefill, tokens; the prompt's length only in a stream's
#: StreamDetails.input_length), so the healthy scenario's generate call (1200 in) and both duplicate calls (520 in
#: each) have no input count; every output count is read.
#: Replicate: opentelemetry-instrumentation-replicate 0.62.4 span_utils.py set_response_attributes writes the output
#: only, never the prediction's metrics: every call is unread. Its _wrap (__init__.py) starts the span with
#: ``tracer.start_span`` and calls ``wrapped(...)`` outside any try, ``span.end()`` after it: the 429 and the 500
#: leave spans never ended, never exported, so the errors scenario shows no call at all
GAPS: dict[tuple[str, str, str], Any] = {
    (SAGEMAKER, "healthy", "input"): 1350, (SAGEMAKER, "duplicate", "input"): 0,
    **{(REPLICATE, sc, k): 0 for sc in SCENARIOS for k in ("input", "output")},
    **{(REPLICATE, sc, "unread"): TRUTH[REPLICATE]["scenarios"][sc]["calls"] for sc in SCENARIOS if sc != "errors"},
    (REPLICATE, "errors", "calls"): 0, (REPLICATE, "errors", "failed"): 0}
#: the stream flag as read per successful call: SageMaker's from the body's shape, Replicate's from the span name
STREAMED = {"streaming": [True, True]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_captures_and_their_truth() -> None:
    """Both sources were captured for every scenario, and both fakes reported usage for every answered call."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
    assert TRUTH[SAGEMAKER]["versions"]["opentelemetry-instrumentation-sagemaker"] == "0.62.4"
    assert TRUTH[REPLICATE]["versions"]["opentelemetry-instrumentation-replicate"] == "0.62.4"
    assert TRUTH[REPLICATE]["versions"]["replicate"] == "1.0.7"
    for s in SOURCES:
        sc = TRUTH[s]["scenarios"]
        assert {k: (v["calls"], v["failed"], v["input"], v["output"]) for k, v in sc.items()} == {
            "healthy": (2, 0, 2550, 240), "cached": (3, 0, 27770, 330), "streaming": (2, 0, 1340, 76),
            "tool_use": (2, 0, 890, 36), "errors": (2, 2, 0, 0), "duplicate": (2, 0, 1040, 60)}, s


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    if want["calls"]:
        assert got["scopes"] == {SCOPES[source]}
        assert got["providers"] == {"aws.sagemaker" if source == SAGEMAKER else "replicate"}
    # the request's model: the endpoint name (the container's own model id is in the body only) / the ref given
    assert got["models"] == want["models"]
    assert got["served"] == [None] * len(want["models"])
    assert [r for rs in got["finish"] for r in rs] == (want["finish_reasons"] if source == SAGEMAKER else [])
    assert got["streamed"] == STREAMED.get(scenario, [False] * len(want["models"]))


def test_sagemaker_usage_is_the_containers_own_and_unpriced() -> None:
    """Per call: the Messages API's prompt/completion tokens, a generate answer's generated tokens with no input,
    a stream's input_length and generated_tokens; the stream cut at max_new_tokens says ``length``; no cost (no
    per-token price for an endpoint, whatever model it hosts)."""
    def io(scenario: str) -> list[tuple[Any, Any]]:
        return [(e.call.input_tokens, e.call.output_tokens) for e in counted(SAGEMAKER, scenario)]  # type: ignore[union-attr]

    assert io("healthy") == [(None, 150), (1350, 90)]
    assert io("streaming") == [(640, 12), (700, 64)]
    assert io("duplicate") == [(None, 30), (None, 30)]
    streamed = [e.call.finish_reasons for e in counted(SAGEMAKER, "streaming")]  # type: ignore[union-attr]
    assert [cut_by_finish_reason(r) for r in streamed] == [False, True]
    for scenario in SCENARIOS:
        for e in counted(SAGEMAKER, scenario):
            assert e.call is not None and e.call.cost_source == "unpriced" and e.call.cost_usd is None
            assert e.call.reasoning_tokens is None and e.call.cache_read_tokens is None


def test_sagemaker_errors_are_failed_calls_known_by_their_span_name() -> None:
    """429 then 500 surfaced to the app: two failed calls, each once. The span of a failed invoke_endpoint has
    error.type and its exception only (the request's attributes are set after the call returns): no model; the
    scope names the provider."""
    failed = failed_in_errors(SAGEMAKER, SCENARIOS)
    # botocore's ThrottlingException is not modeled for sagemaker-runtime (a ClientError), InternalFailure is
    assert [(e.call.provider, e.call.request_model, e.call.error_type) for e in failed] == [  # type: ignore[union-attr]
        ("aws.sagemaker", None, "ClientError"), ("aws.sagemaker", None, "InternalFailure")]


def test_replicate_errors_leave_no_span() -> None:
    """The known gap: opentelemetry-instrumentation-replicate 0.62.4 never ends the span of a call that raises
    (see GAPS): the errors trace holds the app's root alone."""
    assert failed_in_errors(REPLICATE, SCENARIOS) == []
    (tree,) = [t for sc, t in trees(REPLICATE) if sc == "errors"]
    assert [e.view.name for e in tree.spans] == ["workflow"]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One model-call span per answered request; the app's spans are no calls; counted ones are never nested."""
    for scenario, tree in trees(source):
        truth = expected(source, scenario)
        # a trace with no counted call (Replicate's: no usage) has no totals on its root
        calls = counted_once(tree, ("input", "output")) if source == SAGEMAKER else [
            e for e in tree.spans if e.call is not None and e.call.counted]
        assert len(calls) == truth["calls"] - truth["failed"] - truth["unread"], scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth["calls"], scenario
        others = {e.view.name for e in tree.spans if e.call is None or e.call.kind != "inference"}
        assert others <= {"workflow", "tool.get_order_status"}, scenario


def test_prompts_read_from_the_bodies_and_keys() -> None:
    """SageMaker: the request body is the content, a Messages API body's messages (system apart) or a generate
    body's ``inputs`` (the templated prompt, system text inside, read as the user's); Replicate: the prompt from
    ``gen_ai.prompt.0.user``, with no role (the key's last part names it; content.KeyIndex reads it as content
    only) and no system prompt (the instrumentation writes ``input.prompt`` only, not ``system_prompt``)."""
    for scenario in ("healthy", "cached", "tool_use"):
        for e in counted(SAGEMAKER, scenario):
            c = e.call
            assert c is not None and c.input_content, (scenario, e.view.name)
            assert "A-100" in c.input_content or "refund" in c.input_content
    chat = [e.call for e in counted(SAGEMAKER, "cached")]
    assert all(c is not None and c.system_content and "ACME" in c.system_content for c in chat)
    gen = counted(SAGEMAKER, "duplicate")[0].call
    assert gen is not None and gen.input_content and "ACME" in gen.input_content and gen.system_content is None
    for scenario in SCENARIOS:
        for sc, tree in trees(REPLICATE):
            for e in tree.spans:
                if sc == scenario and e.call is not None and e.call.kind == "inference":
                    assert e.call.input_content and e.call.system_content is None
                    assert json.loads(e.call.input_content)[0][0] == ""


def test_requested_tools_are_not_read() -> None:
    """Gaps: SageMaker's tool call is inside the raw response body (TGI's chat completion ``tool_calls``), which
    the reader takes usage and finish reasons from only; Replicate's Llama has no tool API (the app parses a JSON
    request out of the text). No requested tool is read for either."""
    for source in SOURCES:
        for scenario in SCENARIOS:
            for sc, tree in trees(source):
                if sc == scenario:
                    assert not any(e.call is not None and e.call.requested_tools for e in tree.spans)


def test_sagemaker_and_replicate_kind_rules() -> None:
    """The span name decides SageMaker's kind, with any keys; other spans named otherwise stay ``other``."""
    from otel_tokenwatch.pipeline.normalize.dialects import kind_of

    assert kind_of({}, "sagemaker.completion", None) == "inference"
    assert kind_of({"error.type": "ClientError"}, "sagemaker.completion", None) == "inference"
    assert kind_of({"gen_ai.request.model": "endpoint"}, "sagemaker.invoke", None) == "other"
    assert kind_of({"gen_ai.system": "Replicate", "llm.request.type": "completion"}, "replicate.run",
                   "completion") == "inference"
