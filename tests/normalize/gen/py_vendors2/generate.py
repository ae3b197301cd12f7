"""Capture real spans from OpenLIT's and OpenLLMetry's instrumentations of more SDKs and frameworks, against fakes.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client SDK,
which talked HTTP to a fake of the provider's own API on 127.0.0.1 started by this script. The only spans made
here are the trace roots (``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and, in ``tool_use``,
the app-level tool span ``tool.get_order_status`` (attributes ``app.*``): the app runs the tool itself.

The fake servers are the other generators' own, imported unchanged with their truth keeping: the OpenAI Chat
Completions fake of ``../py_native/generate.py`` (``OpenAIHandler``: usage with ``prompt_tokens_details.
cached_tokens`` and ``completion_tokens_details.reasoning_tokens``, the API's 429 / 500 error bodies, SSE with a
usage chunk when ``stream_options.include_usage``) and the Gemini API fake of ``../gemini_langchain/generate.py``
(``GeminiHandler``: ``generateContent`` / ``streamGenerateContent?alt=sse``, usageMetadata with
``cachedContentTokenCount`` and ``thoughtsTokenCount``, the API's RESOURCE_EXHAUSTED / INTERNAL errors).

Sources (one process each, so that instrumentations never meet):

* ``openlit-langchain-openai``  openlit 1.45.0 (``openlit.init(capture_message_content=True)``, its LangChain
                                and OpenAI instrumentations both on) over langchain-openai ``ChatOpenAI``
                                (``max_retries=0``, ``stream_usage=True``) and openai. OpenLIT's LangChain
                                callback sets ``set_framework_llm_active()`` (instrumentation/langchain/__init__.py
                                on_chat_model_start) and its OpenAI wrapper then passes through
                                (instrumentation/openai/openai.py ``if is_framework_llm_active(): return
                                wrapped(...)``): one span per call, ``chat gpt-4o-mini``, scope
                                ``openlit.instrumentation.langchain``
* ``openlit-google-genai``      openlit 1.45.0 over google-genai (its ``google_ai_studio`` instrumentation)
* ``openllmetry-google-genai``  opentelemetry-instrumentation-google-generativeai 0.62.4 over google-genai
* ``openllmetry-llamaindex``    opentelemetry-instrumentation-llamaindex 0.62.4 with
                                opentelemetry-instrumentation-openai 0.62.4 active too, over
                                llama-index-llms-openai ``OpenAI`` (``max_retries=0``)

OpenLLMetry sources run with ``TRACELOOP_TRACE_CONTENT=true``; OpenLIT prices from ``openlit_pricing.json``
beside this script (no network).

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv; openlit 1.45.0's full dependency set does not resolve, so its section is installed
``--no-deps``, as the anthropic generator's openlit env was)::

    cd tests/normalize/gen/py_vendors2
    sed -n '/^# \\[openlit\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ol.txt
    sed -n '/^# \\[openllmetry\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/tl.txt
    python3 -m venv /tmp/pv2_openlit && /tmp/pv2_openlit/bin/pip install --no-deps -r /tmp/ol.txt
    python3 -m venv /tmp/pv2_llm && /tmp/pv2_llm/bin/pip install -r /tmp/tl.txt
    /tmp/pv2_openlit/bin/python generate.py openlit-langchain-openai
    /tmp/pv2_openlit/bin/python generate.py openlit-google-genai
    /tmp/pv2_llm/bin/python generate.py openllmetry-google-genai
    /tmp/pv2_llm/bin/python generate.py openllmetry-llamaindex

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces rewritten
to /app/) and sets its entry in ``tests/normalize/data/py_vendors2-truth.json`` with the versions that made it:
per scenario ``calls`` (model calls answered, failed included), ``failed``, ``input`` (the API's input count,
cache included: OpenAI ``prompt_tokens``; Gemini ``promptTokenCount`` + ``toolUsePromptTokenCount``), ``output``
(reasoning included: OpenAI ``completion_tokens``; Gemini ``candidatesTokenCount`` + ``thoughtsTokenCount``),
``cache_read``, ``reasoning``, ``finish_reasons``, ``models`` (OpenAI: [request model, served model]; Gemini:
the model).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_vendors2-truth.json"

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
A1 = "Order A-1001 shipped yesterday and arrives Friday."


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def status_of(exc: BaseException) -> int:
    return int(getattr(exc, "status_code", None) or getattr(exc, "code", 0) or 0)


def openlit_init() -> None:
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE / "openlit_pricing.json"), disable_metrics=True, disable_events=True)


def tool_span(rec: Recorder, name: str, cid: str, args: dict[str, Any], iteration: int) -> str:
    with rec.app.start_as_current_span("tool.get_order_status", attributes={
            "app.tool.name": name, "app.tool.call_id": cid, "app.tool.arguments": json.dumps(args),
            "app.iteration": iteration}):
        return "shipped" if args.get("order_id") == "A-1001" else "packing"


# --------------------------------------------------------------------------------------------------------
# OpenAI Chat Completions under a framework (the py_native fake and truth)
# --------------------------------------------------------------------------------------------------------

def openai_scenarios(rec: Recorder, script: Any, oa: Any, chat: Any, stream: Any, tool_turn: Any,
                     errors: tuple[type, ...]) -> None:
    """``chat(turns, **kw)`` -> answer text; ``stream(turns, **kw)`` drains a stream; ``tool_turn(history)`` ->
    (the tool calls as (id, name, args), the history extended by the answer); turns are (role, text)."""
    script[:] = [oa(1200, 150, "stop", A1), oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        a1 = chat([("system", SYSTEM), ("user", Q1)], max_tokens=200)
        chat([("system", SYSTEM), ("user", Q1), ("assistant", a1), ("user", Q2)], max_tokens=200)
    rec.flush("healthy")

    script[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                 oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                 oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            chat([("system", BIG), ("user", q)], max_tokens=300)
    rec.flush("cached")

    script[:] = [oa(640, 48, "stop", A1),
                 oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream([("system", SYSTEM), ("user", q)], max_tokens=mx)
    rec.flush("streaming")

    script[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[{"function": {
                     "name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 12, "stop", "Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        history: Any = None
        for iteration in range(1, 4):
            calls, history = tool_turn(history)
            if not calls:
                break
            history = [*history, *(("tool", cid, name, tool_span(rec, name, cid, args, iteration))
                                   for cid, name, args in calls)]
    rec.flush("tool_use")

    script[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                chat([("system", SYSTEM), ("user", Q1)], max_tokens=200)
            except errors as exc:
                surfaced.append(status_of(exc))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    script[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                 oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            chat([("system", SYSTEM), ("user", Q1)], max_tokens=100, temperature=0.0)
    rec.flush("duplicate")
    assert not script, f"unused answers: {script}"


def run_langchain(source: str) -> None:
    from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    openlit_init()
    srv = serve(OpenAIHandler)
    import openai
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(**kw: Any) -> Any:
        return ChatOpenAI(model="gpt-4o-mini", api_key="sk-fake", base_url=base, max_retries=0, **kw)

    def lc(turns: list[tuple[str, str]]) -> list[Any]:
        cls = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [cls[r](content=t) for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        return str(llm(**kw).invoke(lc(turns)).content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in llm(stream_usage=True, **kw).stream(lc(turns)):
            pass

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    bound = llm(max_tokens=512).bind_tools([get_order_status])

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        msgs = lc([("system", SYSTEM), ("user", Q1)]) if history is None else [
            ToolMessage(content=h[3], tool_call_id=h[1], name=h[2]) if isinstance(h, tuple) else h for h in history]
        r = bound.invoke(msgs)
        return [(tc["id"], tc["name"], tc["args"]) for tc in r.tool_calls], [*msgs, r]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    srv.shutdown()
    rec.write(source, {"versions": versions("openlit", "langchain-openai", "langchain-core", "openai",
                                            "opentelemetry-sdk")})


def run_llamaindex(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from opentelemetry.instrumentation.llamaindex import LlamaIndexInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    LlamaIndexInstrumentor().instrument(tracer_provider=rec.tp)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import openai
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(**kw: Any) -> Any:
        return OpenAI(model="gpt-4o-mini", api_key="sk-fake", api_base=base, max_retries=0, **kw)

    def li(turns: list[tuple[str, str]]) -> list[Any]:
        return [ChatMessage(role=r, content=t) for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        return str(llm(**kw).chat(li(turns)).message.content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        # the usage chunk only when asked for (llama-index-llms-openai 0.8.3 base.py passes additional_kwargs on)
        for _ in llm(additional_kwargs={"stream_options": {"include_usage": True}}, **kw).stream_chat(li(turns)):
            pass

    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    tools = [FunctionTool.from_defaults(fn=get_order_status)]
    model = llm(max_tokens=512)

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        msgs = li([("system", SYSTEM), ("user", Q1)]) if history is None else [
            ChatMessage(role="tool", content=h[3], additional_kwargs={"tool_call_id": h[1], "name": h[2]})
            if isinstance(h, tuple) else h for h in history]
        r = model.chat_with_tools(tools, chat_history=msgs)
        calls = model.get_tool_calls_from_response(r, error_on_no_tool_call=False)
        return [(c.tool_id, c.tool_name, c.tool_kwargs) for c in calls], [*msgs, r.message]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    srv.shutdown()
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-llamaindex",
                                            "opentelemetry-instrumentation-openai", "llama-index-core",
                                            "llama-index-llms-openai", "openai", "opentelemetry-sdk")})


# --------------------------------------------------------------------------------------------------------
# Gemini API over google-genai (the gemini_langchain fake and truth)
# --------------------------------------------------------------------------------------------------------

def run_gemini(source: str) -> None:
    from gemini_langchain.generate import SCRIPT, TRUTH_NOW, GeminiHandler, gemini_usage

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    if source == "openlit-google-genai":
        openlit_init()
        libs: tuple[str, ...] = ("openlit",)
    else:
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.google_generativeai import GoogleGenerativeAiInstrumentor

        GoogleGenerativeAiInstrumentor().instrument(tracer_provider=rec.tp)
        libs = ("opentelemetry-instrumentation-google-generativeai",)
    srv = serve(GeminiHandler)
    from google import genai
    from google.genai import errors, types

    client = genai.Client(api_key="fake-key", http_options=types.HttpOptions(
        base_url=f"http://127.0.0.1:{srv.server_address[1]}", api_version="v1beta"))
    flash = "gemini-2.5-flash"

    def cfg(system: str = SYSTEM, **kw: Any) -> Any:
        return types.GenerateContentConfig(system_instruction=system, **kw)

    def turns(*ts: tuple[str, str]) -> list[Any]:
        return [types.Content(role="model" if r == "assistant" else "user", parts=[types.Part(text=t)]) for r, t in ts]

    SCRIPT[:] = [{"usage": gemini_usage(1200, 150), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(1350, 90, thoughts=64), "finish": "STOP",
                  "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "order-status"):
        r = client.models.generate_content(model=flash, contents=turns(("user", Q1)), config=cfg(max_output_tokens=200))
        client.models.generate_content(model=flash, contents=turns(("user", Q1), ("assistant", r.text or ""),
                                                                   ("user", Q2)), config=cfg(max_output_tokens=200))
    rec.flush("healthy")

    SCRIPT[:] = [{"usage": gemini_usage(9200, 120), "finish": "STOP", "text": "Refunds take 5 business days."},
                 {"usage": gemini_usage(9260, 110, cached=8960), "finish": "STOP", "text": "Order A-1001 shipped."},
                 {"usage": gemini_usage(9310, 100, cached=8960), "finish": "STOP", "text": "Order A-1002 is packing."}]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            client.models.generate_content(model=flash, contents=turns(("user", q)),
                                           config=cfg(BIG, max_output_tokens=300))
    rec.flush("cached")

    SCRIPT[:] = [{"usage": gemini_usage(640, 48), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(700, 64), "finish": "MAX_TOKENS",
                  "text": "Here is every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in client.models.generate_content_stream(model=flash, contents=turns(("user", q)),
                                                           config=cfg(max_output_tokens=mx)):
                pass
    rec.flush("streaming")

    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_order_status", description="Look up the shipping status of an order.",
        parameters=types.Schema(type="OBJECT", properties={"order_id": types.Schema(type="STRING")},
                                required=["order_id"]))])
    SCRIPT[:] = [{"usage": gemini_usage(410, 18, thoughts=128), "finish": "STOP",
                  "function_call": {"name": "get_order_status", "args": {"order_id": "A-1001"}}},
                 {"usage": gemini_usage(460, 25), "finish": "STOP", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        tcfg = cfg(tools=[tool], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
        contents: list[Any] = turns(("user", Q1))
        r = client.models.generate_content(model=flash, contents=contents, config=tcfg)
        fc = (r.function_calls or [])[0]
        result = tool_span(rec, fc.name or "", fc.id or "", dict(fc.args or {}), 1)
        contents += [r.candidates[0].content, types.Content(role="user", parts=[types.Part.from_function_response(
            name=fc.name or "", response={"status": result})])]
        client.models.generate_content(model=flash, contents=contents, config=tcfg)
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429, "message": "Resource has been exhausted (e.g. check quota)."},
                 {"status": 500, "message": "An internal error has occurred."}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:  # the SDK does not retry without HttpOptions.retry_options
                client.models.generate_content(model=flash, contents=turns(("user", Q1)),
                                               config=cfg(max_output_tokens=200))
            except errors.APIError as exc:
                surfaced.append(exc.code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [{"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."},
                 {"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."}]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            client.models.generate_content(model=flash, contents=turns(("user", Q1)),
                                           config=cfg(max_output_tokens=100, temperature=0.0))
    rec.flush("duplicate")
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write(source, {"versions": versions(*libs, "google-genai", "opentelemetry-sdk")})


RUNNERS = {"openlit-langchain-openai": run_langchain, "openlit-google-genai": run_gemini,
           "openllmetry-google-genai": run_gemini, "openllmetry-llamaindex": run_llamaindex}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
