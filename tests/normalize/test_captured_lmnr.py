"""Real spans of the Laminar SDK (lmnr 0.8.2) over the OpenAI and Anthropic clients, counted against the fake
servers' ground truth (tests/normalize/gen/lmnr/generate.py made the data files with Laminar's own OTLP/HTTP
exporter to a loopback receiver, nothing sent beyond loopback; versions in its requirements.txt and in
lmnr-truth.json):

* ``lmnr-openai``: Laminar's fork of OpenLLMetry's openai instrumentation, ``openai.chat`` spans with
  ``gen_ai.system`` "openai", ``gen_ai.usage.input_tokens`` / ``output_tokens`` (cache included / reasoning
  included), ``gen_ai.usage.cache_read_input_tokens``, ``gen_ai.usage.reasoning_tokens``, ``llm.is_streaming`` on
  every call, the request in ``gen_ai.input.messages`` and the response's choices (``{finish_reason, index,
  message}``) in ``gen_ai.output.messages``: the finish reasons and requested tools are read from them.
* ``lmnr-anthropic``: its fork of the anthropic one, ``anthropic.chat`` spans: ``gen_ai.usage.input_tokens`` is
  Anthropic's input with the cache reads and writes added in (``cache_read_input_tokens`` /
  ``cache_creation_input_tokens`` beside it), the stop reason only as ``stop_reason`` of each output message,
  requested tools as the content's ``tool_use`` blocks.

Both: no operation name (neither ``gen_ai.operation.name`` nor ``llm.request.type``), so a failed call's span (model,
provider, messages, error.type, nothing else) is known as a model call by Laminar's ``lmnr.span.type`` LLM alone;
``@observe`` spans (DEFAULT, TOOL) and ``Laminar.start_as_current_span`` ones are the app's (dialects.LMNR_KINDS).
Every Laminar span has scope ``lmnr.tracer`` (the wrapped library is only in ``lmnr.span.instrumentation_scope.name``,
so no scope-keyed rule of the reader can apply to Laminar's spans). Laminar writes no cost: every cost is computed.
Laminar's context is its own: by default an ``@observe`` span starts a new trace even inside an app's OpenTelemetry
span (the generator passes ``preserve_global_context=True``), so an app that mixes both gets its calls in traces apart
from its own root, each then counted once there.
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
    token_sums,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "lmnr-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
OPENAI, ANTHROPIC = "lmnr-openai", "lmnr-anthropic"
SOURCES = [OPENAI, ANTHROPIC]
SCOPE = "lmnr.tracer"  # Laminar's tracer, for its instrumentations' spans and its own alike

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read.
#: None for lmnr-openai: every count the fake sent is read
GAPS: dict[tuple[str, str, str], Any] = {}
#: the stream flag as read, per counted call. Laminar's anthropic fork writes ``llm.is_streaming`` =
#: ``kwargs.get("stream")`` (instrumentation/anthropic/span_utils.py), so nothing for a call not streamed and nothing
#: for ``messages.stream()``, whose span is named ``anthropic.chat`` like create()'s: that stream, cut at max_tokens,
#: reads as a truncated answer (tests/score/test_captured_scores.py KNOWN); the openai fork writes the flag always
ANTHROPIC_STREAMED = {"streaming": [True, None]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(OPENAI, parts_within=True)


def test_captures_and_their_truth() -> None:
    """Both sources were captured for every scenario, and the fakes did send cache reads and writes, reasoning and
    a stream's usage."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert TRUTH[s]["versions"]["lmnr"] == "0.8.2", s
    sc = TRUTH[OPENAI]["scenarios"]
    assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 128, 1340)
    an = TRUTH[ANTHROPIC]["scenarios"]
    assert {k: (v["uncached_input"], v["cache_read"], v["cache_write"], v["output"]) for k, v in an.items()} == {
        "healthy": (2000, 0, 0, 240), "cached": (10040, 17920, 8960, 330), "streaming": (1200, 4096, 0, 264),
        "tool_use": (2070, 0, 0, 155), "errors": (400, 0, 0, 60), "duplicate": (1800, 0, 0, 160)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_openai_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], expected(OPENAI, scenario)
    assert_totals(got, want)
    assert got["scopes"] == {SCOPE}
    assert got["providers"] == {"openai"}  # a failed call names its provider too
    assert got["models"] == [m[0] for m in want["models"]]
    assert got["served"] == [m[1] for m in want["models"]]
    assert [r for rs in got["finish"] for r in rs] == want["finish_reasons"]


