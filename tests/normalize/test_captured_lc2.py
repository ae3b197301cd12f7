"""Real spans of LangChain's OpenAIEmbeddings in a RAG flow and of LiteLLM called directly
(tests/normalize/data/langchain-embed-*.jsonl, litellm-openinference.jsonl) read right, call for call.

Captured by tests/normalize/gen/lc2/generate.py (versions in its requirements.txt and in lc2-truth.json) against
the embed generator's fake OpenAI API: OpenAIEmbeddings + ChatOpenAI (langchain-openai 1.7.4) under
openinference-instrumentation-langchain 0.1.80 and under OpenLLMetry's opentelemetry-instrumentation-langchain 0.62.4
with its opentelemetry-instrumentation-openai beside it; ``litellm.embedding`` / ``completion`` / ``acompletion`` /
streamed ``completion`` (litellm 1.110.2) under openinference-instrumentation-litellm 0.1.51. The fake server's
answers are the truth: an embeddings call is a counted call of kind ``embeddings``, input its ``prompt_tokens``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, token_sums, trees, with_gaps

TRUTH: dict[str, Any] = json.loads((DATA / "lc2-truth.json").read_text())
SOURCES = ["langchain-embed-openinference", "langchain-embed-openllmetry", "litellm-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
EMBED, CHAT = "text-embedding-3-small", "gpt-4o-mini"
#: the embeddings call's prompt_tokens per scenario (the generator's em(...)); errors' embeddings call failed
EMBED_TOKENS = {"healthy": 7, "cached": 36, "streaming": 12, "tool_use": 7, "errors": 0, "duplicate": 7}

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # LangChain's Embeddings interface has no callbacks (langchain-core 1.8.3 embeddings/embeddings.py: no callback
    # manager, no run) and openinference-instrumentation-langchain 0.1.80 is a callback tracer (_tracer.py
    # OpenInferenceTracer(BaseTracer)): OpenAIEmbeddings' calls make no span at all, the failed one included
    **{("langchain-embed-openinference", sc, k): v for sc in SCENARIOS for k, v in (
        ("embeddings", 0), ("calls", TRUTH["langchain-embed-openinference"]["scenarios"][sc]["calls"] - 1),
        ("input", TRUTH["langchain-embed-openinference"]["scenarios"][sc]["input"] - EMBED_TOKENS[sc]))},
    ("langchain-embed-openinference", "errors", "failed"): 1,
    # opentelemetry-instrumentation-langchain 0.62.4 span_utils.py set_chat_response_usage reads usage_metadata's
    # input_tokens, output_tokens and input_token_details (cache_read, cache_creation), never output_token_details:
    # no reasoning on its chat spans (and its callback handler suppresses the OpenAI SDK span that would carry it)
    ("langchain-embed-openllmetry", "tool_use", "reasoning"): 0,
}
#: finish reasons a library renames: OpenLLMetry's langchain span writes the semantic conventions' ``tool_call``
FINISH = {"langchain-embed-openllmetry": {"tool_calls": "tool_call"}}
#: the streamed calls' flag as read: ChatOpenAI.stream() reports its run's invocation params, langchain-openai
#: 1.7.4 chat_models/base.py ``"stream": self.streaming`` (False: _stream sets ``stream=True`` for the request only),
#: which OpenInference writes into llm.invocation_parameters, but its output.value is the merged
#: ChatGenerationChunk (dialects._langchain_streamed); OpenLLMetry's langchain span writes no stream flag
STREAMED = {"langchain-embed-openinference": [True, True], "langchain-embed-openllmetry": [None, None],
            "litellm-openinference": [True, True]}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario)


@pytest.mark.parametrize("source", SOURCES)
def test_one_trace_per_scenario_and_one_truth(source: str) -> None:
    """Each capture holds the six scenarios in order; the fake server gave every source the same answers, with
    one embeddings call per scenario."""
    capture_lines_are(source, SCENARIOS)
    mine = TRUTH[source]["scenarios"]
    assert list(mine) == sorted(SCENARIOS) and mine == TRUTH[SOURCES[0]]["scenarios"]
    assert {sc: t["embeddings"] for sc, t in mine.items()} == dict.fromkeys(SCENARIOS, 1)


@pytest.mark.parametrize(("source", "scenario"), [(src, sc) for src in SOURCES for sc in SCENARIOS])
def test_tokens_kinds_and_models_as_the_fake_server_answered(source: str, scenario: str) -> None:
    t, calls = truth(source, scenario), counted(source, scenario)
    assert token_sums(calls) == {k: t[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning")}
    embeds = [e for e in calls if e.call.kind == "embeddings"]  # type: ignore[union-attr]
    assert len(embeds) == t["embeddings"] - (scenario == "errors" and t["embeddings"] > 0)
    models = [m for m, _ in t["models"] if m != EMBED or t["embeddings"]]
    assert [e.call.request_model for e in calls] == models  # type: ignore[union-attr]
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "openai", e.view.name
        assert c.kind == ("embeddings" if c.request_model == EMBED else "inference"), e.view.name
        if c.kind == "embeddings":
            assert c.input_tokens == EMBED_TOKENS[scenario] and c.output_tokens == 0 and not c.finish_reasons
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) and (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
    chat_finish = [r for e in calls if e.call.kind == "inference" for r in e.call.finish_reasons]  # type: ignore[union-attr]
    assert chat_finish == [FINISH.get(source, {}).get(r, r) for r in t["finish_reasons"] if r]


def _failed(tree: Any) -> list[tuple[str, str | None, str | None]]:
    """A trace's failed model calls (second reports aside) as (kind, provider, request model); none may count."""
    errs = [e.call for e in tree.spans if e.call is not None and e.call.error]
    assert not any(c.counted or c.has_usage for c in errs)
    return sorted((c.kind, c.provider, c.request_model) for c in errs
                  if c.report_of is None and c.kind in ("inference", "embeddings"))


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_the_failed_calls_seen(source: str) -> None:
    """The 429 on the embeddings call and the 500 on the chat call (no retries), where the spans show them:
    uncounted, without usage, with provider and request model; no other scenario fails."""
    seen = {scenario: _failed(tree) for scenario, tree in trees(source)}
    t = truth(source, "errors")
    chat_500 = [("inference", "openai", CHAT)]
    assert seen.pop("errors") == ([("embeddings", "openai", EMBED)] if t["embeddings"] else []) + chat_500
    assert len(chat_500) + bool(t["embeddings"]) == t["failed"]
    assert not any(seen.values()), seen


