"""Real spans of AG2 1.x (PyPI ``ag2`` 1.2.1, the ``ag2.Agent`` framework: an agent with a function tool over its
``OpenAIClient``, traced by its own ``TelemetryMiddleware`` as AG2's telemetry page sets it up, ``agent_name`` only),
counted against the fake server's truth (tests/normalize/gen/ag2new/generate.py made the data files, nothing sent
beyond loopback; versions in its requirements.txt and in ag2new-truth.json).

``ag2-telemetry`` (ag2 1.2.1 middleware/builtin/telemetry.py, scope ``opentelemetry.instrumentation.ag2``, every span
with ``ag2.span.type``): per ``ask`` an ``invoke_agent support`` span (no usage: on_turn writes the agent's name,
and the provider and model only when given), one ``chat {model}`` CLIENT span per model call (gen_ai.operation.name
chat, provider and model from the response, ``gen_ai.usage.input_tokens`` / ``output_tokens`` = the response's
prompt / completion tokens, cache reads as ``gen_ai.usage.cache_read_input_tokens``, reasoning as
``gen_ai.usage.thinking_tokens``, finish reasons as a string array, the request's history and the answer as
OpenAI-style ``gen_ai.input.messages`` / ``output.messages``), ``execute_tool get_order_status``, and beside each chat
span a ``record_usage model_call`` span with the same usage again (dialects.AG2_USAGE_KIND: an accounting record,
read as no call).

Against AG2 0.14's own tracing (tests/normalize/test_captured_ag2.py, ``ag2-otel``, the same scope name):
- 0.14's ``conversation`` span carried the agents' lifetime running total (dialects._Plan drops it); 1.x has no
  conversation span and its ``invoke_agent`` carries no usage at all, so there is no running total anywhere. The
  copy 1.x adds instead is per call (``record_usage model_call``), read as no call: each model call counts once;
- 0.14 wrote prompt and completion tokens only (its cache reads and reasoning were gaps); 1.x names both, read;
- neither writes a response id nor a stream flag; neither estimates tokens (OpenLIT's ag2 steps did, ``ag2-openlit``);
- 0.14 priced the call itself (``gen_ai.usage.cost``); 1.x writes no cost: the cost is computed from the tokens;
- 0.14 named the config's request model and, on a failed call, the provider and model; 1.x (without
  ``model_name`` / ``provider_name``) takes both from the response only (GAPS below).
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

TRUTH: dict[str, Any] = json.loads((DATA / "ag2new-truth.json").read_text())
SOURCE = "ag2-telemetry"
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = "opentelemetry.instrumentation.ag2"

#: what the spans cannot carry, so no reader can count it: (source, scenario, field) -> value read. No token count
#: is lost: input, output, cache reads and reasoning are all read as the fake sent them.
GAPS: dict[tuple[str, str, str], Any] = {}
#: also read less exactly than the fake knew it, or not at all (no count is lost):
#: - the request model: on_llm_call sets ``gen_ai.request.model`` from ``response.model`` when the middleware was
#:   given no model_name ("Auto-detect provider/model from response"), and AG2's OpenAIClient takes that from the
#:   completion's ``model`` (config/openai/openai_client.py _process_completion): the served, dated model, also the
#:   span's name (``chat gpt-4o-mini-2024-07-18``); the model asked for is never written (READ_MODEL);
#: - a failed call's ``chat`` span has nothing but the operation and the history (the provider and model come from
#:   a response), no ``error.type`` either: the exception is only in the span's ``exception`` events
#:   (record_exception, and the SDK's own again from start_as_current_span), which the reader does not decode;
#: - no system prompt in gen_ai.input.messages: _build_input_messages serialises the stream's history events
#:   (ModelRequest, ModelResponse, tool results), while the prompt is ``context.prompt``, sent by the client
#:   (config/openai/mappers.py convert_messages) but never recorded; the question, history and tool results are;
#: - no sampling options (max_tokens, temperature), no stream flag, no response id (ModelResponse.response_id is
#:   there, the middleware does not write it): the stream cut at max_tokens scores as a truncated answer
#:   (tests/score/test_captured_scores.py KNOWN), and an identical request twice is told by its content alone;
#: - a cache read of 0 is not written (``if usage.cache_read_input_tokens:``), so the 1st cached call reads None;
#: - a live session's ``model_call`` usage (ag2/live/openai.py, gemini.py) has no chat span beside it and is read
#:   as no call (dialects.AG2_USAGE_KIND): not exercised here.
READ_MODEL = "gpt-4o-mini-2024-07-18"


def expected(scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[SOURCE]["scenarios"][scenario], GAPS, SOURCE, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True, roots_carry_totals=True, failed_providers_apart=True)


def test_capture_and_its_truth() -> None:
    """Every scenario was captured, and the fake did send cache reads, reasoning and the streams' usage (AG2's
    OpenAIConfig asks for it itself: ``stream_options={"include_usage": True}`` when streaming)."""
    assert sorted(TRUTH) == [SOURCE]
    capture_lines_are(SOURCE, SCENARIOS)
    assert TRUTH[SOURCE]["versions"]["ag2"] == "1.2.1"
    sc = TRUTH[SOURCE]["scenarios"]
    assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 192, 1340)
    assert sc["streaming"]["usage_unsent"] == 0


def test_counts_match_the_fake_servers_truth(results: dict[str, Any]) -> None:
    for scenario in SCENARIOS:
        got, want = results[scenario], expected(scenario)
        assert_totals(got, want)
        assert got["scopes"] == {SCOPE}, scenario
        assert got["providers"] == ({"openai"} if scenario != "errors" else set()), scenario
        assert got["failed_providers"] == ({None} if scenario == "errors" else set()), scenario
        assert [m[1] for m in want["models"]] == [READ_MODEL] * len(want["models"])
        assert got["models"] == got["served"] == [READ_MODEL] * (want["calls"] - want["failed"]), scenario
        assert got["finish_reasons"] == want["finish_reasons"], scenario


def test_streams_cache_and_reasoning(results: dict[str, Any]) -> None:
    assert all(set(results[sc]["streamed"]) <= {None} for sc in SCENARIOS)
    assert [cut_by_finish_reason(rs) for rs in results["streaming"]["finish"]] == [False, True]
    assert [e.call.cache_read_tokens for e in counted(SOURCE, "cached")] == [None, 8960, 8960]  # type: ignore[union-attr]
    assert [(e.call.output_tokens, e.call.reasoning_tokens) for e in counted(SOURCE, "tool_use")] == [  # type: ignore[union-attr]
        (150, 128), (90, 64)]


def test_errors_are_failed_calls_and_agent_turns_are_not() -> None:
    """429 then 500 surfaced to the app (``max_retries=0``, raised through ``ask``): two failed ``chat`` spans, each
    once, naming no provider, model or error type (see above); the ERROR ``invoke_agent`` spans are agents."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert [(e.view.name, e.call.provider, e.call.request_model, e.call.error_type) for e in failed] == [  # type: ignore[union-attr]
        ("chat", None, None, None)] * 2
    assert all(json.loads(e.call.input_content) == [["user", "Where is order A-1001?"]] for e in failed)  # type: ignore[union-attr,arg-type]
    for sc, tree in trees(SOURCE):
        if sc == "errors":
            turns = [e for e in tree.spans if e.view.name.startswith("invoke_agent")]
            assert len(turns) == 2 and all(e.view.status_code == 2 and e.call is not None
                                           and e.call.kind == "agent" for e in turns)


