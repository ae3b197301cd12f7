"""Real spans from Python agent frameworks (AutoGen, smolagents, LangGraph) over the fake OpenAI Chat Completions
server, counted against its ground truth (tests/normalize/gen/py_agents2/generate.py made the data files;
versions in its requirements.txt and in py_agents2-truth.json).

* ``autogen-openai-v2``: autogen-agentchat 0.7.5 ``AssistantAgent`` over autogen-ext's ``OpenAIChatCompletionClient``;
  AutoGen's own spans (``create_agent`` / ``invoke_agent support`` / ``execute_tool get_order_status``,
  ``gen_ai.system=autogen``, autogen_core/_telemetry/_genai.py: no usage, no model) over the ``chat {model}``
  spans of OpenTelemetry contrib's opentelemetry-instrumentation-openai-v2 (latest experimental semconv).
* ``smolagents-openinference``: smolagents 1.26 ``ToolCallingAgent`` over ``OpenAIServerModel`` under
  openinference-instrumentation-smolagents: ``ToolCallingAgent.run`` (AGENT, with the agent monitor's totals),
  ``Step N`` (CHAIN), ``OpenAIModel.generate`` / ``generate_stream`` (LLM, the call), tool spans.
* ``langgraph-openinference``: langgraph's prebuilt ``create_react_agent`` over langchain-openai ``ChatOpenAI``
  under openinference-instrumentation-langchain: ``LangGraph`` > ``agent`` (AGENT) > ``ChatOpenAI`` (LLM).

OpenAI's ``prompt_tokens`` includes ``cached_tokens`` (the semantic conventions' input includes the cache);
``completion_tokens`` includes ``reasoning_tokens``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from tests.normalize.captured import assert_totals, capture_lines_are, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "py_agents2-truth.json").read_text())
SOURCES = ["autogen-openai-v2", "smolagents-openinference", "langgraph-openinference", "crewai-openllmetry",
           "crewai-openllmetry-litellm"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: the scope of each source's model-call spans (the only spans that count)
CALL_SCOPES = {"autogen-openai-v2": "opentelemetry.util.genai.handler",
               "smolagents-openinference": "openinference.instrumentation.smolagents",
               "langgraph-openinference": "openinference.instrumentation.langchain",
               "crewai-openllmetry": "opentelemetry.instrumentation.openai.v1",
               "crewai-openllmetry-litellm": "opentelemetry.instrumentation.crewai.instrumentation"}
CREWAI_SCOPE = "opentelemetry.instrumentation.crewai.instrumentation"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties (and ChatStreamWrapper.
    # set_usage) copies ``usage.prompt_tokens`` / ``completion_tokens`` only: no prompt_tokens_details.
    # cached_tokens, no completion_tokens_details.reasoning_tokens, although util-genai 1.1b0's InferenceInvocation
    # has cache_read_input_tokens for them
    ("autogen-openai-v2", "cached", "cache_read"): 0,
    ("autogen-openai-v2", "tool_use", "reasoning"): 0,
}
# smolagents 1.26 models.py OpenAIModel.generate / generate_stream keep ``TokenUsage(input_tokens=
# usage.prompt_tokens, output_tokens=usage.completion_tokens)`` and drop the rest of the response for the span
# (openinference-instrumentation-smolagents 0.1.43 _wrappers.py _finish_model_span: prompt / completion / total
# from ``output_message.token_usage``, output.value is ChatMessage.model_dump_json, which leaves out ``raw``):
# no cache read, no reasoning, no finish reason on any call
for _sc, _t in TRUTH["smolagents-openinference"]["scenarios"].items():
    GAPS.update({("smolagents-openinference", _sc, k): v
                 for k, v in (("cache_read", 0), ("reasoning", 0), ("finish_reasons", [])) if _t[k] != v})
# crewai-openllmetry-litellm: CrewAI on its LiteLLM route (``LLM(..., is_litellm=True)``); LiteLLM's own HTTP
# client, so no OpenAI span: the call is OpenLLMetry's ``{model}.llm`` span of ``crewai.llm.LLM.call``, whose usage
# and finish reason it never has: opentelemetry-instrumentation-crewai 0.62.4 instrumentation.py
# _set_response_attributes reads ``instance.last_token_usage``, which crewai 1.15 does not have (no such name in
# the package), and writes no finish reason. The usage is only on the agent spans, as the Agent's running total
# (see test_crewai_agent_spans_carry_running_totals_never_counted). And CrewAI's rate-limit retry is inside that
# span (crewai llms/base_llm.py __init_subclass__ wraps LLM.call in llms/retry.py run_with_rate_limit_retry): the
# 429 and the 500 of its retry are one failed span
for _sc, _t in TRUTH["crewai-openllmetry-litellm"]["scenarios"].items():
    _ok = _t["calls"] - _t["failed"]
    GAPS.update({("crewai-openllmetry-litellm", _sc, k): v for k, v in (
        ("input", 0), ("output", 0), ("cache_read", 0), ("reasoning", 0), ("finish_reasons", []),
        ("unread", _ok), ("calls", 1 if _sc == "errors" else _t["calls"]),
        ("failed", 1 if _sc == "errors" else _t["failed"])) if _t.get(k, 0) != v})
#: sources whose failed calls' spans name no model and no provider: _finish_model_span (the only place that sets
#: llm.model_name and llm.provider) runs after a successful call; a raised error ends the span with its status
FAILED_UNNAMED = {"smolagents-openinference"}
#: sources whose spans name the request model only: smolagents' llm.model_name is ``model.model_id``
#: (_finish_model_span), the response's model is not kept
NO_SERVED_MODEL = {"smolagents-openinference"}
#: ... and those whose response model is the request's (OpenLLMetry's CrewAI LLM span: ``str(instance.model)``)
SERVED_IS_REQUESTED = {"crewai-openllmetry-litellm"}
#: OpenLLMetry's OpenAI instrumentation writes the semantic conventions' ``tool_call`` for OpenAI's ``tool_calls``
FINISH_AS_SENT = {"tool_calls": "tool_call"}
FINISH_MAPPED = {"crewai-openllmetry"}


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, usage_on_error=True, failed_providers_apart=True, roots_carry_totals=True)
            for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        capture_lines_are(s, ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"])


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        t = TRUTH[s]["scenarios"][sc]
        assert {**t, "unread": t["usage_unsent"]}[k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert want["cache_write"] == 0, "cache write tokens (OpenAI reports none)"
    assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each call"
    if source in SERVED_IS_REQUESTED:
        assert got["served"] == got["models"]
    elif source in NO_SERVED_MODEL or (source, scenario) == ("langgraph-openinference", "streaming"):
        # openinference-instrumentation-langchain 0.1.80 _tracer.py _model_name: llm.model_name is the result's
        # llm_output model_name (the served model) when there is one, else the request's ls_model_name; a
        # streamed ChatOpenAI result has no llm_output model (langchain-openai keeps it in generation_info)
        assert got["served"] == [None] * len(want["models"])
    else:
        assert sorted(got["served"]) == sorted(s for _, s in want["models"]), "served model of each call"
    if source in FAILED_UNNAMED:
        assert got["failed_models"] == [None] * want["failed"]
        assert got["failed_providers"] <= {None}
    else:
        assert got["failed_models"] == ["gpt-4o-mini"] * want["failed"], "request model of each failed call"
        assert got["failed_providers"] <= {"openai"}
    assert got["providers"] <= {"openai"}, got["providers"]
    norm = FINISH_AS_SENT if source in FINISH_MAPPED else {}
    assert sorted(got["finish_reasons"]) == sorted(norm.get(f, f) for f in want["finish_reasons"]), "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """Agents, steps, graph nodes and tools never count, even where they carry usage; each call counts once."""
    for scenario, tree in trees(source):
        counted = [e for e in tree.spans if e.call is not None and e.call.counted]
        want = expected(source, scenario)
        assert len(counted) == want["calls"] - want["failed"] - want["unread"], scenario
        for e in counted:
            assert e.call is not None and e.call.kind == "inference", (scenario, e.view.name)
            assert e.scope.name == CALL_SCOPES[source], (scenario, e.scope.name)
        for e in tree.spans:
            if e.scope.name == "autogen-core":  # AutoGen's own agent and tool spans
                assert e.call is None or (not e.call.counted and e.call.kind in ("agent", "tool")), e.view.name
            if e.scope.name == CREWAI_SCOPE and not e.view.name.endswith(".llm"):  # crews, tasks, agents
                assert e.call is None or (not e.call.counted and e.call.kind == "agent"), e.view.name


def test_crewai_agent_spans_carry_running_totals_never_counted() -> None:
    """On CrewAI's LiteLLM route OpenLLMetry's agent span (one per task) carries the Agent's TokenProcess summary,
    the total of every call the agent made so far (opentelemetry-instrumentation-crewai 0.62.4 instrumentation.py
    wrap_agent_execute_task; crewai 1.15 agent/core.py TokenCalcHandler(self._token_process) on every call): the
    healthy crew's one agent doing two tasks reports 1200, then 2550 = both calls. Counted, they would make 3750;
    they are never counted, not even as the only usage in the trace (the calls are there, without usage)."""
    runs = []
    for scenario, tree in trees("crewai-openllmetry-litellm"):
        if scenario != "healthy":
            continue
        assert tree.root() is not None and tree.root().get(semconv.TRACE_INPUT_TOKENS) == 0  # type: ignore[union-attr]
        for e in sorted(tree.spans, key=lambda e: int(e.view.start_time_unix_nano)):
            if e.view.name.endswith(".agent"):
                assert e.call is not None and not e.call.counted and not e.call.has_usage
                runs.append(int(e.get("gen_ai.usage.input_tokens")))
    assert runs == [1200, TRUTH["crewai-openllmetry-litellm"]["scenarios"]["healthy"]["input"]] == [1200, 2550]


def test_smolagents_agent_spans_carry_cumulative_usage_never_counted() -> None:
    """openinference-instrumentation-smolagents 0.1.43 _RunWrapper sets the run span's llm.token_count.* to the
    agent monitor's totals (``agent.monitor.total_input_token_count``), which a ``run(..., reset=False)`` keeps
    adding to: the second run of the healthy conversation carries both calls' usage. Neither counts."""
    runs = []
    for scenario, tree in trees("smolagents-openinference"):
        if scenario != "healthy":
            continue
        for e in sorted(tree.spans, key=lambda e: int(e.view.start_time_unix_nano)):
            if e.view.name == "ToolCallingAgent.run":
                assert e.call is not None and e.call.kind == "agent" and not e.call.counted
                runs.append(e.get("llm.token_count.prompt"))
    t = TRUTH["smolagents-openinference"]["scenarios"]["healthy"]
    assert [int(r) for r in runs] == [1200, t["input"]] == [1200, 2550]


