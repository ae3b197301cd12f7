"""Real spans of the Azure AI Foundry Agents SDK's own tracing (azure-ai-agents 1.1.0 ``AIAgentsInstrumentor``,
through azure-core-tracing-opentelemetry 1.0.0b13, ``AZURE_TRACING_GEN_AI_CONTENT_RECORDING_ENABLED=true``),
counted against the fake Agents service's truth (tests/normalize/gen/azagents/generate.py made the data file, nothing
sent beyond loopback; versions in its requirements.txt and in azagents-truth.json).

What the SDK writes (azure/ai/agents/telemetry/_ai_agents_instrumentor.py, _utils.py), every span with scope
``azure.core.tracing.ext.opentelemetry_span``, ``gen_ai.system`` "az.ai.agents" (read as azure.ai.openai: the runs use
the project's Azure OpenAI deployments), ``server.address`` the endpoint's scheme and host
(``https://acme-support.services.ai.azure.com``: get_server_address_from_arg), and one azure-core HTTP span under each:

* ``create_agent {name}`` (gen_ai.agent.name / id, the model, the instructions as a gen_ai.system.message event),
  ``create_thread``, ``create_message`` (the user's message as a gen_ai.user.message event), ``list_messages`` and
  ``list_run_steps`` (one span per listed item, each with its event), ``submit_tool_outputs`` (a gen_ai.tool.message
  event with the function's output): no model call among them.
* The run, as the client sees it: the service makes the model calls, the SDK only fetches the run. set_end_run writes
  ``gen_ai.thread.run.status``, ``gen_ai.thread.run.id``, ``gen_ai.response.model`` (run.model) and, once the run
  ended, its ``usage`` (prompt / completion tokens, summed over the run's model calls) as gen_ai.usage.input_tokens /
  output_tokens on every span whose call returns the run: ``start_thread_run`` (runs.create: queued, no usage),
  each ``get_thread_run`` poll, and ``process_thread_run`` (runs.stream, from the stream's last thread.run event).
  runs.create_and_process is traced as ``start_thread_run`` too (its qualname matches the ``RunsOperations.create``
  prefix first in _trace_sync_function, so the PROCESS_THREAD_RUN branch is never reached), a span over the inner
  create and polls that carries the run's usage as the last poll does.

So one run's usage is on two or three spans: the create_and_process span, the poll that saw the run end, any later
runs.get of it. The normalizer counts it once: the deepest span counts (the create_and_process span is a report of
its poll), and ``gen_ai.thread.run.id`` is read as the response id of these spans (dialects.AZ_AGENTS_RUN_ID), so a
later runs.get of the finished run (``healthy``) is a report of the counted poll. One count per run, not per model
call: a run's per-call counts are the run steps' ``usage``, which the SDK writes only into span events
(gen_ai.run_step.* events of list_run_steps, gen_ai.assistant.message events of a streamed run), never read as
usage. A run that failed (``last_error``: the span ERROR, ``error.type`` its code) is a failed call
(dialects.AZ_AGENTS_RUN_OPS), the create_and_process span over it not a second one. ``gen_ai.thread.id`` is the
conversation (AZ_AGENTS_THREAD_ID).

What the spans cannot carry (GAPS and the tests below): the number of model calls of a run of several (tool_use: a
tool_calls step and a message_creation step, read as one call with their summed usage); cache (the Agents API's
RunCompletionUsage has prompt, completion and total tokens only: the ``cached`` scenario reports none); a request
model (gen_ai.request.model only when the run overrides the agent's model; the agent's is on create_agent's span);
finish reasons (the run's status only: the cut stream is ``incomplete``, incomplete_details is not written); a stream
flag (runs.stream's span is process_thread_run, which create_thread_and_run's is too); the request's content on the
counted span (the user's message is on create_message's event, the answer on list_messages' or the stream span's
events); a tool span (the SDK's FunctionTool runs the function inside create_and_process with no span of its own).
SDK quirks seen: list_run_steps spans have thread and run ids swapped (_instrument_paged_wrappers.py calls
``start_span_function(server_address, thread_id, run_id)``, and start_list_run_steps_span takes ``run_id`` second);
a streamed run's span is ended twice (``Calling end() on an ended span.``); an incomplete message gets no event
(_add_message_event puts the MessageIncompleteDetails model into json.dumps: TypeError, swallowed by the stream's
event loop, so the cut stream's span has no answer and no step usage).
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

SOURCE = "azure-ai-agents"
TRUTH: dict[str, Any] = json.loads((DATA / "azagents-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = "azure.core.tracing.ext.opentelemetry_span"
MODEL = "gpt-4o-mini"
#: what the spans cannot carry, so no reader can count it: (source, scenario, field) -> value read. tool_use's run
#: made two model calls (a tool_calls step, then a message_creation step); its spans carry the run's summed usage only
GAPS: dict[tuple[str, str, str], Any] = {(SOURCE, "tool_use", "calls"): 1}


def expected(scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH["scenarios"][scenario], GAPS, SOURCE, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True)


def _attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in kvs}


def test_capture_and_its_truth() -> None:
    capture_lines_are(SOURCE, SCENARIOS)
    assert TRUTH["sources"] == [SOURCE]
    assert sorted(TRUTH["scenarios"]) == sorted(SCENARIOS)
    assert TRUTH["versions"]["azure-ai-agents"] == "1.1.0"
    sc = TRUTH["scenarios"]
    assert [r["status"] for s in SCENARIOS for r in sc[s]["runs"]] == [
        "completed", "completed", "completed", "completed", "completed", "incomplete", "completed", "failed", "failed",
        "completed", "completed"]
    assert sc["tool_use"]["steps"] == ["tool_calls", "message_creation"]
    assert sc["tool_use"]["runs"][0]["usage"] == [sc["tool_use"]["input"], sc["tool_use"]["output"]] == [835, 70]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_services_truth(results: dict[str, Any], scenario: str) -> None:
    """Every token the service billed is read, once per run; a run of two model calls reads as one."""
    got, want = results[scenario], expected(scenario)
    assert_totals(got, want)
    assert got["scopes"] == {SCOPE}
    assert got["providers"] == {"azure.ai.openai"}  # gen_ai.system az.ai.agents
    assert got["served"] == [m[1] for m in want["models"]][:got["calls"] - got["failed"]]
    assert got["models"] == [None] * (got["calls"] - got["failed"])  # no gen_ai.request.model on a run's spans
    assert got["finish_reasons"] == [] and set(got["streamed"]) <= {None}  # the SDK writes neither


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_count_per_run(scenario: str) -> None:
    """Each run counted once, on the poll (or stream span) that saw it end, its id the run's id; the
    create_and_process span over it and a later runs.get of the finished run are reports of it, not calls."""
    runs = TRUTH["scenarios"][scenario]["runs"]
    for sc, tree in trees(SOURCE):
        if sc != scenario:
            continue
        calls = counted_once(tree, ("input", "output"))
        ended = [r for r in runs if r["usage"] is not None]
        assert [(e.call.input_tokens, e.call.output_tokens) for e in calls] == [  # type: ignore[union-attr]
            tuple(r["usage"]) for r in ended]
        assert len({e.call.response_id for e in calls}) == len(calls)  # type: ignore[union-attr]
        assert all(e.call.response_id.startswith("run_") for e in calls)  # type: ignore[union-attr]
        assert {e.view.name for e in calls} == (set() if scenario == "errors" else {"process_thread_run"}
                                                if scenario == "streaming" else {"get_thread_run"})
        reports = [e for e in tree.spans if e.call is not None and e.call.has_usage and not e.call.counted]
        by_id = {e.span_id: e for e in calls}
        assert all(e.call.report_of in by_id for e in reports)  # type: ignore[union-attr]
        for e in reports:
            assert e.call.response_id == by_id[e.call.report_of].call.response_id  # type: ignore[union-attr,index]
        # healthy: create_and_process's span, and the app's runs.get of the finished run beside it
        names = sorted(e.view.name for e in reports)
        n_processed = {"healthy": 1, "cached": 2, "streaming": 0, "tool_use": 1, "errors": 0, "duplicate": 2}[scenario]
        assert names == sorted(["start_thread_run"] * n_processed + (["get_thread_run"] if scenario == "healthy" else []))


def test_per_step_usage_is_only_in_events() -> None:
    """The run steps' usage (the per-model-call counts) is written into the list_run_steps spans' events: it adds up
    to the run's usage and is never counted."""
    for sc, tree in trees(SOURCE):
        if sc != "tool_use":
            continue
        steps = [_attrs(ev.attributes) for e in tree.spans if e.view.name == "list_run_steps" for ev in e.span.events]
        assert sorted((s["gen_ai.usage.input_tokens"], s["gen_ai.usage.output_tokens"]) for s in steps) == [
            (380, 22), (455, 48)]
        assert all(e.call is None or not e.call.counted for e in tree.spans if e.view.name == "list_run_steps")
        # the SDK's quirk: the span's ids swapped (the events' are right)
        span = next(e for e in tree.spans if e.view.name == "list_run_steps")
        assert span.attrs["gen_ai.thread.id"].startswith("run_") and span.attrs["gen_ai.thread.run.id"].startswith(
            "thread_")
        assert all(s["gen_ai.thread.run.id"].startswith("run_") for s in steps)


