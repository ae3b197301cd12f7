"""Real spans of OpenAI Agents SDK runs (tests/normalize/data/agents-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/agents_sdk/generate.py: ``agents.Agent`` + ``agents.Runner`` (openai-agents
0.24.0, a function tool, ``Runner.run_streamed``) against a fake OpenAI Responses API, observed by Arize's
openinference-instrumentation-openai-agents, Logfire's ``instrument_openai_agents()`` and Traceloop's
opentelemetry-instrumentation-openai-agents (versions in the generator's requirements*.txt). All three turn the
Agents SDK's own trace (trace -> agent -> turn/task -> response -> function) into nested spans: the response span
is the model call, and whatever the agent, task and turn spans say must never add to it. The fake server's
answers are the truth (agents_sdk-truth.json): the Responses API's ``input_tokens`` includes the cached ones and
``output_tokens`` the reasoning ones, as the semantic conventions mean them.

``agents-logfire-6.0`` is ``agents-logfire``'s run with logfire 6.0.0b8, the newest release (a pre-release of the
next major, requirements-logfire-6.0.txt). Its response spans keep input, output and ``gen_ai.usage.raw`` only
(llm_providers/usage.py get_usage_attributes: no cache keys; the cache read is the raw usage's
``input_tokens_details.cached_tokens``), and neither gen_ai.response.id nor gen_ai.response.finish_reasons
(openai_agents.py get_basic_response_attributes; 5.4 wrote both): the response id is the Agents SDK's own
``response_id`` (ResponseSpanData.export()), and no finish reason is written at all.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import DATA, _trees, capture_lines_are, counted, counted_once, failed_calls, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "agents_sdk-truth.json").read_text())["scenarios"]
SOURCES = ["agents-openinference", "agents-logfire", "agents-openllmetry", "agents-logfire-6.0"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: the model span each library makes for a Responses API call (ResponseSpanData)
MODEL_SPAN = {"agents-openinference": "response", "agents-logfire": "Responses API with {gen_ai.request.model!r}",
              "agents-openllmetry": "openai.response",
              "agents-logfire-6.0": "Responses API with {gen_ai.request.model!r}"}

#: the streamed call cut by max_output_tokens (the truth's ``incomplete`` status): openai-agents 0.24.0 raises
#: ModelBehaviorError for a stream ending ``response.incomplete`` and records usage and the Response on the
#: response span for ``response.completed`` only (agents/models/openai_responses.py stream_response;
#: record_model_error_on_span otherwise; run_internal/run_loop.py raises it to the app): in every source the cut
#: call is a failed call without usage, its tokens (430 in, 64 out, 40 of them reasoning) unseen
CUT = {"input": 430, "output": 64, "reasoning": 40, "cache_read": 0}

#: request model as each source can tell it, per successful call: OpenInference writes only
#: ``llm.model_name`` = ``Response.model``, the served name (openinference-instrumentation-openai-agents 2.6.0
#: _processor.py _get_attributes_from_response: ``yield LLM_MODEL_NAME, obj.model``); Traceloop sets
#: ``gen_ai.request.model`` from ``span_data.model``, which ResponseSpanData has not (0.62.4 _hooks.py
#: _start_generation_span), and only ``gen_ai.response.model`` from the Response
REQUEST_MODEL = {"agents-openinference": "served", "agents-logfire": "requested", "agents-openllmetry": None,
                 "agents-logfire-6.0": "requested"}
RESPONSE_MODEL = {"agents-openinference": None, "agents-logfire": "served", "agents-openllmetry": "served",
                  "agents-logfire-6.0": "served"}


def seen_truth(scenario: str) -> dict[str, Any]:
    """The truth less what no source can see (the streamed cut, CUT)."""
    t = TRUTH[scenario]
    calls = [(m, st) for m, st in zip(t["models"], t["statuses"], strict=True) if st == "completed"]
    got = {"calls": len(calls), "input": t["input"], "output": t["output"], "cache_read": t["cache_read"],
           "cache_write": t["cache_write"], "reasoning": t["reasoning"], "models": [m for m, _ in calls],
           "failed": t["failed"]}
    if "incomplete" in t["statuses"]:
        assert t["statuses"].count("incomplete") == 1
        for k, v in CUT.items():
            got[k] -= v
        got["failed"] += 1
    return got


def test_data_files_are_there() -> None:
    assert sorted(SCENARIOS) == sorted(TRUTH)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    want = seen_truth(scenario)
    calls = counted(source, scenario)
    assert len(calls) == want["calls"]
    got = {f: sum(getattr(e.call, f"{f}_tokens") or 0 for e in calls)
           for f in ("input", "output", "cache_read", "cache_write", "reasoning")}
    assert got == {f: want[f] for f in got}
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "openai" and c.kind == "inference" and not c.error
        assert e.view.name == MODEL_SPAN[source]
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
    served = {"gpt-4.1-mini": "gpt-4.1-mini-2025-04-14", "o4-mini": "o4-mini-2025-04-16"}
    pick = {"requested": lambda m: m[0], "served": lambda m: m[1], None: lambda m: None}
    assert [e.call.request_model for e in calls] == [  # type: ignore[union-attr]
        pick[REQUEST_MODEL[source]](m) for m in want["models"]]
    assert [e.call.response_model for e in calls] == [  # type: ignore[union-attr]
        pick[RESPONSE_MODEL[source]](m) for m in want["models"]]
    assert all(m[1] == served[m[0]] for m in want["models"])


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_agrees_call_for_call(source: str) -> None:
    for scenario in SCENARIOS:
        mine = [(c.input_tokens, c.output_tokens, c.cache_read_tokens or 0, c.reasoning_tokens or 0)
                for c in (e.call for e in counted(source, scenario)) if c is not None]
        ref = [(c.input_tokens, c.output_tokens, c.cache_read_tokens or 0, c.reasoning_tokens or 0)
               for c in (e.call for e in counted("agents-openllmetry", scenario)) if c is not None]
        assert mine == ref, (source, scenario)


@pytest.mark.parametrize("source", SOURCES)
def test_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced (max_retries=0, no retry settings): two failed calls; the streamed cut a third
    (CUT). Logfire's failed response spans keep only the request model (its message template names them)."""
    for scenario in SCENARIOS:
        failed = failed_calls(source, scenario)
        assert len(failed) == seen_truth(scenario)["failed"], scenario
        assert not any(e.call.counted or e.call.has_usage for e in failed)  # type: ignore[union-attr]
        assert all(e.view.name == MODEL_SPAN[source] and e.call.provider == "openai"  # type: ignore[union-attr]
                   for e in failed)
        want_model = {"errors": "gpt-4.1-mini", "streaming": "o4-mini"}.get(scenario)
        assert [e.call.request_model for e in failed] == [  # type: ignore[union-attr]
            want_model if source.startswith("agents-logfire") else None] * len(failed)
    assert len(failed_calls(source, "errors")) == TRUTH["errors"]["failed"] == 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_the_agent_adds_nothing(source: str) -> None:
    """Agent, task, turn and workflow spans above the response spans never count (Logfire's task and turn
    spans carry the run's aggregate ``usage`` JSON), and the root's totals are the calls' sums."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "cache_read"))
        assert all(e.call.kind == "inference" for e in calls)  # type: ignore[union-attr]
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        # OpenInference keeps the response id only inside output.value / llm.invocation_parameters
        assert len(ids) == (0 if source == "agents-openinference" else len(calls)), scenario
        agents = [e for e in tree.spans if e.call is not None and e.call.kind == "agent"]
        assert agents, scenario


@pytest.mark.parametrize("source", SOURCES)
def test_tool_use_and_finish_reasons(source: str) -> None:
    """The function tool runs once between the two model calls, as a tool span; each source names the tool turn
    its own way (OpenInference maps the Response's status ``completed`` to ``stop`` even for a function call,
    _processor.py _map_finish_reason); no counted call reads as truncated, and no source marks the streamed
    calls as streamed (none writes a stream flag for ResponseSpanData)."""
    tools = [e for sc, t in trees(source) if sc == "tool_use" for e in t.spans
             if e.call is not None and e.call.kind == "tool"]
    assert [(e.call.tool_name, e.call.agent_name) for e in tools] == [("get_order_status", None)]  # type: ignore[union-attr]
    agents = {e.call.agent_name for sc, t in trees(source) for e in t.spans  # type: ignore[union-attr]
              if e.call is not None and e.call.kind == "agent"}
    # OpenInference makes an AGENT span for the SDK's trace too (named by the workflow, no agent name)
    assert agents == ({"Support agent", None} if source == "agents-openinference" else {"Support agent"})
    first = {"agents-openinference": ("stop",), "agents-logfire": ("tool_calls",),
             "agents-openllmetry": ("tool_call",), "agents-logfire-6.0": ()}[source]
    last = () if source == "agents-logfire-6.0" else ("stop",)  # 6.0.0b8 writes no finish reason (see above)
    assert [e.call.finish_reasons for e in counted(source, "tool_use")] == [first, last]  # type: ignore[union-attr]
    for scenario in SCENARIOS:
        assert all(e.call.finish_reasons == last for e in counted(source, scenario)  # type: ignore[union-attr]
                   if scenario != "tool_use")
        assert not any(e.call.streaming for e in counted(source, scenario))  # type: ignore[union-attr]


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["cache_write"], v["output"], v["reasoning"])
          for k, v in TRUTH.items()}
    assert by == {"healthy": (2, 0, 890, 0, 0, 68, 0), "cached": (3, 0, 5630, 3584, 0, 119, 0),
                  "streaming": (2, 0, 830, 0, 0, 116, 40), "tool_use": (2, 0, 1370, 512, 0, 190, 128),
                  "errors": (3, 2, 415, 0, 0, 20, 0), "duplicate": (2, 0, 840, 0, 0, 76, 0)}
    assert TRUTH["streaming"]["statuses"] == ["completed", "incomplete"]
    assert sum(len(counted(s, sc)) for s in SOURCES for sc in SCENARIOS) == 4 * 11


def test_drop_content_keeps_the_parameters_and_drops_the_prompts() -> None:
    """OpenInference's invocation parameters are the Response's fields, the instructions among them: dropping
    content takes the instructions out and keeps the rest; Logfire's ``response`` / ``raw_input`` / ``events``
    go whole (privacy.py, the libraries' source cited there)."""
    from otel_tokenwatch.pipeline.enrich.privacy import drop_content

    oi = [e for _, t in _trees("agents-openinference") for e in t.spans if e.view.name == "response"
          and "llm.invocation_parameters" in e.attrs]
    assert oi and all("instructions" in json.loads(e.attrs["llm.invocation_parameters"]) for e in oi)
    for e in oi:
        drop_content(e)
        params = json.loads(next(kv.value.string_value for kv in e.span.attributes
                                 if kv.key == "llm.invocation_parameters"))
        assert "instructions" not in params and params["model"].startswith(("gpt-4.1-mini", "o4-mini"))
    lf = [e for _, t in _trees("agents-logfire") for e in t.spans if "raw_input" in e.attrs]
    assert lf
    for e in lf:
        drop_content(e)
        assert not {"response", "raw_input", "events"} & {kv.key for kv in e.span.attributes}
        assert any(kv.key == "gen_ai.usage.input_tokens" for kv in e.span.attributes)
