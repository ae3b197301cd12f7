"""Real spans of vector database calls in a RAG flow (tests/normalize/data/{chroma,qdrant}-*.jsonl) read right.

Captured by tests/normalize/gen/vdb/generate.py (versions in its requirements.txt and in vdb-truth.json): the app
embeds its question with the OpenAI client, queries the vector store (chromadb's EphemeralClient ``add`` /
``query``, qdrant-client's ``QdrantClient(":memory:")`` ``upsert`` / ``query_points``) and asks the chat model with
the retrieved text, under OpenLIT (its chroma, qdrant and openai instrumentations) and OpenLLMetry
(opentelemetry-instrumentation-chromadb / -qdrant beside opentelemetry-instrumentation-openai), against the embed
generator's fake OpenAI API. The fake server's answers are the truth. The vector store's spans are no model call:

* OpenLIT 1.45.0 (instrumentation/chroma/utils.py, instrumentation/qdrant/utils.py) writes ``gen_ai.operation.name``
  = ``vectordb`` (SemanticConvention.GEN_AI_OPERATION_TYPE_VECTORDB), ``db.system.name`` and ``db.operation.name``,
  no model, no usage, and ``server.address`` localhost (its default for an in-process client);
* opentelemetry-instrumentation-chromadb / -qdrant 0.62.4 write ``db.system`` (``chroma`` / ``Qdrant``) and
  their own ``db.chroma.*`` / ``qdrant.*`` keys, no gen_ai key at all; chroma's query results as
  ``db.query.result`` events (the retrieved documents' text).

They must count nothing and leave the count of the embeddings and chat calls beside them as it is.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.config.build import build
from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
from otel_tokenwatch.pipeline.enrich.factory import FACTORY
from otel_tokenwatch.pipeline.processor import ProcessorContext
from otel_tokenwatch.pipeline.tree import encode_spans
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import trees_of
from tests.normalize.captured import (
    DATA,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    token_sums,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "vdb-truth.json").read_text())
SOURCES = ["chroma-openlit", "chroma-openllmetry", "qdrant-openlit", "qdrant-openllmetry"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
EMBED = "text-embedding-3-small"
#: the vector stores' instrumentation scopes
STORE_SCOPES = {"chroma-openlit": "openlit.instrumentation.chroma",
                "chroma-openllmetry": "opentelemetry.instrumentation.chromadb",
                "qdrant-openlit": "openlit.instrumentation.qdrant",
                "qdrant-openllmetry": "opentelemetry.instrumentation.qdrant"}

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic writes input, output and the cache counts of
    # a Chat Completions answer but no reasoning count (``scope._reasoning_tokens`` is set by process_response_chunk
    # / process_response_response, the Responses API, only): o4-mini's reasoning tokens are within its output alone
    **{(s, "tool_use", "reasoning"): 0 for s in ("chroma-openlit", "qdrant-openlit")},
}
#: finish reasons a library renames: opentelemetry-instrumentation-openai 0.62.4 shared/__init__.py
#: OPENAI_FINISH_REASON_MAP writes the semantic conventions' ``tool_call`` for OpenAI's ``tool_calls``
FINISH = {s: {"tool_calls": "tool_call"} for s in ("chroma-openllmetry", "qdrant-openllmetry")}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario)


def test_data_files_are_there() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)
        assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS)
        assert TRUTH[source]["scenarios"] == TRUTH[SOURCES[0]]["scenarios"]  # every source saw the same answers


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_calls_and_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    assert token_sums(calls) == {k: t[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning")}
    # in call order, each of its model and kind: the embeddings calls and the chat calls, no vector store span
    assert [(e.call.request_model, e.call.kind) for e in calls] == [  # type: ignore[union-attr]
        (m, "embeddings" if m == EMBED else "inference") for m, _ in t["models"]]
    assert [e.call.response_model for e in calls] == [s for _, s in t["models"]]  # type: ignore[union-attr]
    assert {e.call.provider for e in calls} == {"openai"}  # type: ignore[union-attr]
    assert sum(e.call.kind == "embeddings" for e in calls) == t["embeddings"]  # type: ignore[union-attr]
    chat_finish = [r for e in calls if e.call.kind == "inference" for r in e.call.finish_reasons]  # type: ignore[union-attr]
    assert chat_finish == [FINISH.get(source, {}).get(r, r) for r in t["finish_reasons"]]


@pytest.mark.parametrize("source", SOURCES)
def test_vector_store_spans_are_no_model_call(source: str) -> None:
    """Every trace has its store's spans (an add or upsert in healthy, a query per retrieval), none of them read as a
    model call: no Call of kind inference or embeddings, nothing counted, no usage, no provider or model."""
    seen = 0
    for scenario, tree in trees(source):
        store = [e for e in tree.spans if e.scope.name == STORE_SCOPES[source]]
        assert len(store) >= TRUTH[source]["scenarios"][scenario]["queries"] + (scenario == "healthy"), scenario
        for e in store:
            c = e.call
            assert c is None or (c.kind not in ("inference", "embeddings") and not c.counted and not c.has_usage
                                 and c.provider is None and c.request_model is None), (scenario, e.view.name)
        seen += len(store)
    assert seen >= 8, source


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_two_failed_chat_calls(source: str) -> None:
    """A 429 and a 500 on the chat call (max_retries=0), after a successful embedding and query: two failed calls,
    none counted, none with usage, each with its provider and request model; no other scenario has one."""
    failed = failed_in_errors(source, SCENARIOS)
    assert [(e.call.provider, e.call.request_model) for e in failed] == [("openai", "gpt-4o-mini")] * 2  # type: ignore[union-attr]
    assert TRUTH[source]["scenarios"]["errors"]["failed"] == 2


@pytest.mark.parametrize("source", SOURCES)
def test_each_call_counted_once_and_streams_flagged(source: str) -> None:
    """No counted call below another, the roots carry the trace's totals, every chat answer is one response, and
    exactly the streaming scenario's chat calls read as streams."""
    for scenario, tree in trees(source):
        chat = [e.call for e in counted_once(tree, ("input", "output", "cache_read", "cache_write"))
                if e.call is not None and e.call.kind == "inference"]
        assert len({c.response_id for c in chat if c.response_id}) == len(chat), scenario
        assert [bool(c.streaming) for c in chat] == [scenario == "streaming"] * len(chat), scenario