def test_each_call_counts_once() -> None:
    """One counted span per answered call: the ``chat`` span. Its ``record_usage model_call`` sibling (same parent,
    the turn) repeats its usage and is read as no call; the turns are agents without usage (no running total, as
    0.14's conversation span had), the tool run a tool."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        want = expected(scenario)
        assert len(calls) == want["calls"] - want["failed"], scenario
        assert all(e.view.name == f"chat {READ_MODEL}" and e.call.response_id is None for e in calls)  # type: ignore[union-attr]
        records = [e for e in tree.spans if e.view.name == "record_usage model_call"]
        assert len(records) == len(calls), scenario
        for r, c in zip(sorted(records, key=lambda e: int(e.view.start_time_unix_nano)), calls, strict=True):
            assert r.parent_id == c.parent_id and r.call is not None and not r.call.counted
            assert (r.attrs["gen_ai.usage.input_tokens"], r.attrs["gen_ai.usage.output_tokens"]) == (
                c.call.input_tokens, c.call.output_tokens)  # type: ignore[union-attr]
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name.split(" ")[0], set()).add(e.call.kind)
            if e.call is not None and e.call.kind == "agent":
                assert not e.call.has_usage and not e.call.counted, (scenario, e.view.name)
    assert kinds == {"workflow": {"other"}, "invoke_agent": {"agent"}, "record_usage": {"other"},
                     "execute_tool": {"tool"}}


def test_prompts_tools_and_cost() -> None:
    """The request's history as OpenAI-style messages: the question (and the earlier turns, the tool result) in the
    input, no system prompt (see above); the tool the model asked for, from the output message's tool_calls; cost
    computed from the tokens (AG2 1.x reports none)."""
    for scenario in SCENARIOS:
        for e in counted(SOURCE, scenario):
            c = e.call
            assert c is not None and c.input_content and c.system_content is None, (scenario, e.view.name)
            assert json.loads(c.input_content)[0][0] == "user" and "ACME" not in c.input_content
            assert c.cost_source == "computed" and c.cost_usd, (scenario, e.view.name)
    healthy = [json.loads(e.call.input_content) for e in counted(SOURCE, "healthy")]  # type: ignore[union-attr,arg-type]
    first = "Order A-1001 shipped yesterday and arrives Friday."
    assert healthy[1] == [["user", "Where is order A-1001?"], ["assistant", first], ["user", "And order A-1002?"]]
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(SOURCE, "tool_use")]  # type: ignore[union-attr]
    assert asked == [("get_order_status",), ()]
    for scenario in SCENARIOS:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(SOURCE, scenario))  # type: ignore[union-attr]


def test_the_tool_run_is_its_execute_tool_span() -> None:
    tools = [e for sc, t in trees(SOURCE) if sc == "tool_use" for e in t.spans
             if e.call is not None and e.call.kind == "tool"]
    assert [(e.view.name, e.call.tool_name) for e in tools] == [  # type: ignore[union-attr]
        ("execute_tool get_order_status", "get_order_status")]


def _span(name: str, attrs: dict[str, Any]) -> Any:
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry

    sp = Span(name=name, span_id=b"\x02" * 8)
    for k, v in attrs.items():
        kv = sp.attributes.add(key=k)
        if isinstance(v, int):
            kv.value.int_value = v
        else:
            kv.value.string_value = v
    return SpanEntry(ResourceInfo(b"", ""), ScopeInfo(InstrumentationScope(name=SCOPE).SerializeToString(), ""),
                     sp.SerializeToString(), b"\x02" * 8, b"")


def test_ag2_usage_records_and_provider_counts() -> None:
    """What the capture (OpenAI only) does not exercise, read by AG2 1.2.1's documented meaning: a ``model_call``
    record is no call, a ``compaction`` record (a summarising call no chat span covers, compact.py) is one; AG2's
    Anthropic and Bedrock prompt_tokens leave the cache out and its Gemini completion_tokens the thoughts
    (config/anthropic/mappers.py, config/bedrock/mappers.py, config/gemini/mappers.py normalize_usage)."""
    from otel_tokenwatch.pipeline.normalize.dialects import read_call

    usage = {"ag2.span.type": "usage", "gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-4o-mini",
             "gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 40, "ag2.usage.total_tokens": 940}
    assert read_call(_span("record_usage model_call", {**usage, "ag2.usage.kind": "model_call"})).kind == "other"
    got = read_call(_span("record_usage compaction", {**usage, "ag2.usage.kind": "compaction"}))
    assert (got.kind, got.input_tokens, got.output_tokens) == ("inference", 900, 40)

    def chat(provider: str, **usage: int) -> Any:
        return read_call(_span("chat m", {"ag2.span.type": "llm", "gen_ai.operation.name": "chat",
                                          "gen_ai.provider.name": provider, "gen_ai.request.model": "m",
                                          **{f"gen_ai.usage.{k}": v for k, v in usage.items()}}))

    a = chat("anthropic", input_tokens=3000, output_tokens=50, cache_read_input_tokens=2000,
             cache_creation_input_tokens=100)
    assert (a.input_tokens, a.cache_read_tokens, a.cache_write_tokens) == (5100, 2000, 100)
    b = chat("bedrock", input_tokens=3000, output_tokens=50, cache_read_input_tokens=2000)
    assert (b.provider, b.input_tokens) == ("aws.bedrock", 5000)
    g = chat("google", input_tokens=300, output_tokens=50, thinking_tokens=20)
    assert (g.provider, g.output_tokens, g.reasoning_tokens) == ("gcp.gen_ai", 70, 20)
    o = chat("openai", input_tokens=3000, output_tokens=150, cache_read_input_tokens=2000, thinking_tokens=128)
    assert (o.input_tokens, o.output_tokens, o.cache_read_tokens, o.reasoning_tokens) == (3000, 150, 2000, 128)
