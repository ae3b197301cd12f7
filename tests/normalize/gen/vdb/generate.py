"""Capture real spans of vector database calls in a RAG flow: embed the question, query the store, ask the chat model.

Every span in the output was emitted by a real instrumentation: the vector store's (chromadb's ``EphemeralClient``
collection ``add`` / ``query``, or qdrant-client's ``QdrantClient(":memory:")`` ``upsert`` / ``query_points``) and
the OpenAI client's beside it, which talked HTTP to the embed generator's fake OpenAI API on 127.0.0.1
(``../embed/generate.py`` ``EmbedHandler``: the py_native Chat Completions server with ``/v1/embeddings``, its
``SCRIPT`` and truth keeping, imported unchanged). The chat answers are ``../chat_script.py``'s. The vectors are
passed to the store explicitly (chroma's default embedding function would download a model). The only spans made
here are the trace roots (``workflow``, scope ``fixgen.app``) and the app's tool span.

Sources (one process each, ``OpenAI(max_retries=0)``, content capture on):

* ``chroma-openlit``      openlit (its chromadb and openai instrumentations; ``capture_message_content=True``)
* ``chroma-openllmetry``  opentelemetry-instrumentation-chromadb + opentelemetry-instrumentation-openai
* ``qdrant-openlit``      openlit (its qdrant and openai instrumentations)
* ``qdrant-openllmetry``  opentelemetry-instrumentation-qdrant + opentelemetry-instrumentation-openai

Versions: requirements.txt (and each source's entry in vdb-truth.json): chromadb 1.5.9, qdrant-client 1.20.0;
openlit 1.45.0 with openai 2.54.0 (installed with ``--no-deps``: its declared dependencies do not resolve together,
as ../embed/requirements.txt says); opentelemetry-instrumentation-chromadb / -qdrant / -openai 0.62.4 with openai
3.57.0; opentelemetry-sdk 1.45.2 in both.

Scenarios (text-embedding-3-small for the question, gpt-4o-mini for the chat, o4-mini in tool_use): the vector
store spans are no model call and must count nothing; the calls are those of the embed truth:

* ``healthy``    the app adds three passages to the store, then per question: embed, query, chat (2 chat calls)
* ``cached``     embed, query, 3 chat calls over the big static system prompt (the 2nd and 3rd cached)
* ``streaming``  embed both questions, one query with both vectors, 2 streamed chats, the 2nd cut at max_tokens
* ``tool_use``   embed, query, the model asks for get_order_status, the app runs it, the model answers
* ``errors``     embed, query, a chat call answered 429 and one answered 500 (both surfaced: 2 failed calls)
* ``duplicate``  embed, query, then the identical chat request twice (temperature 0)

Re-run (Python 3.11, venvs of their own, never the project's .venv)::

    cd tests/normalize/gen/vdb
    sed -n '/^# \\[openlit\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/vdb-lit.txt   # likewise [openllmetry]
    python3 -m venv /tmp/vdb-lit && /tmp/vdb-lit/bin/pip install --no-deps -r /tmp/vdb-lit.txt
    python3 -m venv /tmp/vdb-llm && /tmp/vdb-llm/bin/pip install -r /tmp/vdb-llm.txt
    /tmp/vdb-lit/bin/python generate.py chroma-openlit; /tmp/vdb-lit/bin/python generate.py qdrant-openlit
    /tmp/vdb-llm/bin/python generate.py chroma-openllmetry; /tmp/vdb-llm/bin/python generate.py qdrant-openllmetry

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/vdb-truth.json``
(the embed truth's fields: per scenario calls, failed, tokens, finish reasons, models, embeddings) and
``queries``: the vector store queries the app made.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb's usage pings (the network reaches registries only)
from capture import Recorder, serve
from chat_script import CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from embed.generate import PASSAGES, EmbedHandler, em
from py_native.generate import BIG, SCRIPT, TOOLS_OA, TRUTH_NOW, versions

TRUTH = HERE.parent.parent / "data" / "vdb-truth.json"
EMBED, CHAT, REASONER = "text-embedding-3-small", "gpt-4o-mini", "o4-mini"
#: the passages' vectors (8 dimensions, as the fake server's embeddings)
VECTORS = [[round(0.01 * (i + 1) * (k + 1), 4) for k in range(8)] for i in range(len(PASSAGES))]


class Chroma:
    def __init__(self) -> None:
        import chromadb

        self.col = chromadb.EphemeralClient().get_or_create_collection("acme-policies")

    def add(self) -> None:
        self.col.add(ids=[f"p{i}" for i in range(len(PASSAGES))], embeddings=VECTORS, documents=PASSAGES)

    def query(self, vectors: list[list[float]]) -> list[str]:
        got = self.col.query(query_embeddings=vectors, n_results=2)
        return [d for docs in got["documents"] for d in docs]


class Qdrant:
    def __init__(self) -> None:
        from qdrant_client import QdrantClient, models

        self.m = models
        self.client = QdrantClient(":memory:")
        self.client.create_collection("acme-policies", vectors_config=models.VectorParams(
            size=8, distance=models.Distance.COSINE))

    def add(self) -> None:
        self.client.upsert("acme-policies", points=[self.m.PointStruct(id=i, vector=v, payload={"text": p})
                                                    for i, (v, p) in enumerate(zip(VECTORS, PASSAGES))])

    def query(self, vectors: list[list[float]]) -> list[str]:
        out: list[str] = []
        for v in vectors:
            res = self.client.query_points("acme-policies", query=v, limit=2, with_payload=True)
            out += [p.payload["text"] for p in res.points if p.payload]
        return out


def scenarios(rec: Recorder, client: Any, store: Any) -> None:
    import openai

    def script(steps: list[dict[str, Any]]) -> None:
        SCRIPT[:] = steps

    def retrieve(*qs: str) -> str:
        TRUTH_NOW.by_scenario[TRUTH_NOW.scenario]["queries"] = \
            TRUTH_NOW.by_scenario[TRUTH_NOW.scenario].get("queries", 0) + 1
        data = client.embeddings.create(model=EMBED, input=list(qs) if len(qs) > 1 else qs[0],
                                        encoding_format="float").data
        return "\n".join(store.query([d.embedding for d in data]))

    def msgs(q: str, context: str, system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": f"{system}\nCONTEXT:\n{context}"}, {"role": "user", "content": q}]

    def chat(q: str, context: str, **kw: Any) -> Any:
        return client.chat.completions.create(model=kw.pop("model", CHAT), messages=msgs(q, context), **kw)

    script([em(7), HEALTHY[0], em(7), HEALTHY[1]])
    with rec.root("healthy", "order-status"):
        store.add()
        for q in (Q1, Q2):
            chat(q, retrieve(q), max_tokens=200)
    rec.flush("healthy")

    script([em(7), *CACHED])
    with rec.root("cached", "policy-qa"):
        ctx = retrieve(Q1)
        for q in ("When is my refund?", Q1, Q2):
            client.chat.completions.create(model=CHAT, messages=msgs(q, ctx, BIG), max_tokens=300)
    rec.flush("cached")

    script([em(12), *STREAMING])
    with rec.root("streaming", "order-updates"):
        ctx = retrieve(Q1, Q2)
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in chat(q, ctx, max_tokens=mx, stream=True, stream_options={"include_usage": True}):
                pass
    rec.flush("streaming")

    script([em(7), *TOOL_USE])
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = msgs(Q1, retrieve(Q1))
        for iteration in range(1, 4):
            m = client.chat.completions.create(model=REASONER, messages=history, tools=TOOLS_OA).choices[0].message
            history.append(m.model_dump(exclude_none=True))
            for tc in m.tool_calls or []:
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc.function.name, "app.tool.call_id": tc.id,
                        "app.tool.arguments": tc.function.arguments, "app.iteration": iteration}):
                    out = get_order_status(**json.loads(tc.function.arguments))
                history.append({"role": "tool", "tool_call_id": tc.id, "content": out})
            if not m.tool_calls:
                break
    rec.flush("tool_use")

    script([em(7), *ERRORS])
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        ctx = retrieve(Q1)
        for _ in ERRORS:
            try:
                chat(Q1, ctx, max_tokens=200)
            except openai.APIStatusError as exc:
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    script([em(7), *DUPLICATE])
    with rec.root("duplicate", "order-status"):
        ctx = retrieve(Q1)
        for _ in DUPLICATE:
            chat(Q1, ctx, max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


def instrument(source: str, rec: Recorder) -> tuple[str, ...]:
    """Turns the source's instrumentations on; the packages whose versions made the capture."""
    store = "chromadb" if source.startswith("chroma") else "qdrant-client"
    if source.endswith("-openlit"):
        import openlit

        openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                     pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                     disable_events=True)
        return ("openlit", store)
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    if store == "chromadb":
        from opentelemetry.instrumentation.chromadb import ChromaInstrumentor

        ChromaInstrumentor().instrument(tracer_provider=rec.tp)
        return ("opentelemetry-instrumentation-openai", "opentelemetry-instrumentation-chromadb", store)
    from opentelemetry.instrumentation.qdrant import QdrantInstrumentor

    QdrantInstrumentor().instrument(tracer_provider=rec.tp)
    return ("opentelemetry-instrumentation-openai", "opentelemetry-instrumentation-qdrant", store)


SOURCES = ("chroma-openlit", "chroma-openllmetry", "qdrant-openlit", "qdrant-openllmetry")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    recorder = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    packages = instrument(src, recorder)
    vdb = Chroma() if src.startswith("chroma") else Qdrant()
    recorder.spans.clear()  # the store's set-up (collection creation) before any scenario: no trace of its own
    srv = serve(EmbedHandler)
    import openai

    scenarios(recorder, openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                                      max_retries=0), vdb)
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    recorder.write(src, {"versions": versions("openai", "opentelemetry-sdk", *packages)})
