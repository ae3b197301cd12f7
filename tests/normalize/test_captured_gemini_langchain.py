"""Real spans from Google Gen AI SDK and LangChain instrumentations, read and counted against the fake
servers' ground truth (tests/normalize/gen/gemini_langchain/generate.py made every file in data/).

* Gemini: usageMetadata promptTokenCount includes cached content, candidatesTokenCount excludes thoughts;
  the normalized input includes cache (and tool-use prompt tokens), output includes thoughts.
* LangChain with a framework instrumentor and the OpenAI SDK instrumentor both active: one model call may
  be reported by two spans (OpenInference: a LangChain ``ChatOpenAI`` span and a sibling OpenAI
  ``ChatCompletion`` span); it must count once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.tree import Tree
from tests.enrich.trees import trees_of

DATA = Path(__file__).parent / "data"
TRUTH = json.loads((DATA / "gemini-langchain-truth.json").read_text())
GEMINI = ["otel-google-genai", "openinference-google-genai"]
LANGCHAIN = ["openinference-langchain", "openllmetry-langchain", "openllmetry-langchain-openai-v2"]
#: provider as normalized: OpenInference writes ``llm.provider = "google"`` for every google-genai call,
#: Gemini API and Vertex AI alike (openinference-instrumentation-google-genai 1.4.14
#: _request_attributes_extractor.py: ``OpenInferenceLLMProviderValues.GOOGLE``), so only semconv's
#: "any Google generative AI endpoint" is right for it; the OTel contrib instrumentation tells the two apart
#: (generate_content.py _get_is_vertexai: ``gemini`` / ``vertex_ai``)
PROVIDER = {"otel-google-genai": "gcp.gemini", "openinference-google-genai": "gcp.gen_ai",
            "openinference-langchain": "openai", "openllmetry-langchain": "openai",
            "openllmetry-langchain-openai-v2": "openai"}


def trees(source: str) -> list[tuple[str, Tree]]:
    return trees_of(DATA / f"{source}.jsonl")


def family(source: str) -> str:
    return "gemini" if source in GEMINI else "langchain"


def read_source(source: str) -> dict[str, dict[str, Any]]:
    """scenario -> what the normalize stage counted, and the roots' totals."""
    stage = NormalizeProcessor(NormalizeConfig())
    got: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "calls": 0, "failed": 0, "input": 0, "output": 0, "cache_read": 0, "reasoning": 0, "providers": set(),
        "models": [], "root_calls": 0, "root_input": 0, "root_output": 0, "traces": 0})
    for scenario, tree in trees(source):
        stage.process(tree)
        g = got[scenario]
        g["traces"] += 1
        prior_failed = g["failed"]
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and c.error and not c.has_usage and c.report_of is None:
                g["calls"] += 1  # failed calls carry no usage: each is one call, counted or not
                g["failed"] += 1
                g["providers"].add(c.provider)
            if c is None or not c.counted:
                continue
            g["calls"] += 1
            g["failed"] += int(c.error)
            g["input"] += c.input_tokens or 0
            g["output"] += c.output_tokens or 0
            g["cache_read"] += c.cache_read_tokens or 0
            g["reasoning"] += c.reasoning_tokens or 0
            g["providers"].add(c.provider)
            if not c.error:
                g["models"].append(c.response_model or c.request_model)
        root = tree.root()
        assert root is not None and root.view.name == "workflow"
        g["root_calls"] += root.get(semconv.TRACE_CALLS) + g["failed"] - prior_failed
        g["root_input"] += root.get(semconv.TRACE_INPUT_TOKENS)
        g["root_output"] += root.get(semconv.TRACE_OUTPUT_TOKENS)
    return got


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = dict(TRUTH[family(source)]["scenarios"][scenario])
    if source == "otel-google-genai":
        # the OTel contrib instrumentation reads prompt_token_count alone, never tool_use_prompt_token_count
        # (opentelemetry-instrumentation-google-genai 1.3b0 generate_content.py, _maybe_update_token_counts:
        # ``input_tokens = usage_metadata.prompt_token_count``) and writes no total: those tokens are lost
        t["input"] -= t["tool_use_prompt"]
    if source.startswith("openllmetry-langchain"):
        # Traceloop's LangChain handler copies input_token_details.cache_read/cache_creation from LangChain's
        # usage_metadata and nothing from output_token_details (opentelemetry-instrumentation-langchain 0.62.4
        # span_utils.py, set_chat_response_usage): reasoning tokens stay inside the output, unnamed; the OTel
        # contrib OpenAI span beside it records none either (opentelemetry-instrumentation-openai-v2 2.4b0)
        t["reasoning"] = 0
    return t


