"""Real spans of Strands Agents (strands-agents 1.62.0) rewritten by OpenInference's Strands span processor
(openinference-instrumentation-strands-agents 0.1.12), read right, call for call.

Captured by tests/normalize/gen/oistrands/generate.py (versions in its requirements.txt and oistrands-truth.json),
nothing sent beyond loopback:

* ``strands-openinference``: a Strands ``Agent`` over its ``OpenAIModel`` (strands-agents[openai], openai 2.54.0)
  against the fake OpenAI Chat Completions API of gen/py_native, with gen/chat_script.py's answers (the
  agent-framework captures' conversation): input includes ``cached_tokens``, output includes reasoning.
* ``strands-bedrock-openinference``: gen/bedrock's ``run_strands`` unchanged (Strands' ``BedrockModel`` against
  its fake Bedrock Runtime, the same scripted answers as ``strands-bedrock``, Strands' own tracing alone), with the
  processor on the provider: read call for call as ``strands-bedrock`` is.

The processor is no instrumentor: it rewrites Strands' own spans as they end (processor.py on_end), keeping every
gen_ai.* attribute Strands wrote and adding ``openinference.span.kind``, ``llm.model_name``, ``llm.token_count.*``
(from gen_ai.usage.*), ``llm.input_messages`` / ``llm.output_messages`` (from Strands' gen_ai.* span events, which it
then strips) and ``input.value`` / ``output.value``. The spans then read as OpenInference's (dialects.dialect_of:
``openinference.span.kind``), the usage as the semantic conventions' gen_ai.usage.* names first. The reasons the
model stopped are only in each output message's ``message.finish_reason`` (the stripped gen_ai.choice event's
``finish_reason``), read by dialects ``_Plan.oi_output_finish``.

What no reader can get from these spans (GAPS, and the tests below):

* the provider: Strands writes ``gen_ai.system`` = "strands-agents" (a framework) on every span, and the processor
  adds ``llm.system`` / ``llm.provider`` = "strands-agents" on agent spans only (processor.py
  _transform_attributes, ``if agent_name``); nothing names OpenAI or Bedrock, no ``server.address``;
* the served model and the response id: Strands' tracer writes ``gen_ai.request.model`` only
  (telemetry/tracer.py end_model_invoke_span: usage, time to first token and the gen_ai.choice event);
* the reasoning tokens: Strands' OpenAIModel keeps inputTokens, outputTokens, totalTokens and the cache counts of
  OpenAI's usage (models/openai.py format_chunk, ``metadata``), never ``completion_tokens_details``;
* the stream flag: Strands writes the same model span streamed or not (its non-streamed OpenAI and Bedrock
  answers are replayed as stream events: gen_ai.server.time_to_first_token on both), so the stream cut at
  max_tokens reads as a truncated answer (tests/score/test_captured_scores.py KNOWN);
* the request's max_tokens and temperature: Strands' model span has no request parameter, and the processor's
  llm.invocation_parameters come from gen_ai.request.* keys Strands does not write;
* each agent run's own usage: the invoke_agent span's is the Agent object's total over all its invocations
  (test_agent_spans_total_their_model_calls_and_count_nothing); never counted, so only its cross-check is off;
* the API's own finish reasons: Strands' StopReason stands there instead (models/openai.py format_chunk
  ``message_stop``: ``tool_calls`` -> ``tool_use``, ``length`` -> ``max_tokens``, anything else ``end_turn``), so
  ``stop`` reads ``end_turn``; a cut is still told as a cut (call.TRUNCATION has ``max_tokens``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from otel_tokenwatch.pipeline.normalize.counting import _descendants
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

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "oistrands-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SOURCE, BEDROCK = "strands-openinference", "strands-bedrock-openinference"
SCOPE = "strands.telemetry.tracer"
#: Strands' StopReason for the API's finish reason (strands/models/openai.py format_chunk ``message_stop``)
STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}

#: what the spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # 128 + 64 reasoning tokens sent (chat_script.TOOL_USE); Strands' OpenAIModel usage has no reasoning count
    (SOURCE, "tool_use", "reasoning"): 0,
}


def truth(scenario: str) -> dict[str, Any]:
    return TRUTH[SOURCE]["scenarios"][scenario]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True)


def test_captures_and_their_truth() -> None:
    """Both sources for every scenario; the fake servers did send cache reads and reasoning (the gaps are the
    library's); the Bedrock source saw the very answers gen/bedrock's strands-bedrock saw."""
    assert sorted(TRUTH) == [BEDROCK, SOURCE]
    for s in (SOURCE, BEDROCK):
        capture_lines_are(s, SCENARIOS)
        assert TRUTH[s]["sources"] == [s]
        assert TRUTH[s]["versions"]["strands-agents"] == "1.62.0"
        assert TRUTH[s]["versions"]["openinference-instrumentation-strands-agents"] == "0.1.12"
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH[SOURCE]["scenarios"].items()}
    assert by == {"healthy": (2, 0, 2550, 0, 240, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0), "tool_use": (2, 0, 890, 0, 240, 192),
                  "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0)}
    assert TRUTH[BEDROCK]["scenarios"] == json.loads((DATA / "bedrock-truth.json").read_text())["scenarios"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_openai_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], with_gaps(truth(scenario), GAPS, SOURCE, scenario, unread=0)
    assert_totals(got, want)
    assert got["scopes"] == {SCOPE}
    assert got["providers"] == {None}  # the framework's name only (see the docstring), failed calls' too
    assert got["models"] == [m for m, _ in want["models"]]
    assert got["served"] == [None] * len(want["models"])  # no response model on Strands' spans


def test_openai_finish_reasons_are_strands_stop_reasons(results: dict[str, Any]) -> None:
    """Read from the output messages' ``message.finish_reason`` (nothing else on the span names one): Strands'
    StopReason for each answer, the cut one truncation; the failed calls have none."""
    for scenario in SCENARIOS:
        want = [STOP[r] for r in truth(scenario)["finish_reasons"]]
        got = results[scenario]["finish"]
        assert [r for rs in got for r in rs] == want, scenario
        assert [cut_by_finish_reason(rs) for rs in got] == [r == "max_tokens" for r in want], scenario
        assert all(s is None for s in results[scenario]["streamed"]), scenario  # no stream flag (docstring)
    assert [e.call.finish_reasons for e in failed_in_errors(SOURCE, SCENARIOS)] == [(), ()]  # type: ignore[union-attr]


def test_openai_errors_are_failed_calls_counted_once() -> None:
    """429 (Strands raises ModelThrottledException; retry_strategy=None: no Strands retry) then 500 surfaced: two
    failed chat spans without usage, their cycle and agent spans failed too but no calls."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert [(e.call.provider, e.call.request_model, e.view.name) for e in failed] == [  # type: ignore[union-attr]
        (None, "gpt-4o-mini", "chat")] * 2


