"""Capture real spans of observability SDKs over LLM clients: MLflow's and Logfire's Anthropic instrumentations and
LangSmith's OpenTelemetry export of a LangChain ChatOpenAI run, against fake provider APIs.

Every model-call span in the output was emitted by a real library wrapping a real client, which talked HTTP to a
fake API on 127.0.0.1, imported, not copied: the Messages API server of ``../anthropic/generate.py``
(``AnthropicHandler``: usage with cache reads and writes, ``end_turn`` / ``max_tokens`` / ``tool_use`` stops, 429
and 500 with Anthropic's error JSON, SSE streams) and the Chat Completions server of ``../py_native/generate.py``
(``OpenAIHandler``: ``cached_tokens`` and ``reasoning_tokens``, stop / length / tool_calls, 429 and 500 with
OpenAI's error JSON, SSE with usage in the last chunk). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and, in ``tool_use``, the app's tool span
``tool.get_order_status`` (attributes ``app.*``).

Sources (one process each):

* ``mlflow-anthropic``    ``mlflow.anthropic.autolog()`` (mlflow-tracing), exported over OTLP/HTTP protobuf to a
                          sink on 127.0.0.1 (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; the sink is
                          ``../litellm_logfire_mlflow/generate.py``'s ``OTLPSink``), with
                          ``MLFLOW_USE_DEFAULT_TRACER_PROVIDER=false`` so that its spans nest under the app's root
* ``logfire-anthropic``   ``logfire.configure(send_to_logfire=False, console=False, additional_span_processors=[
                          SimpleSpanProcessor(InMemorySpanExporter())])`` and ``logfire.instrument_anthropic(client)``
* ``logfire-anthropic-6.0`` the same with logfire 6.0.0b8, the newest release (a pre-release of the next major)
* ``langsmith-langchain-openai`` langchain-openai ``ChatOpenAI(max_retries=0)`` traced by langsmith with
                          ``LANGSMITH_TRACING=true``, ``LANGSMITH_OTEL_ENABLED=true``, ``LANGSMITH_OTEL_ONLY=true``
                          (nothing to api.smith.langchain.com): its OTel exporter writes to the global TracerProvider

The anthropic SDK's own tracing (anthropic >= 2, ``anthropic/_tracing.py``) is switched off
(``ANTHROPIC_OPEN_TELEMETRY=false``) so that each library is seen alone.

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; versions in requirements.txt and,
per source, ``versions`` in the truth file)::

    cd tests/normalize/gen/py_obs
    sed -n '/^# \\[mlflow\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/mlflow.txt   # likewise [logfire], [langsmith]
    python3 -m venv /tmp/gen-obs-mlflow && /tmp/gen-obs-mlflow/bin/pip install -r /tmp/mlflow.txt
    G=$PWD/generate.py; cd /tmp   # from /tmp: langsmith writes the cwd's git revision as metadata.revision_id
    MLFLOW_TRACKING_URI=file:///tmp/mlruns /tmp/gen-obs-mlflow/bin/python $G mlflow-anthropic
    /tmp/gen-obs-logfire/bin/python $G logfire-anthropic
    /tmp/gen-obs-lf6/bin/python $G logfire-anthropic-6.0     # section [logfire-6.0]
    /tmp/gen-obs-lsmith/bin/python $G langsmith-langchain-openai

Versions: mlflow-tracing 3.17.2, logfire 5.4.0 (and 6.0.0b8 for ``logfire-anthropic-6.0``), anthropic 2.15.0
(its Messages.create takes no ``temperature``, so the Anthropic ``duplicate`` is the identical request without
one); langsmith 0.15.1, langchain-core 1.8.3,
langchain-openai 1.7.4, openai 3.57.0; opentelemetry-sdk 1.45.2 everywhere. What the spans cannot tell (MLflow:
streamed calls, served model, finish reasons; LangSmith: served model, finish reasons, stream flag; Logfire: two
spans per streamed call) is pinned in tests/normalize/test_captured_py_obs.py.

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/py_obs-truth.json``: per scenario ``calls`` (model calls answered,
failed included), ``failed``, ``unread`` (0), ``input`` (cache reads and writes included: the semantic
conventions' meaning; for Anthropic ``input_tokens + cache_read_input_tokens + cache_creation_input_tokens``),
``output`` (reasoning included), ``cache_read``, ``cache_write``, ``reasoning``, ``finish_reasons``, ``models``
([request model, served model]).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, hexify, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_obs-truth.json"
SOURCES = ("mlflow-anthropic", "logfire-anthropic", "langsmith-langchain-openai", "logfire-anthropic-6.0")


def _load(name: str, rel: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SYSTEM = "You are a support assistant for ACME. Answer briefly and only about ACME orders."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


# --------------------------------------------------------------------------------------------------------
# Anthropic (MLflow, Logfire)
# --------------------------------------------------------------------------------------------------------

def anthropic_truth(anth: Any) -> dict[str, Any]:
    """The Anthropic server's truth in the common form: input with the cache reads and writes in it."""
    out = {}
    for sc, t in anth.TRUTH_NOW.by_scenario.items():
        out[sc] = {"calls": t["calls"], "failed": t["failed"], "unread": 0,
                   "input": t["uncached_input"] + t["cache_read"] + t["cache_write"], "output": t["output"],
                   "cache_read": t["cache_read"], "cache_write": t["cache_write"], "reasoning": 0,
                   "finish_reasons": t["stop_reasons"], "models": t["models"]}
    return out


