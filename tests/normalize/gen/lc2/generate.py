"""Capture real spans of LangChain's OpenAIEmbeddings in a small RAG flow, and of LiteLLM called directly.

Every model-call span was emitted by a real instrumentation wrapping the real libraries, which talked HTTP to the
embed generator's fake OpenAI API on 127.0.0.1 (``../embed/generate.py`` ``EmbedHandler``: the py_native fake Chat
Completions server with ``/v1/embeddings``, its ``SCRIPT`` and truth keeping, imported unchanged). The chat answers
are the shared chat script's (``../chat_script.py``). The only spans made here are the trace roots (``workflow``,
scope ``fixgen.app``, attribute ``app.workflow``) and the app's tool span.

Sources (one process each, no SDK retries, content capture on):

* ``langchain-embed-openinference``  langchain-openai's OpenAIEmbeddings (``check_embedding_ctx_length=False``: no
                                     tiktoken download) and ChatOpenAI under openinference-instrumentation-langchain
* ``langchain-embed-openllmetry``    the same under OpenLLMetry's opentelemetry-instrumentation-langchain with its
                                     opentelemetry-instrumentation-openai beside it (``TRACELOOP_TRACE_CONTENT=true``)
* ``litellm-openinference``          ``litellm.embedding``, ``completion``, ``acompletion`` and streamed ``completion``
                                     (``openai/<model>`` at the fake ``api_base``) under
                                     openinference-instrumentation-litellm

Versions: requirements.txt (and each source's entry in lc2-truth.json).

Scenarios (text-embedding-3-small for the embeddings, gpt-4o-mini for the chat): ``healthy`` (embed the question,
2 chat calls, the 2nd with the 1st's history, by ``ainvoke`` / ``acompletion``), ``cached`` (embed three passages, three chat calls over a big static
system prompt, the 2nd and 3rd with ``cached_tokens``), ``streaming`` (embed both questions, 2 streamed chat calls,
the 2nd cut at max_tokens), ``tool_use`` (embed, the model asks for get_order_status with reasoning tokens, the app
runs it, the model answers), ``errors`` (an embeddings call answered 429, a chat call answered 500, both surfaced),
``duplicate`` (embed once, the identical chat request twice at temperature 0).

Re-run (Python 3.11, a venv of its own, never the project's .venv)::

    python3 -m venv /tmp/lc2venv && /tmp/lc2venv/bin/pip install -r tests/normalize/gen/lc2/requirements.txt
    cd tests/normalize/gen/lc2
    for s in langchain-embed-openinference langchain-embed-openllmetry litellm-openinference; do
        /tmp/lc2venv/bin/python generate.py $s; done
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost map download at import
from capture import Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from embed.generate import CHAT, EMBED, PASSAGES, EmbedHandler, em
from py_native.generate import SCRIPT, TOOLS_OA, TRUTH_NOW, versions

TRUTH = HERE.parent.parent / "data" / "lc2-truth.json"


class LangChainApp:
    def __init__(self, base: str) -> None:
        from langchain_openai import ChatOpenAI, OpenAIEmbeddings

        kw: dict[str, Any] = {"api_key": "sk-fake", "base_url": base, "max_retries": 0}
        self.emb = OpenAIEmbeddings(model=EMBED, check_embedding_ctx_length=False, **kw)
        self.kw = kw
        self.ChatOpenAI = ChatOpenAI

    def embed(self, texts: str | list[str]) -> None:
        if isinstance(texts, str):
            self.emb.embed_query(texts)
        else:
            self.emb.embed_documents(texts)

    def chat(self, history: list[dict[str, Any]], tools: bool = False, asynchronous: bool = False,
             **kw: Any) -> dict[str, Any]:
        llm: Any = self.ChatOpenAI(model=CHAT, **self.kw, **kw)
        if tools:
            llm = llm.bind_tools(TOOLS_OA)
        msg = asyncio.run(llm.ainvoke(history)) if asynchronous else llm.invoke(history)
        calls = [{"id": tc["id"], "type": "function", "function": {"name": tc["name"],
                                                                    "arguments": json.dumps(tc["args"])}}
                 for tc in msg.tool_calls]
        return {"role": "assistant", "content": msg.content or "", **({"tool_calls": calls} if calls else {})}

    def stream(self, history: list[dict[str, Any]], max_tokens: int) -> None:
        llm = self.ChatOpenAI(model=CHAT, max_tokens=max_tokens, stream_usage=True, **self.kw)
        for _ in llm.stream(history):
            pass


class LiteLLMApp:
    def __init__(self, base: str) -> None:
        import litellm

        # litellm/llms/openai/openai.py OpenAIChatCompletion.embedding: ``max_retries = max_retries or
        # litellm.DEFAULT_MAX_RETRIES`` turns the caller's 0 into the default 2: the default is 0 here
        litellm.DEFAULT_MAX_RETRIES = 0
        self.litellm = litellm
        self.kw = {"api_key": "sk-fake", "api_base": base, "max_retries": 0, "num_retries": 0}

    def embed(self, texts: str | list[str]) -> None:
        self.litellm.embedding(model=f"openai/{EMBED}", input=texts if isinstance(texts, list) else [texts],
                               **self.kw)

    def chat(self, history: list[dict[str, Any]], tools: bool = False, asynchronous: bool = False,
             **kw: Any) -> dict[str, Any]:
        args = {"model": f"openai/{CHAT}", "messages": history, **self.kw, **kw,
                **({"tools": TOOLS_OA} if tools else {})}
        r = asyncio.run(self.litellm.acompletion(**args)) if asynchronous else self.litellm.completion(**args)
        m = r.choices[0].message
        calls = [{"id": tc.id, "type": "function", "function": {"name": tc.function.name,
                                                                 "arguments": tc.function.arguments}}
                 for tc in m.tool_calls or []]
        return {"role": "assistant", "content": m.content or "", **({"tool_calls": calls} if calls else {})}

    def stream(self, history: list[dict[str, Any]], max_tokens: int) -> None:
        for _ in self.litellm.completion(model=f"openai/{CHAT}", messages=history, max_tokens=max_tokens,
                                         stream=True, stream_options={"include_usage": True}, **self.kw):
            pass


def status_of(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)


def scenarios(rec: Recorder, app: Any) -> None:
    def msgs(q: str, system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": q}]

    SCRIPT[:] = [em(7), *HEALTHY]
    with rec.root("healthy", "order-status"):
        app.embed(Q1)
        answer = app.chat(msgs(Q1), max_tokens=200)
        app.chat([*msgs(Q1), answer, {"role": "user", "content": Q2}], max_tokens=200, asynchronous=True)
    rec.flush("healthy")

    SCRIPT[:] = [em(36), *CACHED]
    with rec.root("cached", "policy-qa"):
        app.embed(PASSAGES)
        for q in ("When is my refund?", Q1, Q2):
            app.chat(msgs(q, BIG), max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = [em(12), *STREAMING]
    with rec.root("streaming", "order-updates"):
        app.embed([Q1, Q2])
        app.stream(msgs(Q1), 256)
        app.stream(msgs(Q2), 64)
    rec.flush("streaming")

    SCRIPT[:] = [em(7), *TOOL_USE]
    with rec.root("tool_use", "order-agent"):
        app.embed(Q1)
        history: list[Any] = msgs(Q1)
        for iteration in range(1, 4):
            m = app.chat(history, tools=True)
            history.append(m)
            for tc in m.get("tool_calls", []):
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc["function"]["name"], "app.tool.call_id": tc["id"],
                        "app.tool.arguments": tc["function"]["arguments"], "app.iteration": iteration}):
                    out = get_order_status(**json.loads(tc["function"]["arguments"]))
                history.append({"role": "tool", "tool_call_id": tc["id"], "content": out})
            if not m.get("tool_calls"):
                break
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int | None] = []
    with rec.root("errors", "order-status"):
        try:
            app.embed(Q1)
        except Exception as exc:  # noqa: BLE001 - each library's own error class
            surfaced.append(status_of(exc))
        try:
            app.chat(msgs(Q1), max_tokens=200)
        except Exception as exc:  # noqa: BLE001
            surfaced.append(status_of(exc))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [em(7), *DUPLICATE]
    with rec.root("duplicate", "order-status"):
        app.embed(Q1)
        for _ in range(2):
            app.chat(msgs(Q1), max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


def instrument(source: str, rec: Recorder) -> tuple[str, ...]:
    """Turns the source's instrumentation on; the packages whose versions made the capture."""
    if source == "langchain-embed-openinference":
        from openinference.instrumentation.langchain import LangChainInstrumentor

        LangChainInstrumentor().instrument(tracer_provider=rec.tp)
        return ("langchain-core", "langchain-openai", "openai", "openinference-instrumentation-langchain")
    if source == "langchain-embed-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        LangchainInstrumentor().instrument(tracer_provider=rec.tp)
        OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
        return ("langchain-core", "langchain-openai", "openai", "opentelemetry-instrumentation-langchain",
                "opentelemetry-instrumentation-openai")
    from openinference.instrumentation.litellm import LiteLLMInstrumentor

    LiteLLMInstrumentor().instrument(tracer_provider=rec.tp)
    return ("litellm", "openai", "openinference-instrumentation-litellm")


SOURCES = ("langchain-embed-openinference", "langchain-embed-openllmetry", "litellm-openinference")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    recorder = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    packages = instrument(src, recorder)
    srv = serve(EmbedHandler)
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    scenarios(recorder, LiteLLMApp(url) if src.startswith("litellm") else LangChainApp(url))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    recorder.write(src, {"versions": versions("opentelemetry-sdk", *packages)})