def test_conversation_is_the_thread_and_cost_is_computed() -> None:
    for sc in SCENARIOS:
        if sc == "errors":
            continue
        calls = counted(SOURCE, sc)
        threads = {e.call.conversation_id for e in calls}  # type: ignore[union-attr]
        assert all(t.startswith("thread_") for t in threads), sc
        assert len(threads) == (2 if sc == "duplicate" else 1), sc  # duplicate asks on two new threads
        for e in calls:
            c = e.call
            assert c is not None and c.cost_source == "computed" and c.cost_usd and c.response_model == MODEL
            assert c.input_content is None and c.system_content is None  # content is on other spans' events
            assert c.agent_name is None  # only gen_ai.agent.id on a run's spans


def test_streaming_the_cut_run_keeps_its_limit_and_no_reason() -> None:
    calls = counted(SOURCE, "streaming")
    assert [e.call.max_tokens for e in calls] == [None, 64]  # type: ignore[union-attr]
    assert [e.attrs["gen_ai.thread.run.status"] for e in calls] == ["completed", "incomplete"]
    assert [e.call.finish_reasons for e in calls] == [(), ()]  # type: ignore[union-attr]
    # the answer is in the stream span's gen_ai.assistant.message event, with the step's usage; not the cut one's:
    # _add_message_event json.dumps the message's incomplete_details model (TypeError), and the stream's
    # _process_event swallows the handler's exception (models/_patch.py: ``except Exception``, logged at debug)
    events = [[_attrs(ev.attributes) for ev in e.span.events if ev.name == "gen_ai.assistant.message"] for e in calls]
    assert [[(x["gen_ai.usage.input_tokens"], x["gen_ai.usage.output_tokens"]) for x in evs] for evs in events] == [
        [(640, 48)], []]
    events = [x for evs in events for x in evs]
    assert "Your order A-1001 shipped" in events[0]["gen_ai.event.content"]