#: streamed as read. openai-v2 2.4b0 writes no stream flag (the InferenceInvocation's _request_stream is set by
#: util-genai's own stream wrapper only, stream.py; the instrumentation's ChatStreamWrapper never sets it), but
#: its ChatStreamWrapper.cleanup sets ``invocation.finish_reasons = self.finish_reasons``, a class-level empty list
#: never filled (the reason goes into the choice buffers, so only gen_ai.output.messages has it): that tells the
#: stream (dialects._Plan.output_finish / util_stream)
STREAMED = {"autogen-openai-v2": [True, True], "smolagents-openinference": [True, True],
            "langgraph-openinference": [True, True], "crewai-openllmetry": [True, True],
            # the crewai LLM span: request and response models, the operation, max_tokens; no stream flag
            # (opentelemetry-instrumentation-crewai 0.62.4 crewai_span_attributes.py _process_llm)
            "crewai-openllmetry-litellm": [None, None]}


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(source: str) -> None:
    seen: dict[str, list[tuple[int, bool | None, int | None]]] = defaultdict(list)
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and c.report_of is None and not c.error:
                seen[scenario].append((int(e.view.start_time_unix_nano), c.streaming, c.max_tokens))
    assert [s for _, s, _ in sorted(seen["streaming"])] == STREAMED[source]
    assert [m for _, _, m in sorted(seen["streaming"])] == [256, 64]
    assert all(s is not True for sc, v in seen.items() if sc != "streaming" for _, s, _ in v)


def test_smolagents_prompt_attributes_are_content() -> None:
    """The run span's task and a managed agent's prompts are prompt text (openinference-instrumentation-smolagents
    0.1.43 _wrappers.py _smolagent_run_attributes); its names, step limits and tool names are not."""
    from otel_tokenwatch.pipeline.enrich.privacy import is_content_key

    for key in ("smolagents.task", "smolagents.additional_args", "smolagents.managed_agents.0.description",
                "smolagents.managed_agents.1.additional_prompting", "smolagents.managed_agents.0.managed_agent_prompt"):
        assert is_content_key(key), key
    for key in ("smolagents.max_steps", "smolagents.tools_names", "smolagents.managed_agents.0.name",
                "smolagents.managed_agents.0.max_steps", "smolagents.managed_agents.0.tools_names"):
        assert not is_content_key(key), key