CASES = [(s, sc) for s in GEMINI + LANGCHAIN for sc in sorted(TRUTH[family(s)]["scenarios"])]


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: read_source(s) for s in GEMINI + LANGCHAIN}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in GEMINI + LANGCHAIN:
        assert s in TRUTH[family(s)]["sources"]
        assert set(results[s]) == set(TRUTH[family(s)]["scenarios"]), s


@pytest.mark.parametrize(("source", "scenario"), CASES)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert got["calls"] == want["calls"], "counted calls (each model call once)"
    assert got["failed"] == want["failed"], "failed calls"
    assert got["input"] == want["input"], "input tokens (cache included)"
    assert got["output"] == want["output"], "output tokens (thoughts / reasoning included)"
    assert got["cache_read"] == want["cache_read"], "cache read tokens"
    assert got["reasoning"] == want["reasoning"], "reasoning tokens"
    assert sorted(got["models"]) == sorted(want["models"]), "model of each successful call"
    assert got["providers"] <= {PROVIDER[source]}, got["providers"]
    # the roots carry the same totals
    assert (got["root_calls"], got["root_input"], got["root_output"]) == (want["calls"], want["input"], want["output"])


def test_sources_of_one_family_agree_where_both_report(results: dict[str, Any]) -> None:
    for fam in (GEMINI, LANGCHAIN):
        a = results[fam[0]]
        for other in fam[1:]:
            b = results[other]
            for scenario in a:
                for k in ("calls", "failed", "output", "cache_read"):
                    assert a[scenario][k] == b[scenario][k], (other, scenario, k)


def test_the_double_instrumented_call_is_reported_twice_and_counted_once() -> None:
    """OpenInference's LangChain and OpenAI instrumentors both report each call; the LangChain tracer
    never attaches its span to the context (openinference-instrumentation-langchain 0.1.80 _tracer.py:
    ``# token = context_api.attach(context)`` is commented out on purpose), so the OpenAI span is a sibling,
    not a child: the nesting rule alone cannot see the pair."""
    stage = NormalizeProcessor(NormalizeConfig())
    pairs = 0
    for scenario, tree in trees("openinference-langchain"):
        stage.process(tree)
        llm = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        lc = [e for e in llm if e.scope.name == "openinference.instrumentation.langchain"]
        oa = {e.span_id: e for e in llm if e.scope.name == "openinference.instrumentation.openai"}
        assert len(lc) == len(oa) > 0, scenario
        for e in lc:
            c = e.call
            assert c is not None and not c.counted and c.report_of in oa
            twin = oa[c.report_of].call
            assert twin is not None and twin.report_of is None and twin.error == c.error
            assert twin.counted == c.has_usage  # failed calls carry no usage on either span
            if c.has_usage:
                assert "duplicate of span" in str(e.get(semconv.USAGE_MISMATCH))
                assert (twin.input_tokens, twin.output_tokens) == (c.input_tokens, c.output_tokens)
            assert oa[c.report_of].parent_id != e.span_id  # not nested: the OpenAI span's parent is elsewhere
        pairs += len(lc)
    assert pairs == 8


def test_openllmetry_langchain_suppresses_the_openai_span() -> None:
    """Traceloop's LangChain handler sets SUPPRESS_LANGUAGE_MODEL_INSTRUMENTATION_KEY around the model call
    (opentelemetry-instrumentation-langchain 0.62.4 callback_handler.py) and its OpenAI wrapper honours it:
    one span per call, its ``ChatOpenAI.chat`` span."""
    for _, tree in trees("openllmetry-langchain"):
        assert not [e for e in tree.spans if e.scope.name.startswith("opentelemetry.instrumentation.openai")]