#: the passages the app stores and retrieves (tests/normalize/gen/embed/generate.py PASSAGES): the RAG context
PASSAGES = [b"Refunds are processed within 5 business days", b"Orders ship from the Berlin warehouse",
            b"Support is available Monday to Friday"]


@pytest.mark.parametrize("source", SOURCES)
def test_drop_content_removes_the_stored_and_retrieved_documents(source: str) -> None:
    """The vector store's spans carry the documents (OpenLIT's db.query.text / db.query.summary of an add or
    upsert, OpenLLMetry's chroma db.query.result events; qdrant-openllmetry records counts only): with
    drop_content none survives, anywhere in the trace, and the store spans keep their operation and collection."""
    stage = FACTORY.create(build(EnrichConfig, {"privacy": {"drop_content": True}}, "processors.enrich"),
                           ProcessorContext(state=MemoryStore()))
    seen = 0
    for scenario, tree in trees_of(DATA / f"{source}.jsonl"):
        raw = encode_spans(tree.spans)
        seen += sum(raw.count(p) for p in PASSAGES)
        stage.process(tree)
        out = encode_spans(tree.spans)
        assert not any(p in out for p in PASSAGES), scenario
        for e in tree.spans:
            if e.scope.name == STORE_SCOPES[source]:
                assert e.get("db.system") or e.get("db.system.name"), e.view.name
    assert seen > 0, source
