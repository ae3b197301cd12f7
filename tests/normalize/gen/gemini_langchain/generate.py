"""Capture real spans from Google Gen AI SDK and LangChain instrumentations against fake servers.

Every span in the output was emitted by a real instrumentation library wrapping a real client SDK
(``google-genai``, or LangChain's ``langchain-openai`` over ``openai``) that talked HTTP to a fake server
on 127.0.0.1 started by this script. The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``) and, in the Gemini ``tool_call`` scenario, an app-level tool span ``tool.get_order_status``.

Sources (one process each, so that instrumentors never meet):

* ``otel-google-genai``          opentelemetry-instrumentation-google-genai (OTel contrib), latest semconv,
                                 content on spans and events
* ``openinference-google-genai`` openinference-instrumentation-google-genai (Arize)
* ``openinference-langchain``    openinference-instrumentation-langchain + openinference-instrumentation-openai
                                 together (a LangChain LLM span and an OpenAI ChatCompletion span per call)
* ``openllmetry-langchain``      opentelemetry-instrumentation-langchain + opentelemetry-instrumentation-openai
                                 (Traceloop OpenLLMetry) together: the LangChain handler suppresses the OpenAI
                                 span (SUPPRESS_LANGUAGE_MODEL_INSTRUMENTATION_KEY), one span per call
* ``openllmetry-langchain-openai-v2`` Traceloop's LangChain instrumentor + the OTel contrib
                                 opentelemetry-instrumentation-openai-v2 (latest semconv), which does not read
                                 Traceloop's flag: two sibling spans per call with the same response id

(The OpenInference LangChain span and its OpenAI span are siblings too: OpenInference's LangChain tracer never
makes its span current.)

Re-run (Python 3.11; separate venvs under /tmp, never the project's .venv; requirements.txt has one
section of exact versions per venv, and says how to install one)::

    cd tests/normalize/gen/gemini_langchain
    /tmp/venv_gg/bin/python generate.py otel-google-genai
    /tmp/venv_gg/bin/python generate.py openinference-google-genai
    /tmp/venv_lc_oi/bin/python generate.py openinference-langchain
    /tmp/venv_lc_ollm/bin/python generate.py openllmetry-langchain
    /tmp/venv_lc_ollm/bin/python generate.py openllmetry-langchain-openai-v2

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format:
``{"scenario", "source", "otlp", "otlp_logs"?}``, OTLP/JSON with hex ids) and merges the fake server's
ground truth for its family into ``tests/normalize/data/gemini-langchain-truth.json`` (it fails if an
earlier source of the same family saw a different truth).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "gemini-langchain-truth.json"
GEMINI_SOURCES = ("otel-google-genai", "openinference-google-genai")
LANGCHAIN_SOURCES = ("openinference-langchain", "openllmetry-langchain", "openllmetry-langchain-openai-v2")


# --------------------------------------------------------------------------------------------------------
# fake servers: each answers from a script the generator sets per scenario, and keeps the ground truth
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "http_requests": 0, "input": 0,
                                               "output": 0, "cache_read": 0, "reasoning": 0,
                                               "tool_use_prompt": 0, "finish_reasons": [], "models": []})

    def request(self) -> None:
        self.by_scenario[self.scenario]["http_requests"] += 1

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, inp: int, out: int, cache: int, reasoning: int, finish: str, tool_use: int = 0) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["input"] += inp
        t["output"] += out
        t["cache_read"] += cache
        t["reasoning"] += reasoning
        t["tool_use_prompt"] += tool_use
        t["finish_reasons"].append(finish)
        t["models"].append(model)


TRUTH_NOW = Truth()
#: the answers the server gives next, in order (each a dict, see the handlers)
SCRIPT = Script()


class _Base(JSONHandler):
    _body = JSONHandler.read_json
    _send = JSONHandler.send_json


GEMINI_ERRORS = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL"}


def gemini_usage(prompt: int, cand: int, cached: int = 0, thoughts: int = 0, tool_use: int = 0) -> dict[str, int]:
    """usageMetadata as the Gemini API documents it: promptTokenCount includes cachedContentTokenCount,
    candidatesTokenCount excludes thoughtsTokenCount, totalTokenCount = prompt + candidates + toolUsePrompt
    + thoughts."""
    u = {"promptTokenCount": prompt, "candidatesTokenCount": cand,
         "totalTokenCount": prompt + cand + tool_use + thoughts,
         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if cached:
        u["cachedContentTokenCount"] = cached
        u["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    if tool_use:
        u["toolUsePromptTokenCount"] = tool_use
    return u


class GeminiHandler(_Base):
    def do_POST(self) -> None:
        m = re.match(r"^/v1beta/models/([^:/?]+):(generateContent|streamGenerateContent)", self.path)
        self._body()
        if not m:
            self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
            return
        model, method = m.group(1), m.group(2)
        step = SCRIPT.next()
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            hdr = {"retry-after": "1"} if code == 429 else {}
            self._send(code, {"error": {"code": code, "message": step.get("message", "error"),
                                        "status": GEMINI_ERRORS[code]}}, hdr)
            return
        u = step["usage"]
        TRUTH_NOW.ok(model, u["promptTokenCount"] + u.get("toolUsePromptTokenCount", 0),
                     u["candidatesTokenCount"] + u.get("thoughtsTokenCount", 0), u.get("cachedContentTokenCount", 0),
                     u.get("thoughtsTokenCount", 0), step["finish"], u.get("toolUsePromptTokenCount", 0))
        rid = f"resp-{int(time.time() * 1e6):x}"
        if step.get("function_call"):
            parts: list[dict[str, Any]] = [{"functionCall": step["function_call"]}]
        else:
            parts = [{"text": step["text"]}]
        if step.get("thought_text"):
            parts.insert(0, {"text": step["thought_text"], "thought": True})
        if method == "generateContent":
            self._send(200, {"candidates": [{"content": {"role": "model", "parts": parts},
                                             "finishReason": step["finish"], "index": 0}],
                             "usageMetadata": u, "modelVersion": model, "responseId": rid})
            return
        # SSE (alt=sse): like the real API, every chunk carries usageMetadata, cumulative so far; the last
        # chunk carries the finish reason and the final counts
        words = step["text"].split(" ")
        chunks = [" ".join(words[: len(words) // 2]) + " ", " ".join(words[len(words) // 2:])]
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for n, text in enumerate(chunks):
            last = n == len(chunks) - 1
            cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
            usage = dict(u) if last else gemini_usage(u["promptTokenCount"], 3, u.get("cachedContentTokenCount", 0))
            if last:
                cand["finishReason"] = step["finish"]
            data = json.dumps({"candidates": [cand], "usageMetadata": usage, "modelVersion": model,
                               "responseId": rid})
            payload = f"data: {data}\r\n\r\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class OpenAIHandler(_Base):
    def do_POST(self) -> None:
        body = self._body()
        if not self.path.endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found"}})
            return
        step = SCRIPT.next()
        if "status" in step:
            TRUTH_NOW.failed()
            self._send(step["status"], {"error": {"message": step.get("message", "error"), "type": "server_error"}})
            return
        p, c, cached, rs = step["prompt"], step["completion"], step.get("cached", 0), step.get("reasoning", 0)
        model = body.get("model", "gpt-4o-mini")
        served = step.get("served_model", model + "-2024-07-18")
        TRUTH_NOW.ok(served, p, c, cached, rs, step["finish"])
        msg: dict[str, Any] = {"role": "assistant", "content": step.get("text")}
        if step.get("tool_calls"):
            msg["tool_calls"] = step["tool_calls"]
            msg["content"] = None
        self._send(200, {
            "id": f"chatcmpl-{int(time.time() * 1e6):x}", "object": "chat.completion", "created": int(time.time()),
            "model": served, "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": step["finish"]}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
                      "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                      "completion_tokens_details": {"reasoning_tokens": rs, "audio_tokens": 0,
                                                    "accepted_prediction_tokens": 0,
                                                    "rejected_prediction_tokens": 0}}})


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


# --------------------------------------------------------------------------------------------------------
# Gemini (google-genai)
# --------------------------------------------------------------------------------------------------------

def instrument_gemini(source: str) -> None:
    if source == "otel-google-genai":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
        from opentelemetry.instrumentation.google_genai import GoogleGenAiSdkInstrumentor

        GoogleGenAiSdkInstrumentor().instrument()
    else:
        from openinference.instrumentation.google_genai import GoogleGenAIInstrumentor

        GoogleGenAIInstrumentor().instrument()  # content is captured by default (TraceConfig)


def run_gemini(source: str) -> None:
    rec = recorder(source)
    instrument_gemini(source)
    srv = serve(GeminiHandler)
    from google import genai
    from google.genai import errors, types

    client = genai.Client(api_key="fake-key", http_options=types.HttpOptions(
        base_url=f"http://127.0.0.1:{srv.server_address[1]}", api_version="v1beta"))
    flash, pro = "gemini-2.5-flash", "gemini-2.5-pro"
    sys_prompt = "You are a concise customer-support assistant for ACME Corp."

    def cfg(**kw: Any) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(system_instruction=sys_prompt, **kw)

    # healthy: 2 calls
    SCRIPT[:] = [{"usage": gemini_usage(1200, 150), "finish": "STOP", "text": "billing"},
                 {"usage": gemini_usage(800, 90), "finish": "STOP", "text": "Sorry about the double charge; "
                                                                          "a refund is on its way."}]
    with rec.root("healthy", "support-triage"):
        client.models.generate_content(model=flash, contents="Classify: 'I was charged twice.'",
                                       config=cfg(max_output_tokens=16, temperature=0.0))
        client.models.generate_content(model=flash, contents="Write a short apology for the double charge.",
                                       config=cfg(max_output_tokens=200))
    rec.flush("healthy")

    # thinking: one call with thoughts
    SCRIPT[:] = [{"usage": gemini_usage(300, 40, thoughts=2200), "finish": "STOP", "text": "4",
                  "thought_text": "The user asks 2+2. That is 4."}]
    with rec.root("thinking", "math-check"):
        client.models.generate_content(model=pro, contents="What is 2+2?", config=cfg(
            thinking_config=types.ThinkingConfig(thinking_budget=4096, include_thoughts=True)))
    rec.flush("thinking")

    # cached: a large static prefix, second and third call hit the cache
    big = "POLICY: " + "Refunds are processed within 5 business days. " * 40
    SCRIPT[:] = [{"usage": gemini_usage(9200, 120), "finish": "STOP", "text": "Refund in 5 days."},
                 {"usage": gemini_usage(9260, 110, cached=8960), "finish": "STOP", "text": "Shipping is free."},
                 {"usage": gemini_usage(9310, 100, cached=8960), "finish": "STOP", "text": "Returns within 30 days."}]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", "Is shipping free?", "Can I return it?"):
            client.models.generate_content(model=flash, contents=q, config=types.GenerateContentConfig(
                system_instruction=big))
    rec.flush("cached")

    # streaming: 2 streamed calls, the second ends with MAX_TOKENS
    SCRIPT[:] = [{"usage": gemini_usage(640, 48), "finish": "STOP", "text": "Your order A-1001 shipped "
                                                                           "yesterday and arrives Friday."},
                 {"usage": gemini_usage(700, 64), "finish": "MAX_TOKENS", "text": "Here is a long story about "
                                                                                "our shipping partners and"}]
    with rec.root("streaming", "order-status"):
        for text, mx in (("Where is order A-1001?", 256), ("Tell me everything about shipping.", 64)):
            for _ in client.models.generate_content_stream(model=flash, contents=text,
                                                           config=cfg(max_output_tokens=mx)):
                pass
    rec.flush("streaming")

    # tool_call: function call, the app runs the tool, then the answer
    def get_order_status(order_id: str) -> str:
        """Look up an order's status."""
        return "shipped"

    tool = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="get_order_status", description="Look up an order's status.",
        parameters=types.Schema(type="OBJECT", properties={"order_id": types.Schema(type="STRING")},
                                required=["order_id"]))])
    SCRIPT[:] = [{"usage": gemini_usage(410, 18), "finish": "STOP",
                  "function_call": {"name": "get_order_status", "args": {"order_id": "A-1001"}}},
                 {"usage": gemini_usage(460, 25, tool_use=64), "finish": "STOP", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_call", "order-status"):
        tcfg = cfg(tools=[tool], automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
        contents: list[Any] = [types.Content(role="user", parts=[types.Part(text="Where is order A-1001?")])]
        r = client.models.generate_content(model=flash, contents=contents, config=tcfg)
        fc = r.function_calls[0]
        with rec.app.start_as_current_span("tool.get_order_status", attributes={
                "app.tool.name": fc.name, "app.tool.arguments": json.dumps(fc.args)}):
            result = get_order_status(**(fc.args or {}))
        contents += [r.candidates[0].content,
                     types.Content(role="user", parts=[types.Part.from_function_response(
                         name=fc.name, response={"status": result})])]
        client.models.generate_content(model=flash, contents=contents, config=tcfg)
    rec.flush("tool_call")

    # errors: 429 and 500 surfaced to the app (the SDK does not retry without retry_options)
    SCRIPT[:] = [{"status": 429, "message": "Resource has been exhausted (e.g. check quota)."},
                 {"status": 500, "message": "An internal error has occurred."}]
    surfaced: list[int] = []
    with rec.root("errors", "support-triage"):
        for _ in range(2):
            try:
                client.models.generate_content(model=flash, contents="Classify: 'Where is my parcel?'",
                                               config=cfg(max_output_tokens=16))
            except errors.APIError as exc:
                surfaced.append(exc.code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    # duplicate: the identical request twice
    SCRIPT[:] = [{"usage": gemini_usage(520, 30), "finish": "STOP", "text": "shipping"},
                 {"usage": gemini_usage(520, 30), "finish": "STOP", "text": "shipping"}]
    with rec.root("duplicate", "support-triage"):
        for _ in range(2):
            client.models.generate_content(model=flash, contents="Classify: 'Where is my parcel?'",
                                           config=cfg(max_output_tokens=16, temperature=0.0))
    rec.flush("duplicate")
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write("gemini")


# --------------------------------------------------------------------------------------------------------
# LangChain (langchain-openai over openai)
# --------------------------------------------------------------------------------------------------------

def instrument_langchain(source: str) -> None:
    if source == "openinference-langchain":
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from openinference.instrumentation.openai import OpenAIInstrumentor

        LangChainInstrumentor().instrument()
        OpenAIInstrumentor().instrument()
    elif source == "openllmetry-langchain":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        LangchainInstrumentor().instrument()
        OpenAIInstrumentor().instrument()
    else:  # Traceloop's LangChain instrumentor with the OTel contrib OpenAI one (which ignores Traceloop's flag)
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OpenAIV2Instrumentor

        LangchainInstrumentor().instrument()
        OpenAIV2Instrumentor().instrument()


def run_langchain(source: str) -> None:
    rec = recorder(source)
    instrument_langchain(source)
    srv = serve(OpenAIHandler)
    import openai
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                     max_retries=0, temperature=0, max_tokens=200)
    sys_prompt = "You are a concise customer-support assistant for ACME Corp."

    # healthy: a chain with 2 LLM calls (classify, then reply using the label)
    SCRIPT[:] = [{"prompt": 1200, "completion": 6, "cached": 1024, "finish": "stop", "text": "billing"},
                 {"prompt": 1350, "completion": 180, "cached": 1024, "reasoning": 0, "finish": "stop",
                  "text": "Sorry about the double charge; a refund is on its way."}]
    classify = ChatPromptTemplate.from_messages([("system", sys_prompt), ("user", "Classify: {ticket}")]) \
        | llm | StrOutputParser()
    reply = ChatPromptTemplate.from_messages([("system", sys_prompt),
                                              ("user", "Ticket ({label}): {ticket}. Write a reply.")]) \
        | llm | StrOutputParser()
    chain = {"label": classify, "ticket": lambda d: d["ticket"]} | reply
    with rec.root("healthy", "support-triage"):
        chain.invoke({"ticket": "I was charged twice for my subscription."})
    rec.flush("healthy")

    # tool_loop: the model asks for a tool, LangChain runs it, then the answer (o3-mini: reasoning tokens)
    @tool
    def get_order_status(order_id: str) -> str:
        """Look up an order's status."""
        return "shipped"

    SCRIPT[:] = [{"prompt": 420, "completion": 150, "reasoning": 128, "finish": "tool_calls",
                  "served_model": "o3-mini-2025-01-31",
                  "tool_calls": [{"id": "call_1", "type": "function", "function": {
                      "name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]},
                 {"prompt": 470, "completion": 90, "reasoning": 64, "finish": "stop",
                  "served_model": "o3-mini-2025-01-31", "text": "Order A-1001 has shipped."}]
    agent_llm = ChatOpenAI(model="o3-mini", api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                           max_retries=0).bind_tools([get_order_status])
    with rec.root("tool_loop", "order-status"):
        msgs: list[Any] = [SystemMessage(sys_prompt), HumanMessage("Where is order A-1001?")]
        for _ in range(3):
            ai = agent_llm.invoke(msgs)
            msgs.append(ai)
            if not ai.tool_calls:
                break
            for tc in ai.tool_calls:
                msgs.append(ToolMessage(get_order_status.invoke(tc["args"]), tool_call_id=tc["id"]))
    rec.flush("tool_loop")

    # errors: 429 and 500 surfaced to the app (max_retries=0)
    SCRIPT[:] = [{"status": 429, "message": "Rate limit reached"}, {"status": 500, "message": "server error"}]
    surfaced: list[int] = []
    with rec.root("errors", "support-triage"):
        for _ in range(2):
            try:
                classify.invoke({"ticket": "Where is my parcel?"})
            except openai.APIStatusError as exc:  # RateLimitError / InternalServerError
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    # duplicate: the identical request twice
    SCRIPT[:] = [{"prompt": 520, "completion": 3, "finish": "stop", "text": "shipping"},
                 {"prompt": 520, "completion": 3, "finish": "stop", "text": "shipping"}]
    with rec.root("duplicate", "support-triage"):
        for _ in range(2):
            classify.invoke({"ticket": "Where is my parcel?"})
    rec.flush("duplicate")
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write("langchain")


def main() -> None:
    source = sys.argv[1] if len(sys.argv) > 1 else ""
    if source in GEMINI_SOURCES:
        run_gemini(source)
    elif source in LANGCHAIN_SOURCES:
        run_langchain(source)
    else:
        raise SystemExit(f"usage: generate.py {{{'|'.join(GEMINI_SOURCES + LANGCHAIN_SOURCES)}}}")


if __name__ == "__main__":
    main()
