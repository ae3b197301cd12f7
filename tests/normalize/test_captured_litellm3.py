"""Real spans of LiteLLM beyond its default in-process logger (tests/normalize/data/litellm-{proxy,otel-latest,
otel-v2}-{openai,anthropic}.jsonl) read right, call for call.

Captured by tests/normalize/gen/litellm3/generate.py (litellm 1.110.2, versions in its requirements.txt): the
LiteLLM proxy (``litellm --config``, ``callbacks: ["otel"]``, OTLP/HTTP) called with the openai client, whose
call is a ``litellm_request`` span with a ``raw_gen_ai_request`` child under the proxy's ``Received Proxy Server
Request`` SERVER span (no LLM attributes there in 1.110.2) and FastAPI's ``POST /v1/chat/completions``; the same
proxy with ``LITELLM_OTEL_V2=true`` (``chat {model}`` CLIENT spans beside ``auth`` and ``route {model}`` under
FastAPI's SERVER span, and its ``fastapi.dependencies`` span with gen_ai.request.model, no call); the
in-process logger under ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` (one ``chat {model}``
CLIENT span) and under ``LITELLM_OTEL_V2=true`` (one ``chat {model}`` span with canonical gen_ai.*, legacy
gen_ai.usage.prompt_tokens / completion_tokens and ``litellm.cost.*``: one value per field, never a sum). Each
over a fake OpenAI and a fake Anthropic API, whose answers are the truth (litellm3-truth.json): OpenAI's
``prompt_tokens`` includes ``cached_tokens``; Anthropic's ``input_tokens`` leaves cache reads and writes out,
the semantic conventions' input includes them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "litellm3-truth.json").read_text())
MODES = ["proxy", "proxy-v2", "otel-latest", "otel-v2"]
PROVIDERS = ["openai", "anthropic"]
SOURCES = [f"litellm-{m}-{p}" for m in MODES for p in PROVIDERS]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
TRUNCATION = {"length", "max_tokens"}

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # LiteLLM's OTel v2 span writes input, output, cache read and cache creation tokens only (litellm 1.110.2
    # integrations/otel/mappers/genai.py: GenAI.USAGE_INPUT_TOKENS ... USAGE_CACHE_READ_INPUT_TOKENS; no
    # reasoning key, nor in mappers/legacy.py or openinference.py): LLMUsage.reasoning_tokens (model/payloads.py)
    # reaches the Langfuse mapper only. o3-mini's 128 + 32 reasoning tokens are inside the output, unseen apart
    ("litellm-otel-v2-openai", "tool_use", "reasoning"): 0,
    ("litellm-proxy-v2-openai", "tool_use", "reasoning"): 0,
}


def provider_of(source: str) -> str:
    return source.rsplit("-", 1)[1]


def truth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[provider_of(source)]["scenarios"][scenario]  # type: ignore[no-any-return]


def want(source: str, scenario: str) -> dict[str, int]:
    t = truth(source, scenario)
    if provider_of(source) == "openai":
        w = {"input": t["input"], "cache_read": t["cache_read"], "cache_write": 0, "output": t["output"],
             "reasoning": t["reasoning"]}
    else:
        w = {"input": t["uncached_input"] + t["cache_read"] + t["cache_write"], "cache_read": t["cache_read"],
             "cache_write": t["cache_write"], "output": t["output"], "reasoning": 0}
    return {k: GAPS.get((source, scenario, k), v) for k, v in w.items()}


def test_data_files_are_there() -> None:
    for p in PROVIDERS:
        assert sorted(TRUTH[p]["scenarios"]) == sorted(SCENARIOS)
        assert TRUTH[p]["sources"] == sorted(s for s in SOURCES if provider_of(s) == p)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output", "reasoning"))
    assert got == want(source, scenario)
    for e in calls:
        c = e.call
        assert c is not None and c.provider == provider_of(source) and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
        assert c.cost_source == "reported" and c.cost_usd is not None and c.cost_usd > 0
    assert [e.call.request_model for e in calls] == [m for m, _ in t["models"]]  # type: ignore[union-attr]
    # the response model: the served (dated) one, except where LiteLLM's span has the request's name instead:
    # every proxy call (the proxy answers with the model group the client asked for: litellm.model_group) and
    # every streamed call (the model of LiteLLM's rebuilt stream response)
    served = [s if not (source.startswith("litellm-proxy") or scenario == "streaming") else m
              for m, s in t["models"]]
    assert [e.call.response_model for e in calls] == served  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app (no retries in the SDK, LiteLLM or the proxy's router): two failed calls
    without usage, although LiteLLM's v2 span writes the failure's usage as zeros (see dialects.py
    litellm_failure_zeros)."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == truth(source, "errors")["failed"] == 2
    model = "gpt-4o-mini" if provider_of(source) == "openai" else "claude-haiku-4-5"
    assert [(e.call.provider, e.call.request_model) for e in failed] == [(provider_of(source), model)] * 2  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    """One counted span per call: the proxy's SERVER spans, FastAPI's and the raw_gen_ai_request child are not
    calls of their own; the root's totals are the counted calls'."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)) == len(calls), scenario
        assert {e.view.name for e in calls} <= ({"litellm_request"} if source.startswith("litellm-proxy-")
                                                and "-v2-" not in source else
                                                {f"chat {m}" for m, _ in truth(source, scenario)["models"]})
        if "proxy" in source:  # the proxy's trace joined the app's through the traceparent header
            assert any(e.view.name == "POST /v1/chat/completions" and e.view.kind == 2 for e in tree.spans)
            assert not any(e.call is not None and e.call.counted for e in tree.spans if e.view.kind == 2)


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streaming(source: str) -> None:
    """LiteLLM answers in OpenAI's shape whatever the provider: Anthropic's max_tokens reads ``length``."""
    for scenario in SCENARIOS:
        t = truth(source, scenario)
        reasons = t.get("finish_reasons") or t["stop_reasons"]
        got = [e.call.finish_reasons for e in counted(source, scenario)]  # type: ignore[union-attr]
        assert [any(r in TRUNCATION for r in rs) for rs in got] == [r in TRUNCATION for r in reasons]
        assert all(rs for rs in got), (scenario, got)
    assert [e.call.streaming for e in counted(source, "streaming")] == [True, True]  # type: ignore[union-attr]
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate")  # type: ignore[union-attr]
                   for e in counted(source, sc))


def test_scenario_totals_are_what_the_generator_chose() -> None:
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