def run_anthropic(source: str) -> None:
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"  # the SDK's own spans off: the library alone
    anth = _load("anthropic_generate", "anthropic/generate.py")
    SCRIPT, usage = anth.SCRIPT, anth.usage
    common: dict[str, Any] = {"begin": anth.TRUTH_NOW.begin, "truth": lambda: anthropic_truth(anth), "here": HERE,
                              "settle": 0.2}
    packages: tuple[str, ...]
    if source.startswith("logfire-anthropic"):
        import logfire
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        spans = InMemorySpanExporter()
        logfire.configure(send_to_logfire=False, console=False, service_name="support-bot",
                          environment="fixture", additional_span_processors=[SimpleSpanProcessor(spans)],
                          metrics=False, inspect_arguments=False)
        rec = Recorder(source, TRUTH, tracer_provider=trace.get_tracer_provider(), spans=spans, **common)
        packages = ("logfire", "anthropic", "opentelemetry-sdk")
    else:
        llm = _load("llm_generate", "litellm_logfire_mlflow/generate.py")
        sink = serve(llm.OTLPSink)
        os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = f"http://127.0.0.1:{sink.server_address[1]}/v1/traces"
        os.environ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/protobuf"
        os.environ["MLFLOW_USE_DEFAULT_TRACER_PROVIDER"] = "false"

        def collect() -> dict[str, Any]:
            with llm.SCRIPT.lock:
                got, llm.OTLPSink.received[:] = list(llm.OTLPSink.received), []
            return hexify({"resourceSpans": [rs for req in got for rs in req.get("resourceSpans", [])]})  # type: ignore[no-any-return]

        rec = Recorder(source, TRUTH, collect=collect, **common)
        packages = ("mlflow-tracing", "anthropic", "opentelemetry-sdk")

    srv = serve(anth.AnthropicHandler)
    import anthropic
    from opentelemetry import trace

    client = anthropic.Anthropic(api_key="sk-ant-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}",
                                 max_retries=0)
    if source.startswith("logfire-anthropic"):
        import logfire

        logfire.instrument_anthropic(client)
    else:
        import mlflow

        mlflow.anthropic.autolog()
        from mlflow.tracing.provider import get_bridged_tracer_provider

        get_bridged_tracer_provider()  # MLflow's processors on the global provider before the first root starts

    HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-5"
    tools = [{"name": "get_order_status", "description": "Look up the shipping status of an order.",
              "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                               "required": ["order_id"]}}]

    # healthy: 2 calls, a question and its follow-up
    SCRIPT[:] = [{"usage": usage(1200, 150), "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                 {"usage": usage(1290, 90), "stop": "end_turn", "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "support-triage"):
        msgs: list[dict[str, Any]] = [{"role": "user", "content": Q1}]
        m = client.messages.create(model=HAIKU, max_tokens=200, system=SYSTEM, messages=msgs)
        msgs += [{"role": "assistant", "content": m.content[0].text}, {"role": "user", "content": Q2}]  # type: ignore[union-attr]
        client.messages.create(model=HAIKU, max_tokens=200, system=SYSTEM, messages=msgs)
    rec.flush("healthy")

    # cached: a big system prompt marked cache_control; the first call writes the cache, the later ones read it
    SCRIPT[:] = [{"usage": usage(340, 120, write=8960), "stop": "end_turn", "text": "Refunds take 5 days."},
                 {"usage": usage(300, 110, read=8960), "stop": "end_turn", "text": "Order A-1002 is packing."},
                 {"usage": usage(9400, 100, read=8960), "stop": "end_turn", "text": "Returns within 30 days."}]
    system_blocks = [{"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}]
    with rec.root("cached", "policy-qa"):
        history = "Order history: " + "A-1001 shipped 2025-01-02, delivered 2025-01-05; " * 700
        for q in (f"{Q1} When is my refund?", Q2, f"Can I return it?\n{history}"):
            client.messages.create(model=SONNET, max_tokens=300, system=system_blocks,
                                   messages=[{"role": "user", "content": q}])
    rec.flush("cached")

    # streaming: create(stream=True) ending end_turn, then messages.stream() cut at max_tokens with a cache read
    SCRIPT[:] = [{"usage": usage(500, 200), "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": usage(700, 64, read=4096), "stop": "max_tokens", "full_delta_usage": True,
                  "text": "Here is a detailed history of every shipment event recorded for your order so far"}]
    with rec.root("streaming", "order-updates"):
        for _ in client.messages.create(model=HAIKU, max_tokens=400, system=SYSTEM, stream=True,
                                        messages=[{"role": "user", "content": Q1}]):
            pass
        with client.messages.stream(model=SONNET, max_tokens=64, system=system_blocks,
                                    messages=[{"role": "user", "content": f"{Q2} List every shipment event."}]) as s:
            for _ in s.text_stream:
                pass
            s.get_final_message()
    rec.flush("streaming")

    # tool_use: the model asks for get_order_status, the app runs it, then the model answers
    SCRIPT[:] = [{"usage": usage(600, 45), "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": usage(690, 70), "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [{"role": "user", "content": Q1}]
        for iteration in range(1, 4):
            msg = client.messages.create(model=SONNET, max_tokens=512, system=SYSTEM, tools=tools,  # type: ignore[arg-type]
                                         messages=messages)
            if msg.stop_reason != "tool_use":
                break
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]})
            results = []
            for block in msg.content:
                if block.type != "tool_use":
                    continue
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": block.name, "app.tool.call_id": block.id,
                        "app.tool.arguments": json.dumps(block.input), "app.iteration": iteration}):
                    status = "shipped" if block.input.get("order_id") == "A-1001" else "packing"  # type: ignore[union-attr]
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": status})
            messages.append({"role": "user", "content": results})
    rec.flush("tool_use")

    # errors: 429 then 500 surfaced to the app (max_retries=0), the third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": usage(400, 60), "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                client.messages.create(model=HAIKU, max_tokens=128, system=SYSTEM,
                                       messages=[{"role": "user", "content": Q1}])
                break
            except (anthropic.RateLimitError, anthropic.InternalServerError) as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    # duplicate: the identical request twice in a row (anthropic 2.15's Messages.create takes no temperature)
    SCRIPT[:] = [{"usage": usage(900, 80), "stop": "end_turn", "text": "We are open 9-5, Monday to Friday."},
                 {"usage": usage(900, 80), "stop": "end_turn", "text": "We are open 9-5, Monday to Friday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            client.messages.create(model=HAIKU, max_tokens=100, system=SYSTEM,
                                   messages=[{"role": "user", "content": f"{Q1} And what are your opening hours?"}])
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions(*packages)})
    srv.shutdown()


