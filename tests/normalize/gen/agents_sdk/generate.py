"""Capture real spans of the OpenAI Agents SDK (``openai-agents``) against a fake OpenAI Responses API.

Every span in the output was emitted by a real instrumentation library observing real ``agents.Agent`` /
``agents.Runner`` runs (the Agents SDK's own tracing: trace -> agent -> response -> function spans), whose
``AsyncOpenAI`` client (``max_retries=0``) talked HTTP to a fake Responses API server on 127.0.0.1 started by
this script. The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``, attribute
``app.workflow``). The Agents SDK's default exporter (to api.openai.com) is replaced (``set_trace_processors``).

Sources (one process each, so that instrumentors never meet):

* ``agents-openinference`` openinference-instrumentation-openai-agents (Arize), ``OpenAIAgentsInstrumentor``;
                           content captured by default
* ``agents-logfire``       logfire ``logfire.configure(send_to_logfire=False, additional_span_processors=[...])``
                           then ``logfire.instrument_openai_agents()``; content captured by default
* ``agents-logfire-6.0``   the same with logfire 6.0.0b8, the newest release (a pre-release of the next major)
* ``agents-openllmetry``   opentelemetry-instrumentation-openai-agents (Traceloop OpenLLMetry),
                           ``TRACELOOP_TRACE_CONTENT=true``

Versions that produced the captures: openai-agents 0.24.0, openai 3.57.0, opentelemetry-sdk 1.45.2;
openinference-instrumentation-openai-agents 2.6.0, logfire 5.4.0 (``agents-logfire``) and 6.0.0b8
(``agents-logfire-6.0``), opentelemetry-instrumentation-openai-agents 0.62.4. openai-agents 0.24.0 raises ModelBehaviorError for a response that ends ``incomplete`` (streamed or
not: agents/models/openai_responses.py), so the streamed max_output_tokens cut reaches the app as an error
and its response span has an error and no usage in every source.

Re-run (Python 3.11; separate venvs, never the project's .venv; exact versions: requirements.txt for
OpenInference, requirements-logfire.txt, requirements-logfire-6.0.txt, requirements-openllmetry.txt)::

    python3 -m venv /tmp/gen-agents && /tmp/gen-agents/bin/pip install -r requirements.txt
    python3 -m venv /tmp/gen-agents-logfire && /tmp/gen-agents-logfire/bin/pip install -r requirements-logfire.txt
    python3 -m venv /tmp/gen-agents-tl && /tmp/gen-agents-tl/bin/pip install -r requirements-openllmetry.txt
    /tmp/gen-agents/bin/python generate.py agents-openinference
    /tmp/gen-agents-logfire/bin/python generate.py agents-logfire
    python3 -m venv /tmp/gen-agents-lf6 && /tmp/gen-agents-lf6/bin/pip install -r requirements-logfire-6.0.txt
    /tmp/gen-agents-lf6/bin/python generate.py agents-logfire-6.0
    /tmp/gen-agents-tl/bin/python generate.py agents-openllmetry

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format:
``{"scenario", "source", "otlp"}``, OTLP/JSON with hex ids) and merges the fake server's ground truth into
``tests/normalize/data/agents_sdk-truth.json`` (it fails if an earlier source saw a different truth).

Truth per scenario: ``calls`` (HTTP requests answered, failed ones included), ``failed``, ``input`` (the
Responses API's ``usage.input_tokens``, which includes ``input_tokens_details.cached_tokens``), ``cache_read``
(``cached_tokens``), ``cache_write`` (always 0: OpenAI reports none), ``output`` (``output_tokens``, which
includes ``output_tokens_details.reasoning_tokens``), ``reasoning``, ``statuses`` (``completed`` /
``incomplete``, the latter for the max_output_tokens cut), ``models`` (request model, served model).
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
from capture import JSONHandler, Recorder, Script, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "agents_sdk-truth.json"
SOURCES = ("agents-openinference", "agents-logfire", "agents-openllmetry", "agents-logfire-6.0")
SERVED = {"gpt-4.1-mini": "gpt-4.1-mini-2025-04-14", "o4-mini": "o4-mini-2025-04-16"}


# --------------------------------------------------------------------------------------------------------
# fake OpenAI Responses API: answers from a script the generator sets per scenario, keeps the truth
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "input": 0, "cache_read": 0,
                                               "cache_write": 0, "output": 0, "reasoning": 0, "statuses": [],
                                               "models": []})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, served: str, u: dict[str, Any], status: str) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["input"] += u["input_tokens"]
        t["cache_read"] += u["input_tokens_details"]["cached_tokens"]
        t["output"] += u["output_tokens"]
        t["reasoning"] += u["output_tokens_details"]["reasoning_tokens"]
        t["statuses"].append(status)
        t["models"].append([model, served])


TRUTH_NOW = Truth()
#: the answers the server gives next, in order
SCRIPT = Script()


def usage(inp: int, out: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """A Responses API ``usage`` object: ``input_tokens`` includes the cached ones, ``output_tokens`` the
    reasoning ones (OpenAI API reference, "The response object", ``usage``)."""
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": cached}, "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": reasoning}, "total_tokens": inp + out}


ERRORS = {429: {"message": "Rate limit reached for gpt-4.1-mini in organization org-fake on tokens per min (TPM): "
                           "Limit 30000, Used 30000, Requested 900. Please try again in 1.8s.",
                "type": "tokens", "param": None, "code": "rate_limit_exceeded"},
          500: {"message": "The server had an error while processing your request. Sorry about that!",
                "type": "server_error", "param": None, "code": None}}


class ResponsesHandler(JSONHandler):
    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, obj, {"x-request-id": SCRIPT.id("req_68"), **(headers or {})})

    def do_POST(self) -> None:
        body = self.read_json()
        if self.path.split("?")[0] != "/v1/responses":
            self._send(404, {"error": {"message": f"Invalid URL (POST {self.path})", "type": "invalid_request_error",
                                       "param": None, "code": None}})
            return
        step = SCRIPT.next()
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            self._send(code, {"error": ERRORS[code]}, {"retry-after": "1"} if code == 429 else {})
            return
        model = body["model"]
        served = SERVED.get(model, model)
        u = step["usage"]
        cut = step.get("cut", False)
        status = "incomplete" if cut else "completed"
        TRUTH_NOW.ok(model, served, u, status)
        output: list[dict[str, Any]] = []
        if step.get("reasoning"):
            output.append({"type": "reasoning", "id": SCRIPT.id("rs_68"), "summary": []})
        if step.get("text"):
            output.append({"type": "message", "id": SCRIPT.id("msg_68"), "status": status, "role": "assistant",
                           "content": [{"type": "output_text", "text": step["text"], "annotations": [],
                                        "logprobs": []}]})
        if step.get("tool_call"):
            output.append({"type": "function_call", "id": SCRIPT.id("fc_68"), "call_id": SCRIPT.id("call_68"), "status": "completed",
                           "name": step["tool_call"]["name"], "arguments": json.dumps(step["tool_call"]["arguments"])})
        resp = {"id": SCRIPT.id("resp_68"), "object": "response", "created_at": int(time.time()), "status": status,
                "background": False, "error": None,
                "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
                "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
                "max_tool_calls": None, "model": served, "output": output, "parallel_tool_calls": True,
                "previous_response_id": body.get("previous_response_id"), "prompt_cache_key": None,
                "reasoning": {"effort": "medium" if step.get("reasoning") else None, "summary": None},
                "safety_identifier": None, "service_tier": "default", "store": True,
                "temperature": body.get("temperature", 1.0), "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": "auto", "tools": body.get("tools") or [], "top_logprobs": 0,
                "top_p": body.get("top_p", 1.0), "truncation": "disabled", "usage": u, "user": None, "metadata": {}}
        if not body.get("stream"):
            self._send(200, resp)
            return
        self._stream(resp)

    def _stream(self, resp: dict[str, Any]) -> None:
        """Server-sent events as the Responses API streams them (API reference "Streaming events"):
        response.created / in_progress without output or usage, each output item added, its text in deltas,
        done, then response.completed (or response.incomplete for a max_output_tokens cut) with the whole
        response and its usage."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("x-request-id", SCRIPT.id("req_68"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        seq = [0]

        def event(name: str, data: dict[str, Any]) -> None:
            data = {"type": name, "sequence_number": seq[0], **data}
            seq[0] += 1
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        start = {**resp, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
        event("response.created", {"response": start})
        event("response.in_progress", {"response": start})
        for i, item in enumerate(resp["output"]):
            if item["type"] == "message":
                part = item["content"][0]
                event("response.output_item.added", {"output_index": i, "item": {**item, "status": "in_progress",
                                                                                  "content": []}})
                event("response.content_part.added", {"item_id": item["id"], "output_index": i, "content_index": 0,
                                                      "part": {**part, "text": ""}})
                words = part["text"].split(" ")
                for j in range(0, len(words), 3):
                    piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
                    event("response.output_text.delta", {"item_id": item["id"], "output_index": i,
                                                         "content_index": 0, "delta": piece, "logprobs": []})
                event("response.output_text.done", {"item_id": item["id"], "output_index": i, "content_index": 0,
                                                    "text": part["text"], "logprobs": []})
                event("response.content_part.done", {"item_id": item["id"], "output_index": i, "content_index": 0,
                                                     "part": part})
            else:
                event("response.output_item.added", {"output_index": i, "item": item})
            event("response.output_item.done", {"output_index": i, "item": item})
        event("response.incomplete" if resp["status"] == "incomplete" else "response.completed", {"response": resp})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def recorder(source: str) -> Recorder:
    truth = {"begin": TRUTH_NOW.begin, "truth": lambda: TRUTH_NOW.by_scenario}
    if not source.startswith("agents-logfire"):
        return Recorder(source, TRUTH, here=HERE, **truth)
    import logfire
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # logfire builds its own TracerProvider (resource from service_name / environment) and sets it
    # globally; the extra processor hands every span it ends to the in-memory exporter
    spans = InMemorySpanExporter()
    logfire.configure(send_to_logfire=False, service_name="support-bot", environment="fixture", console=False,
                      additional_span_processors=[SimpleSpanProcessor(spans)], inspect_arguments=False)
    return Recorder(source, TRUTH, here=HERE, tracer_provider=trace.get_tracer_provider(), spans=spans, **truth)


# --------------------------------------------------------------------------------------------------------
# instrumentation per source
# --------------------------------------------------------------------------------------------------------

def instrument(source: str, tp: Any) -> None:
    from agents import set_trace_processors

    set_trace_processors([])  # no export of the Agents SDK's traces to api.openai.com
    if source == "agents-openinference":
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

        OpenAIAgentsInstrumentor().instrument(tracer_provider=tp)  # content is captured by default (TraceConfig)
    elif source.startswith("agents-logfire"):
        import logfire

        logfire.instrument_openai_agents()
    elif source == "agents-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor as TLAgentsInstrumentor

        TLAgentsInstrumentor().instrument(tracer_provider=tp)
    else:
        raise SystemExit(f"unknown source {source!r}; one of {SOURCES}")


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

MINI, O4 = "gpt-4.1-mini", "o4-mini"
SYSTEM = "You are a support assistant for ACME. Answer order questions briefly; use get_order_status for live status."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"


async def run(source: str) -> None:
    rec = recorder(source)
    os.environ["OPENAI_AGENTS_DISABLE_TRACING"] = "0"
    instrument(source, rec.tp)
    srv = serve(ResponsesHandler)
    from agents import (
        Agent,
        ModelSettings,
        RunConfig,
        Runner,
        function_tool,
        set_default_openai_api,
        set_default_openai_client,
    )
    from agents.exceptions import ModelBehaviorError
    from openai import APIStatusError, AsyncOpenAI
    from opentelemetry import trace

    client = AsyncOpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)
    set_default_openai_client(client, use_for_tracing=False)
    set_default_openai_api("responses")

    @function_tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    def agent(model: str, tools: bool = False, **settings: Any) -> Any:
        return Agent(name="Support agent", instructions=SYSTEM, model=model,
                     tools=[get_order_status] if tools else [], model_settings=ModelSettings(**settings))

    def cfg(name: str) -> Any:
        return RunConfig(workflow_name=name, trace_include_sensitive_data=True)

    # healthy: 2 runs of one call each, the second continues the conversation
    SCRIPT[:] = [{"usage": usage(420, 38), "text": "Order A-1001 shipped yesterday and arrives Friday."},
                 {"usage": usage(470, 30), "text": "Order A-1002 is being packed today."}]
    with rec.root("healthy", "support-chat"):
        a = agent(MINI)
        r1 = await Runner.run(a, Q1, run_config=cfg("support-chat"))
        await Runner.run(a, r1.to_input_list() + [{"role": "user", "content": Q2}], run_config=cfg("support-chat"))
    rec.flush("healthy")

    # cached: a long static policy in the instructions; the provider reports cached prefix tokens
    policy = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 150
    SCRIPT[:] = [{"usage": usage(1850, 40), "text": "Order A-1001 shipped yesterday."},
                 {"usage": usage(1880, 35, cached=1792), "text": "Order A-1002 is being packed."},
                 {"usage": usage(1900, 44, cached=1792), "text": "Refunds take 5 business days."}]
    with rec.root("cached", "policy-qa"):
        a = Agent(name="Support agent", instructions=policy, model=MINI)
        for q in (Q1, Q2, "How long do refunds take?"):
            await Runner.run(a, q, run_config=cfg("policy-qa"))
    rec.flush("cached")

    # streaming: 2 streamed runs; the second cut by max_output_tokens (status incomplete), a reasoning model
    SCRIPT[:] = [{"usage": usage(400, 52), "text": "Your order A-1001 shipped yesterday and should arrive "
                                                   "within three business days."},
                 {"usage": usage(430, 64, reasoning=40), "cut": True, "reasoning": True,
                  "text": "Here is every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for a, q in ((agent(MINI), Q1), (agent(O4, max_tokens=64), Q2)):
            result = Runner.run_streamed(a, q, run_config=cfg("order-updates"))
            try:
                async for _ in result.stream_events():
                    pass
            except ModelBehaviorError as exc:
                # openai-agents 0.24 ends a stream whose terminal event is response.incomplete with this error
                # (agents/run_internal/run_loop.py run_single_turn_streamed, models/_response_terminal.py):
                # the cut answer is billed and streamed, the run surfaces it to the app
                trace.get_current_span().add_event("app.stream_cut", {"app.error": type(exc).__name__})
    rec.flush("streaming")

    # tool_use: the model asks for get_order_status, the SDK runs the function tool, the model answers
    SCRIPT[:] = [{"usage": usage(610, 120, reasoning=96), "reasoning": True,
                  "tool_call": {"name": "get_order_status", "arguments": {"order_id": "A-1001"}}},
                 {"usage": usage(760, 70, cached=512, reasoning=32), "reasoning": True,
                  "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        await Runner.run(agent(O4, tools=True), Q1, run_config=cfg("order-agent"))
    rec.flush("tool_use")

    # errors: 429 then 500 surfaced to the app (max_retries=0), the app's third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": usage(415, 20), "text": "Order A-1001 shipped yesterday."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                await Runner.run(agent(MINI), Q1, run_config=cfg("account-help"))
                break
            except APIStatusError as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    # duplicate: the identical run twice in a row, temperature 0
    SCRIPT[:] = [{"usage": usage(420, 38), "text": "Order A-1001 shipped yesterday and arrives Friday."},
                 {"usage": usage(420, 38), "text": "Order A-1001 shipped yesterday and arrives Friday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            await Runner.run(agent(MINI, temperature=0), Q1, run_config=cfg("faq"))
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write()
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    asyncio.run(run(sys.argv[1]))