def test_failed_runs_are_failed_calls_once_each() -> None:
    """A run that failed (rate_limit_exceeded, then server_error): the poll that saw it is a failed call, with the
    run's error code; the create_and_process span over it (ERROR too, no usage) is no second call."""
    failed = failed_in_errors(SOURCE, SCENARIOS)
    assert [(e.view.name, e.call.error_type, e.call.provider) for e in failed] == [  # type: ignore[union-attr]
        ("get_thread_run", "rate_limit_exceeded", "azure.ai.openai"), ("get_thread_run", "server_error",
                                                                       "azure.ai.openai")]
    for sc, tree in trees(SOURCE):
        if sc == "errors":
            outer = [e for e in tree.spans if e.view.name == "start_thread_run" and e.view.status_code == 2]
            assert len(outer) == 2 and all(e.call is None or e.call.kind == "other" for e in outer)


def test_the_sdks_other_spans_are_no_calls() -> None:
    kinds: dict[str, set[str]] = {}
    for _, tree in trees(SOURCE):
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
    assert kinds.pop("create_agent support-agent") == {"agent"}
    assert set().union(*kinds.values()) == {"other"}, kinds
    assert {"create_thread", "create_message", "list_messages", "list_run_steps", "submit_tool_outputs", "POST",
            "GET"} <= set(kinds)