def test_gemini_thoughts_are_in_output_once() -> None:
    for source in GEMINI:
        stage = NormalizeProcessor(NormalizeConfig())
        for scenario, tree in trees(source):
            if scenario != "thinking":
                continue
            stage.process(tree)
            (c,) = [e.call for e in tree.spans if e.call is not None and e.call.counted]
            assert (c.input_tokens, c.output_tokens, c.reasoning_tokens) == (300, 2240, 2200), source


@pytest.mark.parametrize("source", GEMINI + LANGCHAIN)
def test_waste_is_scored_on_calls_not_on_their_reports(source: str) -> None:
    """The whole default chain: a call reported by two spans is neither its own duplicate nor two failures
    (before the twins were paired, OpenInference's healthy LangChain chain scored as 100% duplicate waste)."""
    from otel_tokenwatch.config import load
    from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
    from otel_tokenwatch.service import build_processors
    from otel_tokenwatch.state import MemoryStore

    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    for scenario, tree in trees(source):
        chain.process(tree)
        assert not tree.facts.get("failed_stages")
        reasons = sorted(str(e.added["tokenwatch.waste.reason"]) for e in tree.spans
                         if "tokenwatch.waste.reason" in e.added)
        want = {"errors": ["failed_call", "failed_call"], "duplicate": ["duplicate"]}.get(scenario, [])
        assert reasons == want, (scenario, reasons)


@pytest.mark.parametrize("source", GEMINI + LANGCHAIN)
def test_request_shape_streaming_and_max_tokens(source: str) -> None:
    """Streamed calls read as streamed (a cut stream is not truncation waste) and max tokens are read from
    whichever name the SDK used (google-genai ``max_output_tokens``, openai ``max_completion_tokens``)."""
    stage = NormalizeProcessor(NormalizeConfig())
    seen: dict[str, list[tuple[bool | None, int | None, tuple[str, ...]]]] = defaultdict(list)
    for scenario, tree in trees(source):
        stage.process(tree)
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                seen[scenario].append((c.streaming, c.max_tokens, c.finish_reasons))
    if source in GEMINI:
        assert [s for s, _, _ in seen["streaming"]] == [True, True]
        assert sorted(m or 0 for _, m, _ in seen["streaming"]) == [64, 256]
        assert [r[0].lower() for _, _, r in seen["streaming"]] == ["stop", "max_tokens"]
        assert sorted(m or 0 for _, m, _ in seen["healthy"]) == [16, 200]
        assert all(s is not True for sc in ("healthy", "cached", "duplicate") for s, _, _ in seen[sc])
    else:
        assert [m for _, m, _ in seen["healthy"]] == [200, 200]
        assert all(s is not True for v in seen.values() for s, _, _ in v)


@pytest.mark.parametrize("reverse", [False, True])
def test_traceloop_langchain_with_otel_openai_counts_once_whatever_the_span_order(reverse: bool) -> None:
    """Traceloop's LangChain span and the OTel contrib OpenAI span beside it (Traceloop's suppression flag is
    its own; openai-v2 does not read it) carry the same response id: one counts, and the cache reads only
    the LangChain span names are kept whichever of the two is first."""
    stage = NormalizeProcessor(NormalizeConfig())
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for scenario, tree in trees("openllmetry-langchain-openai-v2"):
        if reverse:
            tree.spans.reverse()
        stage.process(tree)
        llm = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(llm) == 2 * TRUTH["langchain"]["scenarios"][scenario]["calls"]
        assert len({e.scope.name for e in llm}) == 2
        reports = [e for e in llm if e.call is not None and e.call.report_of is not None]
        assert len(reports) == len(llm) // 2
        for e in llm:
            c = e.call
            assert c is not None
            if c.counted:
                r = got[scenario]
                r[0] += 1
                r[1] += c.input_tokens or 0
                r[2] += c.output_tokens or 0
                r[3] += c.cache_read_tokens or 0
    for scenario, t in TRUTH["langchain"]["scenarios"].items():
        ok = t["calls"] - t["failed"]
        assert got[scenario] == [ok, t["input"], t["output"], t["cache_read"]] or ok == 0, scenario
