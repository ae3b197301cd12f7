"""Real spans of Pipecat's built-in OpenTelemetry tracing (pipecat-ai 1.14.0, ``setup_tracing`` and
``PipelineWorker(enable_tracing=True, enable_turn_tracking=True, conversation_id=...)``) around a text-only
pipeline whose ``OpenAILLMService`` talks to the OpenAI fake, counted against the fake's ground truth
(tests/normalize/gen/pipecat/generate.py made the data file, nothing sent beyond loopback; versions in its
requirements.txt and in pipecat-truth.json).

``pipecat-openai``: per scenario the app's ``workflow`` root > ``conversation`` (scope ``pipecat.turn``, one per
pipeline run: ``conversation.id``, ``conversation.type``) > ``turn`` (``turn.number``, ``conversation.id``) >
``llm`` (scope ``pipecat``, one per inference: pipecat/utils/tracing/service_decorators.py traced_llm and
service_attributes.py add_llm_span_attributes). What the normalizer reads (dialects.py PIPECAT_KINDS, _Plan's
``param.model`` / pipecat_input / pipecat_tools / pipecat_stream):

* each ``llm`` span is one model call (gen_ai.operation.name ``chat``), counted once: gen_ai.usage.input_tokens /
  output_tokens (the OpenAI usage's prompt_tokens / completion_tokens: cache included, reasoning included),
  gen_ai.usage.cache_read.input_tokens, gen_ai.usage.reasoning.output_tokens; provider ``openai`` (from the
  service's class name); the request model from ``param.model`` (gen_ai.request.model is the previous response's
  served model from a service's second call on); max_tokens and temperature; the stream flag ``stream`` (true:
  the service always streams); the request's messages from ``input`` and the system instruction from
  gen_ai.system_instructions; the tools offered from ``tools``;
* ``conversation`` is a workflow and ``turn`` an agent, never calls, both with the conversation id.

Gaps (what the spans do not carry, so no reader can count it; service_decorators.py traced_llm sets nothing from
the response but the usage and the streamed text):

* no finish reason: a stream cut at max_tokens reads like a whole answer (and, streamed, is no waste either way);
* no served model (gen_ai.response.model), no response id;
* no requested tools: ``output`` is the concatenated LLMTextFrame text only, so the call that asks for
  get_order_status names no tool call; the call after it has the assistant's ``tool_calls`` message in its input;
* a failed call's error type is only in its status message and its ``exception`` event (start_as_current_span's
  record_exception), which no reader takes ``error.type`` from;
* the llm spans carry no conversation id themselves: it is on their turn and conversation ancestors.
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

SOURCE = "pipecat-openai"
TRUTH: dict[str, Any] = json.loads((DATA / "pipecat-truth.json").read_text())[SOURCE]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPES = {"conversation": "pipecat.turn", "turn": "pipecat.turn", "llm": "pipecat"}
#: the conversations of each scenario, as the generator named them (PipelineWorker conversation_id)
CONVERSATIONS = {"healthy": ["conv-healthy"], "cached": ["conv-cached"],
                 "streaming": ["conv-streaming-1", "conv-streaming-2"], "tool_use": ["conv-tool-use"],
                 "errors": ["conv-errors"], "duplicate": ["conv-duplicate-1", "conv-duplicate-2"]}
#: turns per conversation: one per user message, but the errors conversation's two messages are one turn (the bot
#: never spoke, so the TurnTrackingObserver starts no second turn: observers/turn_tracking_observer.py
#: _handle_user_started_speaking)
TURNS = {"healthy": 2, "cached": 3, "streaming": 2, "tool_use": 1, "errors": 1, "duplicate": 2}

#: what the spans cannot carry: (source, scenario, field) -> value read. No finish reason on any llm span
GAPS: dict[tuple[str, str, str], Any] = {(SOURCE, sc, "finish_reasons"): [] for sc in SCENARIOS}


def expected(scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH["scenarios"][scenario], GAPS, SOURCE, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True, roots_carry_totals=True)


def test_capture_and_its_truth() -> None:
    """Every scenario captured; the fake did send cache reads, reasoning, a stream cut at max_tokens and a tool
    call."""
    capture_lines_are(SOURCE, SCENARIOS)
    assert sorted(TRUTH["scenarios"]) == sorted(SCENARIOS)
    assert TRUTH["versions"]["pipecat-ai"] == "1.14.0"
    sc = TRUTH["scenarios"]
    assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["finish_reasons"],
            sc["tool_use"]["finish_reasons"]) == (17920, 192, ["stop", "length"], ["tool_calls", "stop"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], expected(scenario)
    assert_totals(got, want)
    assert got["scopes"] == {"pipecat"}
    assert got["providers"] == {"openai"}  # a failed call names its provider too
    # the request model as asked (param.model), for every call; no served model on any span
    assert got["models"] == [m[0] for m in want["models"]]
    assert got["served"] == [None] * len(want["models"])
    assert got["finish_reasons"] == want["finish_reasons"] == []


def test_request_model_is_the_settings_not_the_last_answers() -> None:
    """gen_ai.request.model is the service's ``_full_model_name`` once a response set it (service_decorators.py
    _get_model_name; base_llm.py set_full_model_name from ``chunk.model``): the served, dated model of the service's
    previous call, never this call's. The request's model is ``param.model``."""
    for scenario, tree in trees(SOURCE):
        llm = sorted((e for e in tree.spans if e.view.name == "llm"), key=lambda e: int(e.view.start_time_unix_nano))
        for e in llm:
            assert e.call is not None and e.call.request_model == e.attrs["param.model"], scenario
        if scenario in ("healthy", "cached", "tool_use"):  # one service, several calls
            assert llm[0].attrs["gen_ai.request.model"] == llm[0].attrs["param.model"]
            assert all(e.attrs["gen_ai.request.model"] != e.attrs["param.model"] for e in llm[1:]), scenario
            assert {e.attrs["gen_ai.request.model"] for e in llm[1:]} <= {m[1] for m in TRUTH["scenarios"][scenario]["models"]}


def test_streams_cache_and_reasoning(results: dict[str, Any]) -> None:
    """Every call streamed (the OpenAI service always does, with include_usage); the cache reads and reasoning
    per call as the fake sent them."""
    for sc in SCENARIOS:
        assert results[sc]["streamed"] == [True] * (TRUTH["scenarios"][sc]["calls"] - TRUTH["scenarios"][sc]["failed"])
    assert [e.call.cache_read_tokens for e in counted(SOURCE, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
    assert [e.call.reasoning_tokens for e in counted(SOURCE, "tool_use")] == [128, 64]  # type: ignore[union-attr]
    assert [e.call.max_tokens for e in counted(SOURCE, "streaming")] == [256, 64]  # type: ignore[union-attr]
    assert [e.call.temperature for e in counted(SOURCE, "duplicate")] == [0.0, 0.0]  # type: ignore[union-attr]


def test_errors_are_failed_calls() -> None:
    """The 429 and the 500: two failed llm spans (status ERROR, an exception event), no usage; the error type only
    in the status message (gap: no error.type)."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert [(e.call.provider, e.call.request_model, e.call.error_type) for e in failed] == [  # type: ignore[union-attr]
        ("openai", "gpt-4o-mini", None)] * 2
    assert [e.span.status.message.split(":")[0] for e in failed] == ["RateLimitError", "InternalServerError"]
    assert all(any(ev.name == "exception" for ev in e.span.events) for e in failed)