@pytest.mark.parametrize("source", [SOURCE, BEDROCK])
def test_agent_spans_total_their_model_calls_and_count_nothing(source: str) -> None:
    """Strands' invoke_agent span repeats its calls' summed usage (tracer.py end_agent_span,
    ``response.metrics.accumulated_usage``), and the processor copies it to llm.token_count.* (an AGENT span): read,
    never counted; the cycle spans (CHAIN) and the tool span are no calls. One counted span per answered call.

    That sum is the Agent object's over every invocation, not the run's (telemetry/metrics.py EventLoopMetrics:
    ``accumulated_usage``, "across all requests"; Agent.__call__'s reset_usage_metrics only starts a new
    AgentInvocation): the OpenAI source's healthy conversation asks one Agent twice, so its second agent span
    carries both runs' tokens; only that mismatch is marked on it, nothing is counted from it."""
    checked = 0
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "cache_read", "cache_write", "output"))
        assert {e.view.name for e in calls} <= {"chat"}, scenario
        children = tree.children()
        for e in tree.spans:
            c = e.call
            if e.view.name.startswith("invoke_agent") and c is not None and c.input_tokens is not None:
                below = [d.call for d in _descendants(e, children) if d.call is not None and d.call.counted]
                assert c.kind == "agent" and not c.counted and below, scenario
                summed = (sum(b.input_tokens or 0 for b in below), sum(b.output_tokens or 0 for b in below))
                if (source, scenario) == (SOURCE, "healthy") and summed == (1350, 90):  # the Agent's 2nd run
                    assert (c.input_tokens, c.output_tokens) == (1200 + 1350, 150 + 90)
                    assert e.get(semconv.USAGE_MISMATCH) == "reports 2790 tokens, its counted calls 1440"
                else:
                    assert (c.input_tokens, c.output_tokens) == summed, scenario
                    assert e.get(semconv.USAGE_MISMATCH) is None, scenario
                checked += 1
            if e.view.name.startswith(("execute_event_loop_cycle", "execute_tool")):
                assert c is not None and not c.counted and c.kind in ("workflow", "tool"), (scenario, e.view.name)
    # every agent run but the one cut at max_tokens (Strands raises: its agent span ends ERROR without usage)
    # and the failed ones: OpenAI 2 + 3 + 1 + 1 + 2, Bedrock 2 + 3 + 1 + 1 + 1 (its third errors run answers) + 2
    assert checked == (9 if source == SOURCE else 10)


