"""Capture real spans from instrumentations that write the GenAI semantic conventions themselves, against fakes.

Every model-call span in the output was emitted by a real library wrapping a real client SDK, which talked HTTP
to a fake provider server on 127.0.0.1 started by this script. The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and, where the app runs the tool itself
(Ollama, Groq, Mistral, Cohere), the app-level tool spans ``tool.get_order_status`` (attributes ``app.*``).

Sources (one process each, so that instrumentations never meet):

* ``agent-framework-openai``  Microsoft Agent Framework (agent-framework-core 1.23.0, agent-framework-openai
                              1.17.0): ``Agent`` over ``OpenAIChatCompletionClient`` (``AsyncOpenAI(max_retries=0)``)
                              against a fake OpenAI Chat Completions API; its built-in OTel
                              (``agent_framework.observability.enable_instrumentation(enable_sensitive_data=True)``,
                              the default "latest experimental" semconv): ``invoke_agent {name}`` > ``chat {model}``
                              / ``execute_tool {tool}``, content in gen_ai.input.messages / output.messages
* ``agents-otel``             OpenTelemetry contrib's opentelemetry-instrumentation-openai-agents-v2 0.1.0 over
                              openai-agents 0.24.0: the agents_sdk generator's fake Responses API and scenario
                              script (``../agents_sdk/generate.py`` ``run``), imported and run unchanged with this
                              instrumentation, ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_and_event``
* ``ollama-openllmetry``      opentelemetry-instrumentation-ollama 0.62.4, ollama 0.6.3, fake ``/api/chat``
                              (``prompt_eval_count`` / ``eval_count``; NDJSON streams); no ``cached`` scenario:
                              Ollama reports no cache count
* ``groq-openllmetry``        opentelemetry-instrumentation-groq 0.62.4, groq 1.7.0 (``max_retries=0``), fake
                              ``/openai/v1/chat/completions`` (usage with queue/prompt/completion times,
                              ``prompt_tokens_details.cached_tokens``, ``x_groq``; a stream's usage in its last
                              chunk's ``x_groq.usage``)
* ``mistralai-openllmetry``   opentelemetry-instrumentation-mistralai 0.62.4, mistralai 1.12.4 (no retry_config),
                              fake ``/v1/chat/completions``; the SDK's own spans (scope ``mistralai_sdk_tracer``,
                              mistralai/extra/observability/otel.py, on once a TracerProvider is set) come beside
                              OpenLLMetry's, as an app gets them
* ``cohere-openllmetry``      opentelemetry-instrumentation-cohere 0.62.4, cohere 5.21.1 ``ClientV2``
                              (``request_options={"max_retries": 0}``), fake ``/v2/chat`` (usage.billed_units,
                              usage.tokens, usage.cached_tokens; SSE events when streaming)

OpenLLMetry sources run with ``TRACELOOP_TRACE_CONTENT=true``. Not captured: OTel contrib's LangChain
instrumentation is not on PyPI (``opentelemetry-instrumentation-langchain`` there is Traceloop's, captured as
openllmetry-langchain).

Re-run (Python 3.11; one venv per section of requirements.txt, never the project's .venv)::

    cd tests/normalize/gen/py_native
    sed -n '/^# \\[af\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/af.txt   # likewise [oa], [ol]
    python3 -m venv /tmp/gen-pynative-af && /tmp/gen-pynative-af/bin/pip install -r /tmp/af.txt
    /tmp/gen-pynative-af/bin/python generate.py agent-framework-openai
    /tmp/gen-pynative-oa/bin/python generate.py agents-otel
    /tmp/gen-pynative-ol/bin/python generate.py ollama-openllmetry   # likewise groq-, mistralai-, cohere-openllmetry

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format:
``{"scenario", "source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack
traces rewritten to /app/) and sets its entry in ``tests/normalize/data/py_native-truth.json``: per scenario
``calls`` (model calls answered, failed included), ``failed``, ``input`` (the API's input count, cache included:
OpenAI / Groq / Mistral ``prompt_tokens``, Ollama ``prompt_eval_count``, Cohere ``usage.tokens.input_tokens``,
its ``billed_units`` beside as ``billed_input`` / ``billed_output``), ``output`` (reasoning included),
``cache_read``, ``cache_write`` (0: none of these APIs has one), ``reasoning``, ``finish_reasons``, ``models``
([request model, served model]); agents-otel's entry is the agents_sdk generator's truth (``statuses`` for
finish reasons).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, out_dir, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_native-truth.json"
SOURCES = ("agent-framework-openai", "agents-otel", "ollama-openllmetry", "mistralai-openllmetry",
           "groq-openllmetry", "cohere-openllmetry")

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60


# --------------------------------------------------------------------------------------------------------
# ground truth kept by the fake servers
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "input": 0, "output": 0, "cache_read": 0,
                                               "cache_write": 0, "reasoning": 0, "finish_reasons": [],
                                               "models": [], "usage_unsent": 0})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, served: str, inp: int, out: int, cache: int, reasoning: int, finish: str,
           usage_sent: bool = True, cache_write: int = 0) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["input"] += inp
        t["output"] += out
        t["cache_read"] += cache
        t["cache_write"] += cache_write
        t["reasoning"] += reasoning
        t["finish_reasons"].append(finish)
        t["models"].append([model, served])
        t["usage_unsent"] += int(not usage_sent)


TRUTH_NOW = Truth()
#: the answers the server gives next, in order
SCRIPT = Script()


class _Base(JSONHandler):
    _body = JSONHandler.read_json
    _send = JSONHandler.send_json

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _sse_end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


# --- fake OpenAI Chat Completions ---------------------------------------------------------------------

OPENAI_SERVED = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "o4-mini": "o4-mini-2025-04-16"}
#: the API's error bodies (platform.openai.com/docs/guides/error-codes)
OPENAI_ERRORS = {
    429: {"message": "Rate limit reached for gpt-4o-mini in organization org-fake on tokens per min (TPM): "
                     "Limit 200000, Used 199980, Requested 520.", "type": "tokens", "param": None,
          "code": "rate_limit_exceeded"},
    500: {"message": "The server had an error while processing your request. Sorry about that!",
          "type": "server_error", "param": None, "code": None}}


def oa(prompt: int, completion: int, finish: str, text: str | None = None, cached: int = 0, reasoning: int = 0,
       tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One scripted Chat Completions answer: ``prompt_tokens`` includes ``cached_tokens``,
    ``completion_tokens`` includes ``reasoning_tokens`` (OpenAI API reference, the usage object)."""
    return {"prompt": prompt, "completion": completion, "finish": finish, "text": text, "cached": cached,
            "reasoning": reasoning, "tool_calls": tool_calls}