# --------------------------------------------------------------------------------------------------------
# LangSmith's OTel export of LangChain ChatOpenAI
# --------------------------------------------------------------------------------------------------------

def run_langsmith(source: str) -> None:
    os.environ.update({"LANGSMITH_TRACING": "true", "LANGSMITH_OTEL_ENABLED": "true", "LANGSMITH_OTEL_ONLY": "true",
                       "LANGSMITH_API_KEY": "lsv2-fake", "LANGSMITH_ENDPOINT": "http://127.0.0.1:9",
                       "LANGSMITH_PROJECT": "support-bot"})
    native = _load("py_native_generate", "py_native/generate.py")
    SCRIPT, TRUTH_NOW, oa = native.SCRIPT, native.TRUTH_NOW, native.oa

    def truth() -> dict[str, Any]:
        return {sc: {"calls": t["calls"], "failed": t["failed"], "unread": t["usage_unsent"], "input": t["input"],
                     "output": t["output"], "cache_read": t["cache_read"], "cache_write": t["cache_write"],
                     "reasoning": t["reasoning"], "finish_reasons": t["finish_reasons"], "models": t["models"]}
                for sc, t in TRUTH_NOW.by_scenario.items()}

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, truth, HERE, settle=0.5)
    srv = serve(native.OpenAIHandler)
    import openai
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from opentelemetry import trace

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return ChatOpenAI(model=model, base_url=base, api_key="sk-fake", max_retries=0, stream_usage=True,  # type: ignore[arg-type]
                          **kw)

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    order_tool = {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}

    # healthy: short prompts, below OpenAI's 1024-token minimum for prompt caching, so the follow-up's repeated
    # context is no cacheable prefix
    SCRIPT[:] = [oa(420, 40, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                 oa(485, 30, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "support-triage"):
        msgs: list[Any] = [SystemMessage(SYSTEM), HumanMessage(Q1)]
        a = llm(max_tokens=200).invoke(msgs)
        llm(max_tokens=200).invoke([*msgs, a, HumanMessage(Q2)])
    rec.flush("healthy")

    SCRIPT[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                 oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                 oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            llm("gpt-4o", max_tokens=300).invoke([SystemMessage(BIG), HumanMessage(q)])
    rec.flush("cached")

    SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                 oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for _ in llm(max_tokens=400).stream([SystemMessage(SYSTEM), HumanMessage(Q1)]):
            pass
        for _ in llm(max_tokens=64).stream([SystemMessage(SYSTEM), HumanMessage(f"{Q2} List every shipment event.")]):
            pass
    rec.flush("streaming")

    SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[order_tool]),
                 oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        model = llm("o4-mini", max_completion_tokens=1024).bind_tools([get_order_status])
        msgs = [SystemMessage(SYSTEM), HumanMessage(Q1)]
        for iteration in range(1, 4):
            ai: AIMessage = model.invoke(msgs)
            msgs.append(ai)
            if not ai.tool_calls:
                break
            for tc in ai.tool_calls:
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc["name"], "app.tool.call_id": str(tc["id"]),
                        "app.tool.arguments": json.dumps(tc["args"]), "app.iteration": iteration}):
                    out = get_order_status.invoke(tc["args"])
                msgs.append(ToolMessage(out, tool_call_id=str(tc["id"])))
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 oa(400, 60, "stop", "Order A-1001 shipped on Monday.")]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                llm(max_tokens=128).invoke([SystemMessage(SYSTEM), HumanMessage(Q1)])
                break
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    SCRIPT[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                 oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            llm(max_tokens=100, temperature=0).invoke([SystemMessage(SYSTEM), HumanMessage(Q1)])
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions("langsmith", "langchain-core", "langchain-openai", "openai",
                                            "opentelemetry-sdk")})
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    if sys.argv[1] == "langsmith-langchain-openai":
        run_langsmith(sys.argv[1])
    else:
        run_anthropic(sys.argv[1])