def test_openai_tool_call_and_tool_span() -> None:
    """The requested tool is read from the output message's tool calls (llm.output_messages.0.message.tool_calls),
    Strands' own execute_tool span names the tool it ran."""
    first, second = counted(SOURCE, "tool_use")
    assert [n for n, _ in first.call.requested_tools] == ["get_order_status"]  # type: ignore[union-attr]
    assert second.call.requested_tools == ()  # type: ignore[union-attr]
    tools = [e.call.tool_name for sc, t in trees(SOURCE) if sc == "tool_use" for e in t.spans
             if e.call is not None and e.call.kind == "tool"]
    assert tools == ["get_order_status"]


def test_openai_cost_is_computed_and_cache_reads_priced_as_such() -> None:
    """No cost on the spans: priced by model (no provider), the cached calls' cache reads at the cache rate."""
    calls = counted(SOURCE, "cached")
    assert [e.call.cache_read_tokens for e in calls] == [0, 8960, 8960]  # type: ignore[union-attr]
    assert all(e.call is not None and e.call.cost_source == "computed" and e.call.cost_usd for e in calls)
    first, second = (e.call.cost_usd for e in calls[:2])  # type: ignore[union-attr]
    assert second is not None and first is not None and second < first  # 9260 tokens in, 8960 of them cached
    for scenario in SCENARIOS:
        assert all(e.call.cost_source == "computed" for e in counted(SOURCE, scenario)), scenario  # type: ignore[union-attr]


@pytest.mark.parametrize("source", [SOURCE, BEDROCK])
def test_prompts_are_read(source: str) -> None:
    """The request's messages are llm.input_messages (the system prompt first, then the turns): the system prompt
    apart, the user's question and the earlier turns in the input (the healthy follow-up carries the first answer
    on the OpenAI source, whose agent keeps its history; the second tool_use call, the tool's answer)."""
    for scenario in ("healthy", "tool_use", "duplicate"):
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "support assistant for ACME" in c.system_content and "ACME" not in c.input_content
            assert "order A-100" in c.input_content
    if source == SOURCE:
        follow_up = counted(SOURCE, "healthy")[1].call
        assert follow_up is not None and "arrives Friday" in (follow_up.input_content or "")
    answer = counted(source, "tool_use")[1].call
    assert answer is not None and "shipped" in (answer.input_content or "")


def test_bedrock_reads_as_strands_own_spans_call_for_call() -> None:
    """Over Bedrock the processor changes nothing that is read: per call (in start order) the same input (Strands
    1.62.0 writes it cache included), cache, output, request model and stop reason as ``strands-bedrock`` (which
    reads the stop reason from the gen_ai.choice event the processor strips), no provider in either; the cut
    stream reads as truncation, the two failed calls are failed calls."""
    for scenario in SCENARIOS:
        rows = {s: [(c.input_tokens, c.cache_read_tokens or 0, c.cache_write_tokens or 0, c.output_tokens,
                     c.reasoning_tokens, c.request_model, c.response_model, c.provider, c.finish_reasons, c.streaming)
                    for c in (e.call for e in counted(s, scenario)) if c is not None]
                for s in ("strands-bedrock", BEDROCK)}
        assert rows[BEDROCK] == rows["strands-bedrock"], scenario
        t = TRUTH[BEDROCK]["scenarios"][scenario]
        assert token_sums(counted(BEDROCK, scenario), ("input", "cache_read", "cache_write", "output")) == {
            "input": t["uncached_input"] + t["cache_read"] + t["cache_write"], "cache_read": t["cache_read"],
            "cache_write": t["cache_write"], "output": t["output"]}, scenario
        assert [r for e in counted(BEDROCK, scenario) for r in e.call.finish_reasons] == t["stop_reasons"]  # type: ignore[union-attr]
    failed = failed_in_errors(BEDROCK, SCENARIOS)
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        (None, "anthropic.claude-3-5-haiku-20241022-v1:0")] * 2