def test_nothing_counted_twice_and_turns_are_no_calls() -> None:
    """One counted span per answered call; conversation and turn spans read as workflow and agent, never calls,
    each llm span under a turn under a conversation under the app's root."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        truth = TRUTH["scenarios"][scenario]
        assert len(calls) == truth["calls"] - truth["failed"], scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth["calls"], scenario
        assert all(e.view.name == "llm" and e.call.response_id is None for e in inference)  # type: ignore[union-attr]
        by_id = {e.span_id: e for e in tree.spans}
        for e in inference:
            turn = by_id[e.parent_id]
            conv = by_id[turn.parent_id]
            assert (turn.view.name, conv.view.name, by_id[conv.parent_id].view.name) == (
                "turn", "conversation", "workflow")
        for e in tree.spans:
            assert e.view.name == "workflow" or e.scope.name == SCOPES[e.view.name]
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
                assert not e.call.counted and not e.call.has_usage
    assert kinds == {"workflow": {"other"}, "conversation": {"workflow"}, "turn": {"agent"}}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conversation_ids(scenario: str) -> None:
    """The conversation id of each conversation and turn span is the worker's conversation_id; the llm spans have
    none of their own (gap)."""
    (tree,) = [t for sc, t in trees(SOURCE) if sc == scenario]
    convs = sorted((e for e in tree.spans if e.view.name == "conversation"), key=lambda e: int(e.view.start_time_unix_nano))
    assert [e.call.conversation_id for e in convs] == CONVERSATIONS[scenario]  # type: ignore[union-attr]
    by_id = {e.span_id: e for e in tree.spans}
    turns = [e for e in tree.spans if e.view.name == "turn"]
    assert len(turns) == TURNS[scenario]
    for t in turns:
        assert t.call is not None and t.call.conversation_id == by_id[t.parent_id].call.conversation_id  # type: ignore[union-attr]
    assert all(e.call is not None and e.call.conversation_id is None for e in tree.spans if e.view.name == "llm")


def test_prompts_tools_and_cost() -> None:
    """The request's messages (``input``, the history growing turn by turn) with the system instruction apart
    (gen_ai.system_instructions); the tools offered on every call; no requested tool on any call (gap), the tool
    call only in the next call's history; no cost on the spans, all computed from the tokens."""
    for scenario in SCENARIOS:
        for e in counted(SOURCE, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, scenario
            assert "ACME" in c.system_content and "ACME" not in c.input_content and "user" in c.input_content
            assert c.tool_definitions_digest is not None and not c.requested_tools, scenario
            assert c.cost_source == "computed" and c.cost_usd, scenario
    digests = {e.call.tool_definitions_digest for sc in SCENARIOS for e in counted(SOURCE, sc)}  # type: ignore[union-attr]
    assert len(digests) == 1  # the same ToolsSchema everywhere
    healthy = [e.call.input_content for e in counted(SOURCE, "healthy")]  # type: ignore[union-attr]
    assert healthy[0] is not None and healthy[1] is not None and healthy[1].startswith(healthy[0][:-1])
    first, second = (e.call for e in counted(SOURCE, "tool_use"))
    assert first is not None and second is not None and first.input_content is not None
    assert "get_order_status" not in first.input_content
    assert second.input_content is not None and "get_order_status" in second.input_content
    dup = [e.call.input_content for e in counted(SOURCE, "duplicate")]  # type: ignore[union-attr]
    assert dup[0] == dup[1]  # two conversations, the same request
