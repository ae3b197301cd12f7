"""Real spans of OpenAI embeddings calls beside chat calls (tests/normalize/data/embed-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/embed/generate.py (versions in its requirements.txt and in embed-truth.json):
``client.embeddings.create`` (text-embedding-3-small, one string and a list of strings) in a small RAG flow with
gpt-4o-mini chat calls, under OTel contrib's openai-v2, OpenInference's and OpenLLMetry's OpenAI instrumentations
and OpenLIT, each alone, against the py_native fake OpenAI API with ``/v1/embeddings``. The fake server's answers
are the truth: an embeddings call is a counted call of kind ``embeddings`` whose input is its ``prompt_tokens``
and whose output is 0 (genai-dialects.md: "Embeddings: output = 0").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, token_sums, trees, with_gaps

TRUTH: dict[str, Any] = json.loads((DATA / "embed-truth.json").read_text())
SOURCES = ["embed-openai-v2", "embed-openinference", "embed-openllmetry", "embed-openlit"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
EMBED, CHAT = "text-embedding-3-small", "gpt-4o-mini"

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties sets the chat invocation's
    # input_tokens / output_tokens from usage.prompt_tokens / completion_tokens only, never
    # cache_read_input_tokens (prompt_tokens_details.cached_tokens is read for the Responses API only,
    # response_extractors.py): its chat spans carry no cache read
    ("embed-openai-v2", "cached", "cache_read"): 0,
}

#: finish reasons a library renames: opentelemetry-instrumentation-openai 0.62.4 shared/__init__.py
#: OPENAI_FINISH_REASON_MAP writes the semantic conventions' ``tool_call`` for OpenAI's ``tool_calls``
FINISH = {"embed-openllmetry": {"tool_calls": "tool_call"}}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario)


def test_data_files_are_there() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)
        assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS)
        # every source saw the same answers
        assert TRUTH[source]["scenarios"] == TRUTH[SOURCES[0]]["scenarios"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_calls_and_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    got = token_sums(calls)
    assert got == {"input": t["input"], "cache_read": t["cache_read"], "cache_write": t["cache_write"],
                   "output": t["output"], "reasoning": t["reasoning"]}
    # in call order: the embeddings first (kind embeddings, output 0), then the chat calls
    assert [(e.call.request_model, e.call.kind) for e in calls] == [  # type: ignore[union-attr]
        (m, "embeddings" if m == EMBED else "inference") for m, _ in t["models"]]
    assert sum(e.call.kind == "embeddings" for e in calls) == t["embeddings"] - (scenario == "errors")  # type: ignore[union-attr]
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "openai"
        if c.kind == "embeddings":
            assert not c.output_tokens and not c.cache_read_tokens and not c.reasoning_tokens, e.view.name
            assert c.input_tokens and not c.finish_reasons, e.view.name
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0)
    chat_finish = [r for e in calls if e.call.kind == "inference" for r in e.call.finish_reasons]  # type: ignore[union-attr]
    assert chat_finish == [FINISH.get(source, {}).get(r, r) for r in t["finish_reasons"]]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_an_embeddings_call_and_a_chat_call_failed(source: str) -> None:
    """A 429 on the embeddings call, a 500 on the chat call (max_retries=0): two failed calls, none counted,
    neither with usage, each with its provider and request model; no other scenario has one."""
    for scenario, tree in trees(source):
        failed = [(e.call.kind, e.call.provider, e.call.request_model) for e in tree.spans  # type: ignore[union-attr]
                  if e.call is not None and e.call.error and e.call.report_of is None
                  and e.call.kind in ("inference", "embeddings")]
        assert all(not e.call.counted and not e.call.has_usage for e in tree.spans  # type: ignore[union-attr]
                   if e.call is not None and e.call.error)
        want = [("embeddings", "openai", EMBED), ("inference", "openai", CHAT)] if scenario == "errors" else []
        assert sorted(failed) == want, scenario
    assert TRUTH[source]["scenarios"]["errors"]["failed"] == 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_streams_are_streams(source: str) -> None:
    """OpenInference, OpenLLMetry and OpenLIT flag a streamed chat call; openai-v2 2.4b0 does not (its chat span
    has no stream attribute: patch.py traced_method starts the same ``create_chat_invocation(handler, kwargs, ...)``
    either way, ``is_streaming(kwargs)`` only picks ChatStreamWrapper for the answer), but its ChatStreamWrapper
    keeps ``finish_reasons: list = []`` (a class attribute never appended to; the chunks' finish_reason goes to
    choice_buffers, for the output messages only): a chat span whose reasons are in its output messages only is
    a stream (dialects._Plan.output_finish / util_stream)."""
    streamed = [e.call.streaming for e in counted(source, "streaming") if e.call.kind == "inference"]  # type: ignore[union-attr]
    assert streamed == [True, True]
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate")  # type: ignore[union-attr]
                   for e in counted(source, sc))


@pytest.mark.parametrize("source", SOURCES)
def test_embeddings_have_zero_output_and_it_is_written_back(source: str) -> None:
    """An embedding has no output tokens (genai-dialects.md section 6): the spans write input only, the Call reads
    output 0, and the current semconv key goes onto the span where it lacks it."""
    seen = 0
    for _, tree in trees(source):
        for e in tree.spans:
            if e.call is not None and e.call.kind == "embeddings" and e.call.input_tokens:
                seen += 1
                assert e.call.output_tokens == 0, e.view.name
                assert e.get("gen_ai.usage.output_tokens") == 0, e.view.name
    assert seen >= 3, source
