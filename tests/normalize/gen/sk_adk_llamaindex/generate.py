"""Capture real spans from Semantic Kernel, Google ADK and LlamaIndex (OpenInference) against fake APIs.

Every model-call span in the output was emitted by a real library wrapping a real client SDK, which talked
HTTP to a fake provider server on 127.0.0.1 started by this script. The only spans made here are the trace
roots (``workflow``, scope ``fixgen.app``) and, in the LlamaIndex ``tool_use`` scenario (where the app runs
the tool), the app-level tool span ``tool.get_order_status`` (attributes ``app.*``). Semantic Kernel and ADK
run the tool themselves and write their own tool spans.

Sources (one process each, so that instrumentations never meet):

* ``semantic-kernel-openai``   semantic-kernel (Microsoft, Python) ``OpenAIChatCompletion`` over ``openai``
                               (``AsyncOpenAI(max_retries=0)``) against a fake OpenAI Chat Completions API; its
                               model diagnostics on: ``SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS``
                               and ``..._SENSITIVE=true``: content goes to Python log records only, shipped
                               with OTel's LoggingHandler into ``otlp_logs`` (SK's spans carry none)
* ``google-adk``               google-adk ``LlmAgent`` (+ a function tool) with ``Runner`` and
                               ``InMemorySessionService``; model ``gemini-2.5-flash`` via google-genai against a
                               fake Gemini API (``GOOGLE_GEMINI_BASE_URL``); ADK's own spans (scope
                               ``gcp.vertex.agent``, its default telemetry schema v2: ``invoke_workflow``,
                               ``invoke_agent``, ``generate_content {model}``, ``execute_tool``), content
                               ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT`` (logs in
                               ``otlp_logs``)
* ``google-adk-legacy``        the same run with ADK's legacy telemetry schema
                               (``ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN=1``): ``invocation``, ``invoke_agent``,
                               ``call_llm`` (gcp.vertex.agent.llm_request / llm_response) and its
                               ``generate_content {model}`` span
* ``llamaindex-openinference`` llama-index-core + llama-index-llms-openai ``OpenAI(max_retries=0)`` under
                               openinference-instrumentation-llama-index (content captured by default)

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; exact versions in
requirements.txt, one section per venv)::

    cd tests/normalize/gen/sk_adk_llamaindex
    sed -n '/^# \\[sk\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/sk.txt   # likewise [adk], [llamaindex]
    python3 -m venv /tmp/gen-sk && /tmp/gen-sk/bin/pip install -r /tmp/sk.txt
    /tmp/gen-sk/bin/python generate.py semantic-kernel-openai
    /tmp/gen-adk/bin/python generate.py google-adk
    /tmp/gen-adk/bin/python generate.py google-adk-legacy
    /tmp/gen-li/bin/python generate.py llamaindex-openinference

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format:
``{"scenario", "source", "otlp", "otlp_logs"?}``, OTLP/JSON with lowercase hex ids, int64 as strings) and
sets its entry in ``tests/normalize/data/sk_adk_llamaindex-truth.json``: per scenario ``calls`` (model
calls answered, failed included), ``failed``, ``input`` (OpenAI ``prompt_tokens``, which includes
``cached_tokens``; Gemini ``promptTokenCount`` + ``toolUsePromptTokenCount``, cache included), ``output``
(``completion_tokens``, reasoning included; Gemini ``candidatesTokenCount`` + ``thoughtsTokenCount``),
``cache_read``, ``cache_write`` (0: neither API reports one), ``reasoning``, ``finish_reasons``, ``models``
([request model, served model] of the successful calls) and ``usage_unsent`` (calls whose usage the server
did not send because the client did not ask for it: a stream without ``stream_options.include_usage``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "sk_adk_llamaindex-truth.json"
SOURCES = ("semantic-kernel-openai", "google-adk", "google-adk-legacy", "llamaindex-openinference")

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60


# --------------------------------------------------------------------------------------------------------
# the fake OpenAI Chat Completions API, its truth and script: py_native's (../py_native/generate.py), shared
# --------------------------------------------------------------------------------------------------------

from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, _Base, oa

# --- fake Gemini API (generateContent / streamGenerateContent?alt=sse) ---------------------------------

GEMINI_ERRORS = {429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
                 500: ("INTERNAL", ("An internal error has occurred. Please retry or report in "
                                    "https://developers.generativeai.google/guide/troubleshooting"))}


def gm(prompt: int, cand: int, finish: str = "STOP", text: str | None = None, cached: int = 0, thoughts: int = 0,
       function_call: dict[str, Any] | None = None) -> dict[str, Any]:
    """One scripted answer; usageMetadata as the Gemini API documents it: promptTokenCount includes
    cachedContentTokenCount, candidatesTokenCount excludes thoughtsTokenCount, totalTokenCount is their sum."""
    u: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": cand,
                         "totalTokenCount": prompt + cand + thoughts,
                         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if cached:
        u["cachedContentTokenCount"] = cached
        u["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    return {"usage": u, "finish": finish, "text": text, "function_call": function_call}


class GeminiHandler(_Base):
    def do_POST(self) -> None:
        m = re.match(r"^/v1beta/models/([^:/?]+):(generateContent|streamGenerateContent)", self.path)
        body = self._body()
        if not m:
            self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
            return
        model, method = m.group(1), m.group(2)
        step = SCRIPT.next(body)
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            status, msg = GEMINI_ERRORS[code]
            self._send(code, {"error": {"code": code, "message": msg, "status": status}})
            return
        u = step["usage"]
        TRUTH_NOW.ok(model, model, u["promptTokenCount"], u["candidatesTokenCount"] + u.get("thoughtsTokenCount", 0),
                     u.get("cachedContentTokenCount", 0), u.get("thoughtsTokenCount", 0), step["finish"])
        rid = SCRIPT.id("resp-")
        parts: list[dict[str, Any]] = []
        if step["text"]:
            parts.append({"text": step["text"]})
        if step["function_call"]:
            parts.append({"functionCall": step["function_call"]})
        if method == "generateContent":
            self._send(200, {"candidates": [{"content": {"role": "model", "parts": parts},
                                             "finishReason": step["finish"], "index": 0}],
                             "usageMetadata": u, "modelVersion": model, "responseId": rid})
            return
        # SSE (alt=sse): every chunk carries usageMetadata so far; the last the finish reason and final counts
        words = (step["text"] or "").split(" ")
        pieces = [" ".join(words[: len(words) // 2]) + " ", " ".join(words[len(words) // 2:])]
        self._sse_start()
        for n, text in enumerate(pieces):
            last = n == len(pieces) - 1
            cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
            usage = dict(u) if last else {"promptTokenCount": u["promptTokenCount"], "candidatesTokenCount": 3,
                                          "totalTokenCount": u["promptTokenCount"] + 3}
            if last:
                cand["finishReason"] = step["finish"]
            data = json.dumps({"candidates": [cand], "usageMetadata": usage, "modelVersion": model,
                               "responseId": rid})
            self._chunk(f"data: {data}\r\n\r\n".encode())
        self._sse_end()


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    from importlib.metadata import version

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


# --------------------------------------------------------------------------------------------------------
# Semantic Kernel
# --------------------------------------------------------------------------------------------------------

def run_semantic_kernel(source: str) -> None:
    # model diagnostics (semantic_kernel/utils/telemetry/model_diagnostics/model_diagnostics_settings.py)
    os.environ["SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS"] = "true"
    os.environ["SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS_SENSITIVE"] = "true"
    rec = recorder(source)
    # with _SENSITIVE, SK writes the messages as Python log records (decorators.py _set_completion_input /
    # _set_completion_response: ``logger.info(json.dumps(message.to_dict()), extra={"event.name": ...})``),
    # never on the span; an app ships them with OTel's LoggingHandler, as SK's telemetry samples do
    import logging

    from opentelemetry.sdk._logs import LoggingHandler

    sk_log = logging.getLogger("semantic_kernel")
    sk_log.setLevel(logging.INFO)
    sk_log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=rec.lp))
    srv = serve(OpenAIHandler)
    from openai import AsyncOpenAI
    from semantic_kernel import Kernel
    from semantic_kernel.connectors.ai.function_choice_behavior import FunctionChoiceBehavior
    from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
    from semantic_kernel.contents import ChatHistory
    from semantic_kernel.exceptions import ServiceResponseException
    from semantic_kernel.functions import kernel_function

    client = AsyncOpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)
    mini = OpenAIChatCompletion(ai_model_id="gpt-4o-mini", async_client=client, service_id="mini")
    o4 = OpenAIChatCompletion(ai_model_id="o4-mini", async_client=client, service_id="o4")

    class Orders:
        @kernel_function(name="get_order_status", description="Look up the shipping status of an order.")
        def get_order_status(self, order_id: str) -> str:
            return "shipped" if order_id == "A-1001" else "packing"

    kernel = Kernel()
    kernel.add_service(o4)
    kernel.add_plugin(Orders(), plugin_name="orders")

    def history(*turns: tuple[str, str], system: str = SYSTEM) -> ChatHistory:
        h = ChatHistory(system_message=system)
        for role, text in turns:
            (h.add_user_message if role == "user" else h.add_assistant_message)(text)
        return h

    def settings(**kw: Any) -> OpenAIChatPromptExecutionSettings:
        return OpenAIChatPromptExecutionSettings(**kw)

    async def main() -> None:
        # healthy: a two-turn conversation
        SCRIPT[:] = [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                     oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
        with rec.root("healthy", "order-status"):
            a1 = await mini.get_chat_message_content(history(("user", Q1)), settings(max_tokens=200))
            await mini.get_chat_message_content(history(("user", Q1), ("assistant", str(a1)), ("user", Q2)),
                                                settings(max_tokens=200))
        rec.flush("healthy")

        # cached: a big static system prompt; the 2nd and 3rd call hit OpenAI's prompt cache
        SCRIPT[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                     oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                     oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await mini.get_chat_message_content(history(("user", q), system=BIG), settings(max_tokens=300))
        rec.flush("cached")

        # streaming: 2 streamed calls, the 2nd cut at max_tokens (finish_reason length)
        SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                     oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                async for _ in mini.get_streaming_chat_message_content(history(("user", q)), settings(max_tokens=mx)):
                    pass
        rec.flush("streaming")

        # tool_use: o4-mini asks for get_order_status, SK runs it (auto function calling), then answers
        SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                         {"function": {"name": "orders-get_order_status",
                                       "arguments": json.dumps({"order_id": "A-1001"})}}]),
                     oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
        with rec.root("tool_use", "order-agent"):
            await o4.get_chat_message_content(history(("user", Q1)), settings(
                function_choice_behavior=FunctionChoiceBehavior.Auto()), kernel=kernel)
        rec.flush("tool_use")

        # errors: a 429 then a 500 surfaced to the app (max_retries=0)
        SCRIPT[:] = [{"status": 429}, {"status": 500}]
        surfaced: list[str] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await mini.get_chat_message_content(history(("user", Q1)), settings(max_tokens=200))
                except ServiceResponseException as exc:  # raised from the openai error
                    surfaced.append(type(exc.__cause__ or exc).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
        rec.flush("errors")

        # duplicate: the identical request twice (temperature 0)
        SCRIPT[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                     oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await mini.get_chat_message_content(history(("user", Q1)), settings(max_tokens=100, temperature=0.0))
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "semantic-kernel", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# Google ADK
# --------------------------------------------------------------------------------------------------------

def run_adk(source: str) -> None:
    srv = serve(GeminiHandler)
    os.environ["GOOGLE_GEMINI_BASE_URL"] = f"http://127.0.0.1:{srv.server_address[1]}"
    os.environ["GOOGLE_API_KEY"] = "fake-key"
    os.environ["GOOGLE_GENAI_USE_VERTEXAI"] = "false"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    if source == "google-adk-legacy":
        # ADK's legacy telemetry format (telemetry/_schema_version.py: ``1`` = otel_semconv_1_36): ``invocation``,
        # ``call_llm`` spans with gcp.vertex.agent.llm_request / llm_response, stable GenAI semconv
        os.environ["ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN"] = "1"
    rec = recorder(source)
    from google.adk.agents import LlmAgent
    from google.adk.agents.run_config import RunConfig, StreamingMode
    from google.adk.runners import Runner
    from google.adk.sessions import InMemorySessionService
    from google.genai import errors, types

    flash = "gemini-2.5-flash"

    def get_order_status(order_id: str) -> dict[str, str]:
        """Look up the shipping status of an order."""
        return {"order_id": order_id, "status": "shipped" if order_id == "A-1001" else "packing"}

    def agent(name: str, instruction: str = SYSTEM, tools: list[Any] | None = None, **cfg: Any) -> Any:
        return LlmAgent(name=name, model=flash, instruction=instruction, tools=tools or [],
                        generate_content_config=types.GenerateContentConfig(**cfg) if cfg else None)

    sessions = InMemorySessionService()

    async def ask(a: Any, texts: list[str], streaming: bool = False) -> list[str]:
        runner = Runner(app_name="support-bot", agent=a, session_service=sessions)
        s = await sessions.create_session(app_name="support-bot", user_id="u-1")
        cfg = RunConfig(streaming_mode=StreamingMode.SSE if streaming else StreamingMode.NONE)
        out = []
        for text in texts:
            async for ev in runner.run_async(user_id="u-1", session_id=s.id, run_config=cfg,
                                             new_message=types.Content(role="user", parts=[types.Part(text=text)])):
                if ev.is_final_response() and ev.content and ev.content.parts:
                    out.append("".join(p.text or "" for p in ev.content.parts))
        return out

    async def main() -> None:
        # healthy: a two-turn conversation in one session
        SCRIPT[:] = [gm(1200, 150, text="Order A-1001 shipped yesterday and arrives Friday."),
                     gm(1350, 90, text="Order A-1002 is still being packed.")]
        with rec.root("healthy", "order-status"):
            await ask(agent("support", max_output_tokens=200), [Q1, Q2])
        rec.flush("healthy")

        # cached: a big static instruction; the 2nd and 3rd call hit Gemini's implicit cache
        SCRIPT[:] = [gm(9200, 120, text="Refunds take 5 business days."),
                     gm(9260, 110, text="Order A-1001 shipped.", cached=8960),
                     gm(9310, 100, text="Order A-1002 is packing.", cached=8960)]
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await ask(agent("policy", instruction=BIG, max_output_tokens=300), [q])
        rec.flush("cached")

        # streaming: 2 streamed calls (RunConfig streaming_mode SSE), the 2nd cut at max_output_tokens
        SCRIPT[:] = [gm(640, 48, text="Your order A-1001 shipped yesterday and arrives Friday."),
                     gm(700, 64, "MAX_TOKENS", text="Here is every shipment event recorded for order A-1002 so far")]
        with rec.root("streaming", "order-updates"):
            await ask(agent("updates", max_output_tokens=256), [Q1], streaming=True)
            await ask(agent("updates", max_output_tokens=64), [Q2], streaming=True)
        rec.flush("streaming")

        # tool_use: the model (thinking) asks for get_order_status, ADK runs it, then the model answers
        SCRIPT[:] = [gm(410, 18, thoughts=200, function_call={"name": "get_order_status",
                                                              "args": {"order_id": "A-1001"}}),
                     gm(460, 25, thoughts=40, text="Order A-1001 has shipped.")]
        with rec.root("tool_use", "order-agent"):
            await ask(agent("order_agent", tools=[get_order_status]), [Q1])
        rec.flush("tool_use")

        # errors: a 429 then a 500 surfaced to the app (google-genai retries nothing without retry_options)
        SCRIPT[:] = [{"status": 429}, {"status": 500}]
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await ask(agent("support", max_output_tokens=200), [Q1])
                except errors.APIError as exc:  # ClientError / ServerError (ADK's _ResourceExhaustedError)
                    surfaced.append(getattr(exc, "code", 0))
        assert surfaced == [429, 500], surfaced
        rec.flush("errors")

        # duplicate: the identical request twice (temperature 0), each in a fresh session
        SCRIPT[:] = [gm(520, 30, text="Order A-1001 shipped yesterday."),
                     gm(520, 30, text="Order A-1001 shipped yesterday.")]
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await ask(agent("support", max_output_tokens=100, temperature=0.0), [Q1])
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "google-adk", "google-genai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# LlamaIndex under OpenInference
# --------------------------------------------------------------------------------------------------------

def run_llamaindex(source: str) -> None:
    rec = recorder(source)
    from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

    LlamaIndexInstrumentor().instrument(tracer_provider=rec.tp)  # content is captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import openai
    from llama_index.core.llms import ChatMessage
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return OpenAI(model=model, api_key="sk-fake", api_base=base, max_retries=0, **kw)

    def msgs(*turns: tuple[str, str], system: str = SYSTEM) -> list[Any]:
        return [ChatMessage(role="system", content=system)] + [ChatMessage(role=r, content=t) for r, t in turns]

    # healthy: a two-turn conversation
    SCRIPT[:] = [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                 oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        m = llm(max_tokens=200)
        a1 = m.chat(msgs(("user", Q1)))
        m.chat(msgs(("user", Q1), ("assistant", str(a1.message.content)), ("user", Q2)))
    rec.flush("healthy")

    # cached
    SCRIPT[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                 oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                 oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        m = llm(max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            m.chat(msgs(("user", q), system=BIG))
    rec.flush("cached")

    # streaming: 2 streamed calls, the 2nd cut at max_tokens
    SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                 oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        # llama-index-llms-openai sends no stream_options by default (base.py: ``stream_options`` only from
        # additional_kwargs): the 1st stream has no usage at all, the 2nd asks for it as an app can
        for q, mx, extra in ((Q1, 256, {}), (Q2, 64, {"stream_options": {"include_usage": True}})):
            for _ in llm(max_tokens=mx, additional_kwargs=extra).stream_chat(msgs(("user", q))):
                pass
    rec.flush("streaming")

    # tool_use: o4-mini asks for get_order_status, the app runs it, then the model answers
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    tool = FunctionTool.from_defaults(fn=get_order_status)
    SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                     {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
    with rec.root("tool_use", "order-agent"):
        m = llm("o4-mini")
        history = msgs(("user", Q1))
        for iteration in range(1, 4):
            resp = m.chat_with_tools([tool], chat_history=history)
            calls = m.get_tool_calls_from_response(resp, error_on_no_tool_call=False)
            history.append(resp.message)
            if not calls:
                break
            for tc in calls:
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc.tool_name, "app.tool.call_id": tc.tool_id,
                        "app.tool.arguments": json.dumps(tc.tool_kwargs), "app.iteration": iteration}):
                    out = tool(**tc.tool_kwargs)
                history.append(ChatMessage(role="tool", content=str(out),
                                           additional_kwargs={"tool_call_id": tc.tool_id, "name": tc.tool_name}))
    rec.flush("tool_use")

    # errors: a 429 then a 500 surfaced to the app (max_retries=0)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                llm(max_tokens=200).chat(msgs(("user", Q1)))
            except openai.APIStatusError as exc:
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    # duplicate: the identical request twice (temperature 0)
    SCRIPT[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                 oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        m = llm(max_tokens=100, temperature=0.0)
        for _ in range(2):
            m.chat(msgs(("user", Q1)))
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "llama-index-core", "llama-index-llms-openai", "openinference-instrumentation-llama-index",
               "openai", "opentelemetry-sdk")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    {"semantic-kernel-openai": run_semantic_kernel, "google-adk": run_adk, "google-adk-legacy": run_adk,
     "llamaindex-openinference": run_llamaindex}[sys.argv[1]](sys.argv[1])