@pytest.mark.parametrize("source", SOURCES)
def test_each_call_once_under_the_root_totals(source: str) -> None:
    """OpenLLMetry's LangChain span over the OpenAI SDK: the chat call once (its callback handler suppresses the
    SDK span), the embeddings call once (the SDK span only: LangChain's Embeddings make no run)."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        t = truth(source, scenario)
        assert len(calls) == t["calls"] - t["failed"], scenario
        ids = [c.response_id for c in (e.call for e in calls) if c is not None and c.response_id]
        assert sorted(set(ids)) == sorted(ids), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_streams_as_their_spans_tell(source: str) -> None:
    streamed = [e.call.streaming for e in counted(source, "streaming") if e.call.kind == "inference"]  # type: ignore[union-attr]
    assert streamed == STREAMED[source]
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate")  # type: ignore[union-attr]
                   for e in counted(source, sc))


def test_a_langchain_stream_is_told_by_its_generation_type_not_by_words() -> None:
    """OpenInference's LangChain output.value: the streamed run's generation is a ChatGenerationChunk, an
    invoked one's a ChatGeneration; an answer that names the class is still not a stream."""
    from otel_tokenwatch.pipeline.normalize.dialects import _langchain_streamed

    def outputs(scenario: str) -> list[str]:
        return [e.attrs["output.value"] for e in counted("langchain-embed-openinference", scenario)
                if e.call is not None and e.call.kind == "inference"]

    streamed, invoked = outputs("streaming"), outputs("healthy")
    assert streamed and invoked
    assert all(_langchain_streamed(v) for v in streamed)
    assert not any(_langchain_streamed(v) for v in invoked)
    answer = json.loads(invoked[0])
    answer["generations"][0][0]["text"] = "ChatGenerationChunk"  # quoted in the JSON as the type is
    worded = json.dumps(answer)
    assert '"ChatGenerationChunk"' in worded and not _langchain_streamed(worded)
    assert not _langchain_streamed('{"generations": "ChatGenerationChunk"}') and not _langchain_streamed(None)