def test_openai_streams_finish_reasons_and_cache(results: dict[str, Any]) -> None:
    assert results["streaming"]["streamed"] == [True, True]
    assert all(set(results[sc]["streamed"]) <= {False} for sc in SCENARIOS if sc != "streaming")
    assert [cut_by_finish_reason(rs) for rs in results["streaming"]["finish"]] == [False, True]
    assert [e.call.cache_read_tokens for e in counted(OPENAI, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
    assert [e.call.reasoning_tokens for e in counted(OPENAI, "tool_use")] == [128, 0]  # type: ignore[union-attr]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_anthropic_tokens_match_the_fake_servers_truth(scenario: str) -> None:
    """Laminar's input is Anthropic's input_tokens with the cache reads and writes added in (the semantic
    conventions' meaning): read as it is, the cache as its subsets."""
    truth = TRUTH[ANTHROPIC]["scenarios"][scenario]
    calls = counted(ANTHROPIC, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    assert token_sums(calls, ("input", "cache_read", "cache_write", "output")) == {
        "input": truth["uncached_input"] + truth["cache_read"] + truth["cache_write"],
        "cache_read": truth["cache_read"], "cache_write": truth["cache_write"], "output": truth["output"]}
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "anthropic" and e.scope.name == SCOPE
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
    assert [(e.call.request_model, e.call.response_model) for e in calls] == [  # type: ignore[union-attr]
        tuple(m) for m in truth["models"]]
    # the stop reason, read from each output message's ``stop_reason``
    assert [r for e in calls for r in e.call.finish_reasons] == truth["stop_reasons"]  # type: ignore[union-attr]
    assert [e.call.streaming for e in calls] == ANTHROPIC_STREAMED.get(  # type: ignore[union-attr]
        scenario, [None] * len(calls))


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_known_by_laminars_span_type(source: str) -> None:
    """429 then 500 surfaced to the app: two failed calls, each once, known as model calls by ``lmnr.span.type``
    LLM (their spans have no usage and no operation name); the ``@observe`` span around each, ERROR too, is the
    app's function, no call."""
    failed = failed_in_errors(source, SCENARIOS)
    model = "gpt-4o-mini" if source == OPENAI else "claude-haiku-4-5"
    assert [(e.call.provider, e.call.request_model, e.call.error_type) for e in failed] == [  # type: ignore[union-attr]
        (failed[0].call.provider, model, "RateLimitError"), (failed[0].call.provider, model, "InternalServerError")]
    assert failed[0].call.provider == ("openai" if source == OPENAI else "anthropic")  # type: ignore[union-attr]
    for sc, tree in trees(source):
        if sc == "errors":
            wrappers = [e for e in tree.spans if e.view.name in ("answer", "ask") and e.view.status_code == 2]
            assert len(wrappers) == 2 and all(e.call is None or e.call.kind == "other" for e in wrappers)


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call, with its response id; Laminar's own spans (``@observe`` DEFAULT and TOOL,
    ``start_as_current_span``) and the app's are not calls; the TOOL span reads as a tool."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        truth = TRUTH[source]["scenarios"][scenario]
        assert len(calls) == truth["calls"] - truth["failed"], scenario
        ids = [e.call.response_id for e in calls if e.call is not None]
        assert len(set(ids)) == len(ids) and all(ids), scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth["calls"], scenario  # no second span of any call, failed ones included
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
    if source == OPENAI:
        assert kinds == {"workflow": {"other"}, "answer": {"other"}, "answer_stream": {"other"},
                         "agent_step": {"other"}, "get_order_status": {"tool"}, "tool.get_order_status": {"other"}}
    else:
        assert kinds == {"workflow": {"other"}, "ask": {"other"}, "support-triage": {"other"},
                         "policy-qa": {"other"}, "order-updates": {"other"}, "order-agent": {"other"},
                         "account-help": {"other"}, "faq": {"other"}, "tool.get_order_status": {"other"}}


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_tools_and_cost(source: str) -> None:
    """The request's messages (``gen_ai.input.messages``): the system prompt apart, the user's question in the
    input; the tools the model asked for, from the output messages (an OpenAI choice's ``message.tool_calls``,
    Anthropic's ``tool_use`` content blocks); no cost on the spans, all computed from the tokens."""
    for scenario in SCENARIOS:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
            assert c.cost_source == "computed" and c.cost_usd, (scenario, e.view.name)
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(source, "tool_use")]  # type: ignore[union-attr]
    assert asked == ([("get_order_status",), ()] if source == OPENAI
                     else [("get_order_status",), ("get_order_status",), ()])
    for scenario in SCENARIOS:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(source, scenario))  # type: ignore[union-attr]


def test_laminar_span_types_decide_only_llm_and_tool() -> None:
    """``lmnr.span.type`` LLM is a model call and TOOL a tool run; DEFAULT (and the evaluation types) are left to
    the other rules: an ``@observe`` function is the app's."""
    from otel_tokenwatch.pipeline.normalize.dialects import kind_of

    assert kind_of({"lmnr.span.type": "LLM", "gen_ai.request.model": "m"}, "openai.chat", None) == "inference"
    assert kind_of({"lmnr.span.type": "TOOL"}, "get_order_status", None) == "tool"
    assert kind_of({"lmnr.span.type": "DEFAULT"}, "answer", None) == "other"
    assert kind_of({"lmnr.span.type": "EXECUTOR"}, "executor", None) == "other"
    assert kind_of({"lmnr.span.type": ("LLM",)}, "odd", None) == "other"