def _oa_usage(s: dict[str, Any]) -> dict[str, Any]:
    return {"prompt_tokens": s["prompt"], "completion_tokens": s["completion"],
            "total_tokens": s["prompt"] + s["completion"],
            "prompt_tokens_details": {"cached_tokens": s["cached"], "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": s["reasoning"], "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


class OpenAIHandler(_Base):
    def do_POST(self) -> None:
        body = self._body()
        if not self.path.split("?")[0].endswith("/chat/completions"):
            self._send(404, {"error": {"message": "not found", "type": "invalid_request_error", "param": None,
                                       "code": None}})
            return
        step = SCRIPT.next(body)
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            self._send(code, {"error": OPENAI_ERRORS[code]}, {"retry-after": "1"} if code == 429 else {})
            return
        model = body.get("model", "")
        served = OPENAI_SERVED.get(model, model)
        stream = bool(body.get("stream"))
        include_usage = not stream or bool((body.get("stream_options") or {}).get("include_usage"))
        TRUTH_NOW.ok(model, served, step["prompt"], step["completion"], step["cached"], step["reasoning"],
                     step["finish"], include_usage)
        cid, created = SCRIPT.id("chatcmpl-"), int(time.time())
        tool_calls = [{"id": SCRIPT.id("call-"), "type": "function", **tc} for tc in step["tool_calls"] or []]
        if not stream:
            msg: dict[str, Any] = {"role": "assistant", "content": step["text"], "refusal": None,
                                   "annotations": []}
            if tool_calls:
                msg["tool_calls"] = tool_calls
            self._send(200, {"id": cid, "object": "chat.completion", "created": created, "model": served,
                             "choices": [{"index": 0, "message": msg, "logprobs": None,
                                          "finish_reason": step["finish"]}],
                             "usage": _oa_usage(step), "service_tier": "default", "system_fingerprint": "fp_fake"})
            return
        # SSE as the API streams: role first, content deltas, the finish reason, then (only with
        # stream_options.include_usage) a last chunk with empty choices and the usage
        self._sse_start()

        def chunk(delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> None:
            obj: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": served,
                                   "system_fingerprint": "fp_fake", "service_tier": "default",
                                   "choices": [] if delta is None else
                                   [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            if include_usage:
                obj["usage"] = usage
            self._chunk(f"data: {json.dumps(obj)}\n\n".encode())

        chunk({"role": "assistant", "content": "", "refusal": None})
        words = (step["text"] or "").split(" ")
        for j in range(0, len(words), 3):
            chunk({"content": " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")})
        for n, tc in enumerate(tool_calls):
            chunk({"tool_calls": [{"index": n, "id": tc["id"], "type": "function",
                                   "function": {"name": tc["function"]["name"], "arguments": ""}}]})
            chunk({"tool_calls": [{"index": n, "function": {"arguments": tc["function"]["arguments"]}}]})
        chunk({}, step["finish"])
        if include_usage:
            chunk(None, usage=_oa_usage(step))
        self._chunk(b"data: [DONE]\n\n")
        self._sse_end()


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": versions(*packages)})


# --------------------------------------------------------------------------------------------------------
# Microsoft Agent Framework (its own OTel: agent_framework/observability.py)
# --------------------------------------------------------------------------------------------------------

def run_agent_framework(source: str) -> None:
    rec = recorder(source)
    srv = serve(OpenAIHandler)
    import openai
    from agent_framework import Agent
    from agent_framework.exceptions import ChatClientException
    from agent_framework.observability import enable_instrumentation
    from agent_framework.openai import OpenAIChatCompletionClient

    # spans through the global TracerProvider set by Recorder; content on the spans (ENABLE_SENSITIVE_DATA);
    # Agent Framework's default semconv is "latest experimental" (gen_ai.input.messages / output.messages,
    # cache and reasoning usage attributes: observability.py use_latest_experimental_gen_ai_semconv)
    enable_instrumentation(enable_sensitive_data=True)
    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def client(model: str = "gpt-4o-mini") -> Any:
        return OpenAIChatCompletionClient(
            model=model, async_client=openai.AsyncOpenAI(api_key="sk-fake", base_url=base, max_retries=0))

    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    def agent(instructions: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = None, **opts: Any) -> Any:
        return Agent(client=client(model), instructions=instructions, name="support", tools=tools,
                     default_options=opts or None)

    async def main() -> None:
        # healthy: a two-turn conversation in one session
        SCRIPT[:] = [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                     oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
        with rec.root("healthy", "order-status"):
            a = agent(max_tokens=200)
            session = a.create_session()
            await a.run(Q1, session=session)
            await a.run(Q2, session=session)
        rec.flush("healthy")

        # cached: a big static system prompt; the 2nd and 3rd call hit OpenAI's prompt cache
        SCRIPT[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                     oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                     oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
        with rec.root("cached", "policy-qa"):
            a = agent(BIG, max_tokens=300)
            for q in ("When is my refund?", Q1, Q2):
                await a.run(q)
        rec.flush("cached")

        # streaming: 2 streamed calls (the client asks for stream_options.include_usage), the 2nd cut at max_tokens
        SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                     oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                stream = agent(max_tokens=mx).run(q, stream=True)
                async for _ in stream:
                    pass
                await stream.get_final_response()
        rec.flush("streaming")

        # tool_use: o4-mini asks for get_order_status, the agent runs it (execute_tool), then answers
        SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                         {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                     oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
        with rec.root("tool_use", "order-agent"):
            await agent(model="o4-mini", tools=[get_order_status]).run(Q1)
        rec.flush("tool_use")

        # errors: a 429 then a 500 surfaced to the app (max_retries=0)
        SCRIPT[:] = [{"status": 429}, {"status": 500}]
        surfaced: list[str] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).run(Q1)
                except ChatClientException as exc:  # the chat client wraps the openai error
                    surfaced.append(type(exc.__cause__ or exc).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
        rec.flush("errors")

        # duplicate: the identical request twice (temperature 0)
        SCRIPT[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                     oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
        with rec.root("duplicate", "order-status"):
            a = agent(max_tokens=100, temperature=0.0)
            for _ in range(2):
                await a.run(Q1)
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "agent-framework-core", "agent-framework-openai", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# OpenTelemetry contrib's openai-agents-v2 over the Agents SDK: the agents_sdk generator's fake Responses API
# and scenario script, run unchanged with this instrumentation in place of its three
# --------------------------------------------------------------------------------------------------------

def run_openai_agents(source: str) -> None:
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location("agents_sdk_generate", HERE.parent / "agents_sdk" / "generate.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)

    def instrument(_: str, tp: Any) -> None:
        from agents import set_trace_processors

        set_trace_processors([])  # no export of the Agents SDK's traces to api.openai.com
        # content on spans (and events): OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT, read by
        # opentelemetry/instrumentation/openai_agents/__init__.py _resolve_content_mode
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "span_and_event"
        from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        OpenAIAgentsInstrumentor().instrument(tracer_provider=tp)

    gen.instrument = instrument
    with tempfile.TemporaryDirectory() as tmp:
        gen.TRUTH = Path(tmp) / "truth.json"  # the agents_sdk truth file is that generator's; ours is ours
        asyncio.run(gen.run(source))
        scenarios = json.loads(gen.TRUTH.read_text())["scenarios"]
    path = out_dir() / TRUTH.name
    truth = json.loads(path.read_text()) if path.exists() else {}
    truth[source] = {"scenarios": scenarios, "sources": [source], "versions": versions(
        "openai-agents", "opentelemetry-instrumentation-openai-agents-v2", "openai", "opentelemetry-sdk")}
    path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------------------
# OpenLLMetry's provider instrumentations, each against a fake of the provider's own HTTP API
# --------------------------------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "") for j in range(0, len(words), 3)]


# --- fake Ollama API (/api/chat; NDJSON when streaming) -------------------------------------------------

OLLAMA_ERRORS = {429: "you (support-bot) have reached your hourly usage limit, please upgrade to continue",
                 500: "llama runner process has terminated: exit status 2"}


def ol(prompt: int, out: int, done: str = "stop", text: str = "", tool_calls: list[dict[str, Any]] | None = None
       ) -> dict[str, Any]:
    """One scripted /api/chat answer: ``prompt_eval_count`` (input) and ``eval_count`` (output) are Ollama's
    only token counts (docs/api.md "Generate a chat completion"); no cache or thinking count."""
    return {"prompt": prompt, "completion": out, "finish": done, "text": text, "tool_calls": tool_calls}


class OllamaHandler(_Base):
    def do_POST(self) -> None:
        body = self._body()
        if self.path.split("?")[0] != "/api/chat":
            self._send(404, {"error": "404 page not found"})
            return
        step = SCRIPT.next(body)
        if "status" in step:
            TRUTH_NOW.failed()
            self._send(step["status"], {"error": OLLAMA_ERRORS[step["status"]]})
            return
        model = body["model"]
        TRUTH_NOW.ok(model, model, step["prompt"], step["completion"], 0, 0, step["finish"])
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        final = {"model": model, "created_at": created, "done": True, "done_reason": step["finish"],
                 "total_duration": 2_512_000_000, "load_duration": 12_000_000,
                 "prompt_eval_count": step["prompt"], "prompt_eval_duration": 310_000_000,
                 "eval_count": step["completion"], "eval_duration": 2_100_000_000}
        msg: dict[str, Any] = {"role": "assistant", "content": step["text"]}
        if step["tool_calls"]:
            msg["tool_calls"] = [{"function": tc} for tc in step["tool_calls"]]
        if body.get("stream") is False:
            self._send(200, {**final, "message": msg})
            return
        # the API streams by default: one JSON object a line, the last with done=true and the counts
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for piece in _words(step["text"]) if step["text"] else []:
            self._chunk((json.dumps({"model": model, "created_at": created, "message": {
                "role": "assistant", "content": piece}, "done": False}) + "\n").encode())
        last = {**final, "message": {**msg, "content": ""}}
        self._chunk((json.dumps(last) + "\n").encode())
        self._sse_end()


def run_ollama(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    rec = recorder(source)
    from opentelemetry.instrumentation.ollama import OllamaInstrumentor

    OllamaInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OllamaHandler)
    import ollama

    client = ollama.Client(host=f"http://127.0.0.1:{srv.server_address[1]}")
    model = "llama3.2"

    def msgs(*turns: tuple[str, str]) -> list[dict[str, Any]]:
        return [{"role": "system", "content": SYSTEM}] + [{"role": r, "content": t} for r, t in turns]

    SCRIPT[:] = [ol(1200, 150, text="Order A-1001 shipped yesterday and arrives Friday."),
                 ol(1350, 90, text="Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        a1 = client.chat(model=model, messages=msgs(("user", Q1)), options={"num_predict": 200})
        client.chat(model=model, messages=msgs(("user", Q1), ("assistant", a1.message.content or ""), ("user", Q2)),
                    options={"num_predict": 200})
    rec.flush("healthy")

    # streaming: 2 streamed calls, the 2nd cut at num_predict (done_reason length)
    SCRIPT[:] = [ol(640, 48, text="Your order A-1001 shipped yesterday and arrives Friday."),
                 ol(700, 64, "length", text="Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in client.chat(model=model, messages=msgs(("user", q)), options={"num_predict": mx}, stream=True):
                pass
    rec.flush("streaming")

    # tool_use: the model asks for get_order_status (Ollama ends a tool call with done_reason stop), the app
    # runs it, then the model answers
    tools = [{"type": "function", "function": {
        "name": "get_order_status", "description": "Look up the shipping status of an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
    SCRIPT[:] = [ol(420, 22, tool_calls=[{"name": "get_order_status", "arguments": {"order_id": "A-1001"}}]),
                 ol(470, 12, text="Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        history = msgs(("user", Q1))
        for iteration in range(1, 4):
            r = client.chat(model=model, messages=history, tools=tools)
            history.append(r.message.model_dump(exclude_none=True))
            if not r.message.tool_calls:
                break
            for tc in r.message.tool_calls:
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc.function.name, "app.tool.arguments": json.dumps(dict(tc.function.arguments)),
                        "app.iteration": iteration}):
                    out = "shipped" if tc.function.arguments.get("order_id") == "A-1001" else "packing"
                history.append({"role": "tool", "content": out, "tool_name": tc.function.name})
    rec.flush("tool_use")

    # errors: a 429 then a 500 surfaced to the app (the ollama client retries nothing)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                client.chat(model=model, messages=msgs(("user", Q1)), options={"num_predict": 200})
            except ollama.ResponseError as exc:
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [ol(520, 30, text="Order A-1001 shipped yesterday."), ol(520, 30, text="Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            client.chat(model=model, messages=msgs(("user", Q1)), options={"num_predict": 100, "temperature": 0})
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "ollama", "opentelemetry-instrumentation-ollama", "opentelemetry-sdk")


# --- fake Groq / Mistral Chat Completions (OpenAI-like, each with its own usage, errors and stream end) ----

COMPAT_ERRORS = {
    # console.groq.com/docs/errors: OpenAI's error object
    "groq": {429: {"error": {"message": "Rate limit reached for model `llama-3.3-70b-versatile` in organization "
                                        "`org_fake` service tier `on_demand` on tokens per minute (TPM): Limit "
                                        "12000, Used 11800, Requested 520. Please try again in 1.6s.",
                             "type": "tokens", "code": "rate_limit_exceeded"}},
             500: {"error": {"message": "Internal Server Error", "type": "internal_server_error"}}},
    # Mistral's error object (docs.mistral.ai API errors: object / message / type / param / code)
    "mistral": {429: {"object": "error", "message": "Requests rate limit exceeded", "type": "rate_limited",
                      "param": None, "code": "1300"},
                500: {"object": "error", "message": "Internal server error", "type": "internal_server_error",
                      "param": None, "code": "3000"}}}


class CompatHandler(_Base):
    """Groq (``/openai/v1/chat/completions``: usage with queue/prompt/completion times, ``x_groq``; a stream's
    usage in the last chunk's ``x_groq.usage``) or Mistral (``/v1/chat/completions``: a stream's usage in its
    last chunk)."""

    flavor = "groq"

    def do_POST(self) -> None:
        body = self._body()
        if not self.path.split("?")[0].endswith("/chat/completions"):
            self._send(404, {"error": {"message": "Unknown request URL", "type": "invalid_request_error"}})
            return
        step = SCRIPT.next(body)
        if "status" in step:
            TRUTH_NOW.failed()
            self._send(step["status"], COMPAT_ERRORS[self.flavor][step["status"]],
                       {"retry-after": "2"} if step["status"] == 429 else {})
            return
        model = body["model"]
        TRUTH_NOW.ok(model, model, step["prompt"], step["completion"], step["cached"], 0, step["finish"])
        cid, created = SCRIPT.id("chatcmpl" if self.flavor == "groq" else "cmpl"), int(time.time())
        usage: dict[str, Any] = {"prompt_tokens": step["prompt"], "completion_tokens": step["completion"],
                                 "total_tokens": step["prompt"] + step["completion"]}
        if self.flavor == "groq":
            usage = {"queue_time": 0.021, **usage, "prompt_time": 0.012, "completion_time": 0.11, "total_time": 0.122}
        if step["cached"]:
            usage["prompt_tokens_details"] = {"cached_tokens": step["cached"]}
        tool_calls = [{"id": SCRIPT.id("call-")[-9:] if self.flavor == "mistral" else SCRIPT.id("call-"), "type": "function",
                       "function": {"name": tc["name"], "arguments": json.dumps(tc["arguments"])}}
                      for tc in step["tool_calls"] or []]
        x_groq = {"id": SCRIPT.id("req-")}
        if not body.get("stream"):
            msg: dict[str, Any] = {"role": "assistant", "content": step["text"] or ""}
            if tool_calls:
                msg["tool_calls"] = tool_calls
            obj: dict[str, Any] = {"id": cid, "object": "chat.completion", "created": created, "model": model,
                                   "choices": [{"index": 0, "message": msg, "finish_reason": step["finish"]}],
                                   "usage": usage}
            if self.flavor == "groq":
                obj.update({"logprobs": None, "system_fingerprint": "fp_fake", "x_groq": x_groq})
            self._send(200, obj)
            return
        self._sse_start()

        def chunk(delta: dict[str, Any], finish: str | None = None, last: bool = False) -> None:
            c: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if self.flavor == "groq":
                c.update({"system_fingerprint": "fp_fake", "x_groq": {**x_groq, "usage": usage} if last else x_groq})
            elif last:
                c["usage"] = usage
            self._chunk(f"data: {json.dumps(c)}\n\n".encode())

        chunk({"role": "assistant", "content": ""})
        for piece in _words(step["text"]) if step["text"] else []:
            chunk({"content": piece})
        chunk({}, step["finish"], last=True)
        self._chunk(b"data: [DONE]\n\n")
        self._sse_end()


class GroqHandler(CompatHandler):
    flavor = "groq"


class MistralHandler(CompatHandler):
    flavor = "mistral"


def cc(prompt: int, out: int, finish: str = "stop", text: str | None = None, cached: int = 0,
       tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One scripted answer: ``prompt_tokens`` includes ``prompt_tokens_details.cached_tokens``."""
    return {"prompt": prompt, "completion": out, "finish": finish, "text": text, "cached": cached,
            "tool_calls": tool_calls}


TOOLS_OA = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def compat_scenarios(rec: Recorder, model: str, chat: Any, stream: Any, errors: tuple[type, ...],
                     status_of: Any) -> None:
    """The scenarios over an OpenAI-like client: ``chat(messages, **kw)`` -> (content, tool_calls as
    (id, name, arguments dict), the assistant message for the history); ``stream(messages, **kw)`` drains a
    stream."""
    def msgs(*turns: tuple[str, str], system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}] + [{"role": r, "content": t} for r, t in turns]

    SCRIPT[:] = [cc(1200, 150, text="Order A-1001 shipped yesterday and arrives Friday."),
                 cc(1350, 90, text="Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        a1, _, _ = chat(msgs(("user", Q1)), max_tokens=200)
        chat(msgs(("user", Q1), ("assistant", a1), ("user", Q2)), max_tokens=200)
    rec.flush("healthy")

    SCRIPT[:] = [cc(9200, 120, text="Refunds take 5 business days."),
                 cc(9260, 110, text="Order A-1001 shipped.", cached=8960),
                 cc(9310, 100, text="Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            chat(msgs(("user", q), system=BIG), max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = [cc(640, 48, text="Your order A-1001 shipped yesterday and arrives Friday."),
                 cc(700, 64, "length", text="Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream(msgs(("user", q)), max_tokens=mx)
    rec.flush("streaming")

    SCRIPT[:] = [cc(420, 24, "tool_calls", tool_calls=[{"name": "get_order_status", "arguments": {"order_id": "A-1001"}}]),
                 cc(470, 12, text="Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        history = msgs(("user", Q1))
        for iteration in range(1, 4):
            _, calls, message = chat(history, tools=TOOLS_OA)
            history.append(message)
            if not calls:
                break
            for cid, name, args in calls:
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": name, "app.tool.call_id": cid, "app.tool.arguments": json.dumps(args),
                        "app.iteration": iteration}):
                    out = "shipped" if args.get("order_id") == "A-1001" else "packing"
                history.append({"role": "tool", "tool_call_id": cid, "name": name, "content": out})
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                chat(msgs(("user", Q1)), max_tokens=200)
            except errors as exc:
                surfaced.append(status_of(exc))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [cc(520, 30, text="Order A-1001 shipped yesterday."), cc(520, 30, text="Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            chat(msgs(("user", Q1)), max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


def run_groq(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    rec = recorder(source)
    from opentelemetry.instrumentation.groq import GroqInstrumentor

    GroqInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(GroqHandler)
    import groq

    client = groq.Groq(api_key="gsk_fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}", max_retries=0)
    model = "llama-3.3-70b-versatile"

    def chat(messages: list[dict[str, Any]], **kw: Any) -> tuple[str, list[Any], dict[str, Any]]:
        r = client.chat.completions.create(model=model, messages=messages, **kw)
        m = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        return m.content or "", calls, m.model_dump(exclude_none=True)

    def stream(messages: list[dict[str, Any]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=model, messages=messages, stream=True, **kw):
            pass

    compat_scenarios(rec, model, chat, stream, (groq.APIStatusError,), lambda e: e.status_code)
    srv.shutdown()
    write(rec, "groq", "opentelemetry-instrumentation-groq", "opentelemetry-sdk")


def run_mistral(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    rec = recorder(source)
    from opentelemetry.instrumentation.mistralai import MistralAiInstrumentor

    MistralAiInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(MistralHandler)
    from mistralai import Mistral, models

    client = Mistral(api_key="fake", server_url=f"http://127.0.0.1:{srv.server_address[1]}")  # no retry_config
    model = "mistral-small-latest"

    def typed(messages: list[dict[str, Any]]) -> list[Any]:
        """The SDK's message models: the instrumentation reads ``message.content`` / ``message.role`` as
        attributes (opentelemetry-instrumentation-mistralai 0.62.4 __init__.py _set_input_attributes), so
        with plain dicts its prompt attributes are lost (the AttributeError is swallowed by dont_throw)."""
        out: list[Any] = []
        for m in messages:
            if m["role"] == "system":
                out.append(models.SystemMessage(content=m["content"]))
            elif m["role"] == "user":
                out.append(models.UserMessage(content=m["content"]))
            elif m["role"] == "assistant":
                out.append(models.AssistantMessage(content=m["content"], tool_calls=[
                    models.ToolCall(id=tc["id"], function=models.FunctionCall(
                        name=tc["function"]["name"], arguments=tc["function"]["arguments"]))
                    for tc in m.get("tool_calls") or []] or None))
            else:
                out.append(models.ToolMessage(content=m["content"], tool_call_id=m["tool_call_id"], name=m["name"]))
        return out

    def chat(messages: list[dict[str, Any]], **kw: Any) -> tuple[str, list[Any], dict[str, Any]]:
        r = client.chat.complete(model=model, messages=typed(messages), **kw)
        m = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        msg: dict[str, Any] = {"role": "assistant", "content": m.content or ""}
        if m.tool_calls:
            msg["tool_calls"] = [{"id": tc.id, "type": "function", "function": {
                "name": tc.function.name, "arguments": tc.function.arguments}} for tc in m.tool_calls]
        return m.content or "", calls, msg

    def stream(messages: list[dict[str, Any]], **kw: Any) -> None:
        for _ in client.chat.stream(model=model, messages=typed(messages), **kw):
            pass

    compat_scenarios(rec, model, chat, stream, (models.SDKError,), lambda e: e.status_code)
    srv.shutdown()
    write(rec, "mistralai", "opentelemetry-instrumentation-mistralai", "opentelemetry-sdk")


# --- fake Cohere v2 Chat API (/v2/chat; SSE events when streaming) -------------------------------------

COHERE_ERRORS = {429: {"id": "err-fake-429", "message": "You are using a Trial key, which is limited to 10 API calls / "
                                                         "minute. You can continue to use the Trial key for free or "
                                                         "upgrade to a Production key with higher rate limits"},
                 500: {"id": "err-fake-500", "message": "internal server error, this has been reported to our developers"}}


def co(billed_in: int, billed_out: int, tokens_in: int, finish: str = "COMPLETE", text: str | None = None,
       cached: int = 0, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One scripted /v2/chat answer. Cohere's usage has two counts (docs.cohere.com v2 chat reference, Usage):
    ``billed_units`` (what is charged) and ``tokens`` (the model's own: the input includes the prompt template
    and system tokens, so it is larger); ``cached_tokens`` are the prompt tokens that hit the cache."""
    return {"billed_in": billed_in, "billed_out": billed_out, "tokens_in": tokens_in, "finish": finish, "text": text,
            "cached": cached, "tool_calls": tool_calls}


class CohereHandler(_Base):
    def do_POST(self) -> None:
        body = self._body()
        if self.path.split("?")[0] != "/v2/chat":
            self._send(404, {"message": "not found"})
            return
        step = SCRIPT.next(body)
        if "status" in step:
            TRUTH_NOW.failed()
            self._send(step["status"], COHERE_ERRORS[step["status"]])
            return
        model = body["model"]
        # the truth's input / output are the model's own token counts (usage.tokens); billed_* beside them
        TRUTH_NOW.ok(model, model, step["tokens_in"], step["billed_out"], step["cached"], 0, step["finish"])
        t = TRUTH_NOW.by_scenario[TRUTH_NOW.scenario]
        t["billed_input"] = t.get("billed_input", 0) + step["billed_in"]
        t["billed_output"] = t.get("billed_output", 0) + step["billed_out"]
        usage: dict[str, Any] = {"billed_units": {"input_tokens": step["billed_in"], "output_tokens": step["billed_out"]},
                                 "tokens": {"input_tokens": step["tokens_in"], "output_tokens": step["billed_out"]}}
        if step["cached"]:
            usage["cached_tokens"] = step["cached"]
        mid = SCRIPT.id("msg-")
        tool_calls = [{"id": SCRIPT.id("get_order_status-"), "type": "function",
                       "function": {"name": tc["name"], "arguments": json.dumps(tc["arguments"])}}
                      for tc in step["tool_calls"] or []]
        if not body.get("stream"):
            msg: dict[str, Any] = {"role": "assistant"}
            if step["text"]:
                msg["content"] = [{"type": "text", "text": step["text"]}]
            if tool_calls:
                msg["tool_plan"] = "I will look up the order status."
                msg["tool_calls"] = tool_calls
            self._send(200, {"id": mid, "finish_reason": step["finish"], "message": msg, "usage": usage})
            return
        self._sse_start()

        def event(name: str, data: dict[str, Any]) -> None:
            self._chunk(f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode())

        event("message-start", {"id": mid, "delta": {"message": {"role": "assistant", "content": [],
                                                                  "tool_plan": "", "tool_calls": [], "citations": []}}})
        event("content-start", {"index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}})
        for piece in _words(step["text"] or ""):
            event("content-delta", {"index": 0, "delta": {"message": {"content": {"text": piece}}}})
        event("content-end", {"index": 0})
        event("message-end", {"delta": {"finish_reason": step["finish"], "usage": usage}})
        self._chunk(b"data: [DONE]\n\n")
        self._sse_end()


def run_cohere(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    rec = recorder(source)
    from opentelemetry.instrumentation.cohere import CohereInstrumentor

    CohereInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(CohereHandler)
    import cohere
    from cohere.core.api_error import ApiError

    client = cohere.ClientV2(api_key="fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}")
    model = "command-a-03-2025"
    once = {"max_retries": 0}  # the SDK retries 429 / 5xx twice by default (core/http_client.py base_max_retries)
    tools = [{"type": "function", "function": {
        "name": "get_order_status", "description": "Look up the shipping status of an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]

    def msgs(*turns: tuple[str, str], system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}] + [{"role": r, "content": t} for r, t in turns]

    SCRIPT[:] = [co(18, 150, 1240, text="Order A-1001 shipped yesterday and arrives Friday."),
                 co(44, 90, 1390, text="Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        r = client.chat(model=model, messages=msgs(("user", Q1)), max_tokens=200, request_options=once)
        client.chat(model=model, messages=msgs(("user", Q1), ("assistant", r.message.content[0].text), ("user", Q2)),
                    max_tokens=200, request_options=once)
    rec.flush("healthy")

    SCRIPT[:] = [co(9180, 120, 9200, text="Refunds take 5 business days."),
                 co(9240, 110, 9260, text="Order A-1001 shipped.", cached=8960),
                 co(9290, 100, 9310, text="Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            client.chat(model=model, messages=msgs(("user", q), system=BIG), max_tokens=300, request_options=once)
    rec.flush("cached")

    SCRIPT[:] = [co(20, 48, 660, text="Your order A-1001 shipped yesterday and arrives Friday."),
                 co(22, 64, 720, "MAX_TOKENS", text="Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in client.chat_stream(model=model, messages=msgs(("user", q)), max_tokens=mx, request_options=once):
                pass
    rec.flush("streaming")

    SCRIPT[:] = [co(60, 24, 1420, "TOOL_CALL", tool_calls=[{"name": "get_order_status",
                                                             "arguments": {"order_id": "A-1001"}}]),
                 co(95, 12, 1470, text="Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = msgs(("user", Q1))
        for iteration in range(1, 4):
            r = client.chat(model=model, messages=history, tools=tools, request_options=once)
            if not r.message.tool_calls:
                break
            history.append({"role": "assistant", "tool_plan": r.message.tool_plan, "tool_calls": [
                tc.dict() for tc in r.message.tool_calls]})
            for tc in r.message.tool_calls:
                args = json.loads(tc.function.arguments)
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc.function.name, "app.tool.call_id": tc.id,
                        "app.tool.arguments": tc.function.arguments, "app.iteration": iteration}):
                    out = "shipped" if args.get("order_id") == "A-1001" else "packing"
                history.append({"role": "tool", "tool_call_id": tc.id,
                                "content": [{"type": "document", "document": {"data": json.dumps({"status": out})}}]})
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                client.chat(model=model, messages=msgs(("user", Q1)), max_tokens=200, request_options=once)
            except ApiError as exc:  # TooManyRequestsError / InternalServerError
                surfaced.append(exc.status_code or 0)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [co(20, 30, 540, text="Order A-1001 shipped yesterday."), co(20, 30, 540, text="Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            client.chat(model=model, messages=msgs(("user", Q1)), max_tokens=100, temperature=0.0, request_options=once)
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "cohere", "opentelemetry-instrumentation-cohere", "opentelemetry-sdk")


RUNNERS = {"agent-framework-openai": run_agent_framework, "agents-otel": run_openai_agents,
           "ollama-openllmetry": run_ollama, "groq-openllmetry": run_groq, "mistralai-openllmetry": run_mistral,
           "cohere-openllmetry": run_cohere}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
