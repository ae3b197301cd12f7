"""Real spans of two Langfuse integrations that ship OTLP to Langfuse themselves, read right, call for call
(tests/normalize/gen/lfint/generate.py made the data files: what each library sent to a fake Langfuse host's
``/api/public/otel/v1/traces``, nothing beyond loopback; versions in its requirements.txt and in lfint-truth.json).

* ``litellm-langfuse-otel-{openai,anthropic}``: litellm 1.110.2 ``litellm.callbacks = ["langfuse_otel"]``
  (integrations/langfuse/langfuse_otel.py LangfuseOtelLogger, the legacy OpenTelemetry logger on a private
  TracerProvider) over ``litellm.completion`` to a fake OpenAI and a fake Anthropic API, LiteLLM's answer in
  OpenAI's shape whatever the provider. One ``litellm_request`` span per call (scope ``litellm``) under the app's
  span, written by LiteLLM's OpenInference-style mapper (integrations/arize/_utils.py set_attributes:
  ``openinference.span.kind`` LLM, ``llm.token_count.*`` with cache and reasoning details, ``llm.cost.total``,
  ``llm.response.model`` / ``llm.response.id``, ``llm.is_streaming``) plus Langfuse's keys
  (``langfuse.observation.type`` generation, ``.input`` / ``.output``, ``.completion_start_time``, the caller's
  metadata as ``langfuse.trace.name`` / ``session.id`` / ``user.id`` / ``langfuse.trace.tags``); its child
  ``raw_gen_ai_request`` holds the provider's request and response fields as ``llm.{provider}.*``, no call.
* ``langfuse-haystack``: langfuse-haystack 8.0.0's ``LangfuseConnector`` (haystack_integrations/tracing/langfuse/
  tracer.py) in haystack-ai 3.4.1 Pipelines over ``OpenAIChatGenerator`` against a fake OpenAI API, the Langfuse
  SDK 5.2.0 exporting: per pipeline run a root span named after the connector (``support-bot``), the connector's own
  ``tracer`` span and the generator's ``llm`` generation (``langfuse.observation.usage_details`` with only
  input_tokens / output_tokens / total_tokens, ``langfuse.observation.model.name`` the served model); the tool
  turn is one ``Agent`` run (``haystack.agent.run`` > ``agent step N`` > ``llm`` and ``tool - get_order_status``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import trees_of
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "lfint-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
LITELLM = ["litellm-langfuse-otel-openai", "litellm-langfuse-otel-anthropic"]
HAYSTACK = "langfuse-haystack"
SOURCES = [*LITELLM, HAYSTACK]
FAMILY = {"litellm-langfuse-otel-openai": "openai", "litellm-langfuse-otel-anthropic": "anthropic",
          HAYSTACK: "haystack"}

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # langfuse-haystack 8.0.0 tracer.py _sanitize_usage_data keeps input_tokens / output_tokens / total_tokens of
    # the reply meta's usage and drops the rest: OpenAI's prompt_tokens_details.cached_tokens (8960 + 8960) and
    # completion_tokens_details.reasoning_tokens (128) are inside the input and output, unseen apart. (The whole
    # usage is in the pipeline root span's langfuse.observation.output, the pipeline's output data as JSON: no call)
    (HAYSTACK, "cached", "cache_read"): 0,
    (HAYSTACK, "tool_use", "reasoning"): 0,
}
#: the finish reasons of every source's calls are unread: LiteLLM's mapper writes none (litellm 1.110.2
#: integrations/arize/_utils.py set_attributes: model, usage, cost, messages, tools; langfuse_otel.py
#: _observation_output keeps the message, not finish_reason; only a non-streamed call's raw_gen_ai_request child
#: holds it, in ``llm.openai.choices`` as ``str()`` of Python dicts or as ``llm.anthropic.stop_reason``; a streamed
#: call's child has no attribute at all (opentelemetry.py set_raw_request_attributes), so the cut stream has none),
#: and langfuse-haystack's generation update has usage, model, completion_start_time and model_parameters only
#: (tracer.py _update_generation_details; the reply meta's finish_reason again only in the pipeline's output)
NO_FINISH_REASONS = True


def truth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[FAMILY[source]]["scenarios"][scenario]  # type: ignore[no-any-return]


def want(source: str, scenario: str) -> dict[str, int]:
    t = truth(source, scenario)
    if FAMILY[source] == "anthropic":
        w = {"input": t["uncached_input"] + t["cache_read"] + t["cache_write"], "cache_read": t["cache_read"],
             "cache_write": t["cache_write"], "output": t["output"], "reasoning": 0}
    else:
        w = {"input": t["input"], "cache_read": t["cache_read"], "cache_write": 0, "output": t["output"],
             "reasoning": t["reasoning"]}
    return {k: GAPS.get((source, scenario, k), v) for k, v in w.items()}


def test_captures_and_their_truth() -> None:
    """Every source was captured for every scenario, and the fakes did send cache reads and writes, reasoning and
    a stream's usage."""
    assert sorted(TRUTH) == ["anthropic", "haystack", "openai"]
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)
        assert TRUTH[FAMILY[source]]["sources"] == [source]
        assert sorted(TRUTH[FAMILY[source]]["scenarios"]) == sorted(SCENARIOS)
    assert TRUTH["openai"]["versions"]["litellm"] == TRUTH["anthropic"]["versions"]["litellm"] == "1.110.2"
    assert TRUTH["haystack"]["versions"]["langfuse-haystack"] == "8.0.0"
    oa = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH["openai"]["scenarios"].items()}
    assert oa == {"healthy": (2, 0, 905, 0, 70, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 5296, 4096, 264, 0), "tool_use": (2, 0, 1290, 0, 215, 160),
                  "errors": (3, 2, 400, 0, 60, 0), "duplicate": (2, 0, 1800, 0, 160, 0)}
    an = {k: (v["calls"], v["failed"], v["uncached_input"], v["cache_read"], v["cache_write"], v["output"])
          for k, v in TRUTH["anthropic"]["scenarios"].items()}
    assert an == {"healthy": (2, 0, 2000, 0, 0, 240), "cached": (3, 0, 1060, 17920, 8960, 330),
                  "streaming": (2, 0, 1200, 4096, 0, 264), "tool_use": (2, 0, 1290, 0, 0, 115),
                  "errors": (3, 2, 400, 0, 0, 60), "duplicate": (2, 0, 1800, 0, 0, 160)}
    hs = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH["haystack"]["scenarios"].items()}
    assert hs == {"healthy": (2, 0, 2550, 0, 240, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0), "tool_use": (2, 0, 890, 0, 162, 128),
                  "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0)}
    assert TRUTH["haystack"]["scenarios"]["streaming"]["finish_reasons"] == ["stop", "length"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    assert token_sums(calls) == want(source, scenario)
    for e in calls:
        c = e.call
        assert c is not None and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)


@pytest.mark.parametrize("source", LITELLM)
def test_litellm_models_provider_and_reported_cost(source: str) -> None:
    """The provider is LiteLLM's ``llm.provider``; the request model ``llm.model_name``, the response's
    ``llm.response.model`` (the served, dated one, except on a stream: the model of LiteLLM's rebuilt stream
    response is the request's name, as tests/normalize/test_captured_litellm3.py finds); LiteLLM's own price as
    ``llm.cost.total``."""
    for scenario in SCENARIOS:
        t = truth(source, scenario)
        calls = counted(source, scenario)
        assert {e.call.provider for e in calls} == {FAMILY[source]}  # type: ignore[union-attr]
        assert [e.call.request_model for e in calls] == [m for m, _ in t["models"]]  # type: ignore[union-attr]
        assert [e.call.response_model for e in calls] == [  # type: ignore[union-attr]
            m if scenario == "streaming" else s for m, s in t["models"]]
        for e in calls:
            c = e.call
            assert c is not None and c.cost_source == "reported" and c.cost_usd is not None and c.cost_usd > 0
            assert c.conversation_id == f"session-{scenario}" and c.principal == "user-42"


def test_haystack_models_provider_and_computed_cost() -> None:
    """langfuse-haystack's generation names one model, the reply meta's (tracer.py _update_generation_details
    ``model=meta.get("model")``: the served, dated one), as ``langfuse.observation.model.name``, which Langfuse means
    as the generation's model: read as the request model, no response model. Nothing names the provider (no
    gen_ai.system, no ls_provider metadata; the generator's api_base_url is not recorded), nothing the cost
    (Langfuse prices server-side): computed from the tokens by the model's price, the cache unseen (GAPS)."""
    for scenario in SCENARIOS:
        t = truth(HAYSTACK, scenario)
        calls = counted(HAYSTACK, scenario)
        assert [(e.call.request_model, e.call.response_model, e.call.provider)  # type: ignore[union-attr]
                for e in calls] == [(s, None, None) for _, s in t["models"]]
        for e in calls:
            c = e.call
            assert c is not None and c.cost_source == "computed" and c.cost_usd and c.conversation_id is None


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_unread_and_the_stream_flag(source: str) -> None:
    """No finish reason on any span (NO_FINISH_REASONS), so the stream cut at max tokens is not seen as cut; the
    stream flag is read: LiteLLM's ``llm.is_streaming``, Langfuse's ``completion_start_time`` (haystack-ai sets it
    from a stream's first chunk only), also on the Agent's generations, which have no model parameters."""
    assert NO_FINISH_REASONS
    for scenario in SCENARIOS:
        calls = counted(source, scenario)
        assert [e.call.finish_reasons for e in calls] == [()] * len(calls)  # type: ignore[union-attr]
        assert not any(cut_by_finish_reason(e.call.finish_reasons) for e in calls)  # type: ignore[union-attr]
        assert [e.call.streaming for e in calls] == [scenario == "streaming"] * len(calls)  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app (no retries in the SDK, LiteLLM or Haystack): two failed model calls without
    usage; LiteLLM's span names the model, the provider and the error (error.type), langfuse-haystack's failed
    generation nothing but its messages and the exception event (the update with model and usage never came)."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == truth(source, "errors")["failed"] == 2
    got = [(e.call.provider, e.call.request_model, e.call.error_type) for e in failed]  # type: ignore[union-attr]
    if source == HAYSTACK:
        assert got == [(None, None, None)] * 2
    else:
        model = "gpt-4o-mini" if FAMILY[source] == "openai" else "claude-haiku-4-5"
        assert got == [(FAMILY[source], model, "RateLimitError"), (FAMILY[source], model, "InternalServerError")]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call: LiteLLM's ``litellm_request`` (with its response id), never its
    ``raw_gen_ai_request`` child; Haystack's ``llm`` generation, never the pipeline's root span (whose output holds
    the replies' usage again), the connector's ``tracer`` span or the Agent's; the tool span reads as a tool."""
    names: set[str] = set()
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        names |= {e.view.name for e in calls}
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth(source, scenario)["calls"], scenario  # failed ones included, each once
        if source != HAYSTACK:
            ids = [e.call.response_id for e in calls]  # type: ignore[union-attr]
            assert all(ids) and len(set(ids)) == len(ids), scenario
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
    if source == HAYSTACK:
        assert names == {"llm"}
        assert kinds == {"workflow": {"other"}, "support-bot": {"other"}, "tracer": {"other"}, "agent": {"other"},
                         "haystack.agent.run": {"agent"}, "agent step 0": {"workflow"},
                         "agent step 1": {"workflow"}, "tool - get_order_status": {"tool"}}
    else:
        assert names == {"litellm_request"}
        assert kinds == {"workflow": {"other"}, "raw_gen_ai_request": {"other"}, "tool.get_order_status": {"other"}}


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_and_requested_tools(source: str) -> None:
    """The request's messages (``langfuse.observation.input``: LiteLLM's ``kwargs["messages"]``, Haystack's
    messages in OpenAI's format): the system prompt apart, the user's question in the input; the tool the model
    asked for, from ``langfuse.observation.output`` (LiteLLM's ``function_call`` items, Haystack's OpenAI-format
    reply with ``tool_calls``)."""
    for scenario in SCENARIOS:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
        asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(source, scenario)]  # type: ignore[union-attr]
        assert asked == ([("get_order_status",), ()] if scenario == "tool_use" else [()] * len(asked)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_the_workflow_is_langfuses_trace_name(source: str) -> None:
    """``langfuse.trace.name`` names the workflow: LiteLLM's from the caller's ``trace_name`` metadata (the generator
    sent ``support-<scenario>``), langfuse-haystack's the connector's name on every span (propagate_attributes)."""
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    for scenario, tree in trees_of(Path(DATA) / f"{source}.jsonl"):
        chain.process_many([tree])
        root = tree.root()
        name = "support-bot" if source == HAYSTACK else f"support-{scenario}"
        assert (root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE)) == (name, "langfuse.trace.name")
