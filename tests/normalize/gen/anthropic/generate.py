"""Capture real spans from instrumentations of the Anthropic Python SDK against a fake Messages API.

Every span in the output was emitted by a real instrumentation library wrapping the real ``anthropic``
client, which talked HTTP to a fake Anthropic Messages API server on 127.0.0.1 started by this script.
The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``) and, in ``tool_use``,
the app-level tool spans ``tool.get_order_status`` (attributes ``app.*``), as in the shared fixtures.

Sources (one process each, so that instrumentors never meet):

* ``anthropic-openllmetry``   opentelemetry-instrumentation-anthropic (Traceloop OpenLLMetry),
                              ``TRACELOOP_TRACE_CONTENT=true``
* ``anthropic-openinference`` openinference-instrumentation-anthropic (Arize); content captured by default
* ``anthropic-openlit``       openlit (its anthropic instrumentation), ``capture_message_content=True``,
                              cost from the local pricing file ``openlit_pricing.json`` beside this script
                              (anthropic 0.125.0: openlit needs ``anthropic<1``, which has no tracing of its own)
* ``anthropic-sdk``           no library: the anthropic SDK's own tracing (anthropic >= 2, ``anthropic/_tracing.py``,
                              scope ``com.anthropic.sdk.python``, on by default once a TracerProvider is set),
                              ``ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content``

In ``anthropic-openllmetry`` and ``anthropic-openinference`` the SDK's own spans are switched off
(``ANTHROPIC_OPEN_TELEMETRY=false``) so that each library is seen alone; ``anthropic-openllmetry-sdk`` and
``anthropic-openinference-sdk`` are the same runs with the default an application gets: the library's span
and the SDK's span for every call (OpenLLMetry's beside it, OpenInference's over it).

Re-run (Python 3.11; separate venvs, never the project's .venv; exact versions in requirements.txt and
requirements-openlit.txt: openlit 1.45.0 needs ``anthropic<1`` and its full dependency set does not resolve,
so it is installed ``--no-deps`` from the pinned list, as the shared fixtures' openlit env was)::

    python3 -m venv /tmp/gen-anthropic && /tmp/gen-anthropic/bin/pip install -r requirements.txt
    python3 -m venv /tmp/gen-anthropic-openlit && \
        /tmp/gen-anthropic-openlit/bin/pip install --no-deps -r requirements-openlit.txt
    /tmp/gen-anthropic/bin/python generate.py anthropic-openllmetry
    /tmp/gen-anthropic/bin/python generate.py anthropic-openinference
    /tmp/gen-anthropic-openlit/bin/python generate.py anthropic-openlit
    /tmp/gen-anthropic/bin/python generate.py anthropic-sdk
    /tmp/gen-anthropic/bin/python generate.py anthropic-openllmetry-sdk
    /tmp/gen-anthropic/bin/python generate.py anthropic-openinference-sdk

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format:
``{"scenario", "source", "otlp"}``, OTLP/JSON with hex ids) and merges the fake server's ground truth into
``tests/normalize/data/anthropic-truth.json`` (it fails if an earlier source saw a different truth).

Truth per scenario: ``calls`` (HTTP requests answered, failed ones included), ``failed``, ``uncached_input``
(Anthropic's ``usage.input_tokens``), ``cache_read`` (``cache_read_input_tokens``), ``cache_write``
(``cache_creation_input_tokens``), ``output`` (``output_tokens``), ``stop_reasons``, ``models``
(request model, served model) of the successful calls.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "anthropic-truth.json"
SOURCES = ("anthropic-sdk", "anthropic-openllmetry", "anthropic-openinference", "anthropic-openlit",
           "anthropic-openllmetry-sdk", "anthropic-openinference-sdk")
SERVED = {"claude-haiku-4-5": "claude-haiku-4-5-20251001", "claude-sonnet-4-5": "claude-sonnet-4-5-20250929"}


# --------------------------------------------------------------------------------------------------------
# fake Anthropic Messages API: answers from a script the generator sets per scenario, keeps the truth
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "uncached_input": 0, "cache_read": 0,
                                               "cache_write": 0, "output": 0, "stop_reasons": [], "models": []})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, served: str, u: dict[str, Any], stop: str) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["uncached_input"] += u["input_tokens"]
        t["cache_read"] += u.get("cache_read_input_tokens") or 0
        t["cache_write"] += u.get("cache_creation_input_tokens") or 0
        t["output"] += u["output_tokens"]
        t["stop_reasons"].append(stop)
        t["models"].append([model, served])


TRUTH_NOW = Truth()
#: the answers the server gives next, in order
SCRIPT = Script()


def usage(inp: int, out: int, read: int = 0, write: int = 0) -> dict[str, Any]:
    """A Messages API ``usage`` object: ``input_tokens`` is the input that was neither read from nor written
    to the cache (Anthropic prompt-caching docs, "Tracking cache performance")."""
    return {"input_tokens": inp, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out, "service_tier": "standard"}


ERRORS = {429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
          500: ("api_error", "Internal server error"), 529: ("overloaded_error", "Overloaded")}


class AnthropicHandler(JSONHandler):
    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, obj, {"request-id": SCRIPT.id("req_01"), **(headers or {})})

    def do_POST(self) -> None:
        body = self.read_json()
        if self.path.split("?")[0] != "/v1/messages":
            self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
            return
        step = SCRIPT.next()
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            etype, msg = ERRORS[code]
            self._send(code, {"type": "error", "error": {"type": etype, "message": msg}},
                       {"retry-after": "1"} if code == 429 else {})
            return
        model = body["model"]
        served = SERVED.get(model, model)
        u, stop = step["usage"], step["stop"]
        TRUTH_NOW.ok(model, served, u, stop)
        content: list[dict[str, Any]] = []
        if step.get("text"):
            content.append({"type": "text", "text": step["text"]})
        if step.get("tool_use"):
            content.append({"type": "tool_use", "id": SCRIPT.id("toolu_01"), **step["tool_use"]})
        mid = SCRIPT.id("msg_01")
        if not body.get("stream"):
            self._send(200, {"id": mid, "type": "message", "role": "assistant", "model": served,
                             "content": content, "stop_reason": stop, "stop_sequence": None, "usage": u})
            return
        self._stream(mid, served, content, u, stop, step.get("full_delta_usage", False))

    def _stream(self, mid: str, served: str, content: list[dict[str, Any]], u: dict[str, Any], stop: str,
                full_delta_usage: bool) -> None:
        """Server-sent events as the Messages API streams them (docs "Streaming Messages"): message_start
        carries the message with its input usage and ``output_tokens`` so far, message_delta the stop
        reason and the cumulative usage (``output_tokens`` only, as in the docs' example; or, with
        ``full_delta_usage``, every count, as the API sends today)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", SCRIPT.id("req_01"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def event(name: str, data: dict[str, Any]) -> None:
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        start_usage = {**u, "output_tokens": 1}
        event("message_start", {"type": "message_start", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": served, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})
        for i, block in enumerate(content):
            if block["type"] == "text":
                event("content_block_start", {"type": "content_block_start", "index": i,
                                              "content_block": {"type": "text", "text": ""}})
                if i == 0:
                    event("ping", {"type": "ping"})
                words = block["text"].split(" ")
                for j in range(0, len(words), 3):
                    piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
                    event("content_block_delta", {"type": "content_block_delta", "index": i,
                                                  "delta": {"type": "text_delta", "text": piece}})
            else:
                event("content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                event("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                    "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
            event("content_block_stop", {"type": "content_block_stop", "index": i})
        delta_usage: dict[str, Any] = {"output_tokens": u["output_tokens"]}
        if full_delta_usage:
            delta_usage = {k: u[k] for k in ("input_tokens", "cache_creation_input_tokens",
                                             "cache_read_input_tokens", "output_tokens")}
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                "usage": delta_usage})
        event("message_stop", {"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)


# --------------------------------------------------------------------------------------------------------
# instrumentation per source
# --------------------------------------------------------------------------------------------------------

def instrument(source: str, tp: Any) -> None:
    if source == "anthropic-sdk" or not source.endswith("-sdk"):
        # anthropic >= 2 traces its own calls (anthropic/_tracing.py, scope com.anthropic.sdk.python) whenever
        # a global TracerProvider exists: alone in anthropic-sdk (with content), switched off where a library
        # is captured alone, left on (the default an app gets) in the *-sdk sources
        os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "true" if source == "anthropic-sdk" else "false"
        os.environ["ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE"] = "content"
    source = source.removesuffix("-sdk")
    if source == "anthropic":
        return
    if source == "anthropic-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(tracer_provider=tp)
    elif source == "anthropic-openinference":
        from openinference.instrumentation.anthropic import AnthropicInstrumentor as OIAnthropicInstrumentor

        OIAnthropicInstrumentor().instrument(tracer_provider=tp)  # content is captured by default (TraceConfig)
    elif source == "anthropic-openlit":
        import openlit

        openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                     pricing_json=str(HERE / "openlit_pricing.json"), disable_metrics=True, disable_events=True,
                     disabled_instrumentors=[])
    else:
        raise SystemExit(f"unknown source {source!r}; one of {SOURCES}")


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-5"
SYSTEM = "You are a concise customer-support assistant for ACME Corp."
TOOLS = [{"name": "get_order_status", "description": "Look up the shipping status of an order.",
          "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}},
                           "required": ["order_id"]}}]


def run(source: str) -> None:
    rec = recorder(source)
    instrument(source, rec.tp)
    srv = serve(AnthropicHandler)
    import anthropic
    from opentelemetry import trace

    client = anthropic.Anthropic(api_key="sk-ant-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}",
                                 max_retries=0)

    # healthy: 2 calls, both end_turn
    SCRIPT[:] = [{"usage": usage(1200, 150), "stop": "end_turn", "text": "billing"},
                 {"usage": usage(800, 90), "stop": "end_turn",
                  "text": "Sorry about the double charge; a refund is on its way."}]
    with rec.root("healthy", "support-triage"):
        client.messages.create(model=HAIKU, max_tokens=16, system=SYSTEM,
                               messages=[{"role": "user", "content": "Classify: 'I was charged twice.'"}])
        client.messages.create(model=SONNET, max_tokens=200, system=SYSTEM,
                               messages=[{"role": "user", "content": "Write a short apology for the double charge."}])
    rec.flush("healthy")

    # cached: a big static system prompt marked cache_control; the first call writes the cache, later ones read
    big = "POLICY: " + "Refunds are processed within 5 business days of approval. " * 60
    SCRIPT[:] = [{"usage": usage(340, 120, write=8960), "stop": "end_turn", "text": "Refunds take 5 days."},
                 {"usage": usage(300, 110, read=8960), "stop": "end_turn", "text": "Shipping is free over $50."},
                 {"usage": usage(9400, 100, read=8960), "stop": "end_turn", "text": "Returns within 30 days."}]
    system_blocks = [{"type": "text", "text": SYSTEM},
                     {"type": "text", "text": big, "cache_control": {"type": "ephemeral"}}]
    with rec.root("cached", "policy-qa"):
        # the third question carries a long pasted order history: more uncached input than the cache read
        history = "Order history: " + "A-1001 shipped 2025-01-02, delivered 2025-01-05; " * 700
        for q in ("When is my refund?", "Is shipping free?", f"Can I return it?\n{history}"):
            client.messages.create(model=SONNET, max_tokens=300, system=system_blocks,
                                   messages=[{"role": "user", "content": q}])
    rec.flush("cached")

    # streaming: create(stream=True) ending end_turn (message_delta usage as in the docs: output only), then
    # messages.stream() ending max_tokens with a cache read (message_delta usage with every count)
    SCRIPT[:] = [{"usage": usage(500, 200), "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": usage(700, 64, read=4096), "stop": "max_tokens", "full_delta_usage": True,
                  "text": "Here is a detailed history of every shipment event recorded for your order so far"}]
    with rec.root("streaming", "order-updates"):
        stream = client.messages.create(model=HAIKU, max_tokens=400, system=SYSTEM, stream=True,
                                        messages=[{"role": "user", "content": "Where is my order A-1001?"}])
        for _ in stream:
            pass
        with client.messages.stream(model=SONNET, max_tokens=64, system=system_blocks,
                                    messages=[{"role": "user", "content": "List every shipment event."}]) as s:
            # Langtrace's wrapper stream (langtrace-python-sdk 3.8.21 instrumentation/anthropic/patch.py
            # messages_stream, InstrumentedStream) has only __next__ and close: an app iterates its events
            for _ in getattr(s, "text_stream", s):
                pass
            if hasattr(s, "get_final_message"):
                s.get_final_message()
    rec.flush("streaming")

    # tool_use: the model asks for get_order_status twice, the app runs it, then the model answers
    SCRIPT[:] = [{"usage": usage(600, 45), "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": usage(690, 40), "stop": "tool_use",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1002"}}},
                 {"usage": usage(780, 70), "stop": "end_turn",
                  "text": "Order A-1001 has shipped; A-1002 is still being packed."}]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the status of orders A-1001 and A-1002?"}]
        for iteration in range(1, 6):
            msg = client.messages.create(model=SONNET, max_tokens=512, system=SYSTEM, tools=TOOLS, messages=messages)
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
                    status = "shipped" if block.input.get("order_id") == "A-1001" else "packing"
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": status})
            messages.append({"role": "user", "content": results})
    rec.flush("tool_use")

    # errors: 429 then 500 surfaced to the app (max_retries=0), the third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": usage(400, 60), "stop": "end_turn", "text": "Your password was reset."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                client.messages.create(model=HAIKU, max_tokens=128, system=SYSTEM,
                                       messages=[{"role": "user", "content": "Reset my password."}])
                break
            except (anthropic.RateLimitError, anthropic.InternalServerError) as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    # duplicate: the identical request twice in a row
    SCRIPT[:] = [{"usage": usage(900, 80), "stop": "end_turn", "text": "We are open 9-5, Monday to Friday."},
                 {"usage": usage(900, 80), "stop": "end_turn", "text": "We are open 9-5, Monday to Friday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            client.messages.create(model=HAIKU, max_tokens=100, system=SYSTEM,
                                   messages=[{"role": "user", "content": "What are your opening hours?"}])
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write()
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    run(sys.argv[1])
