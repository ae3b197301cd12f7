"""Capture real spans of the OpenAI Responses API called directly (``client.responses.create``) under four
instrumentations of the openai SDK, against a fake Responses API.

Every model-call span in the output was emitted by a real instrumentation library wrapping the real ``openai``
client (``max_retries=0``), which talked HTTP to the fake Responses API of ``../agents_sdk/generate.py``
(``ResponsesHandler``, imported unchanged with its truth keeping: ``usage.input_tokens`` including
``input_tokens_details.cached_tokens``, ``output_tokens`` including ``output_tokens_details.reasoning_tokens``,
``status: incomplete`` with ``incomplete_details.reason: max_output_tokens`` for a cut answer, a
``function_call`` output item, the API's 429 / 500 error bodies, server-sent events ending in
``response.completed`` / ``response.incomplete``). The only spans made here are the trace roots (``workflow``,
scope ``fixgen.app``, attribute ``app.workflow``) and, in ``tool_use``, the app's tool span
``tool.get_order_status``.

Sources (one process each, so that instrumentations never meet):

* ``responses-openinference`` openinference-instrumentation-openai (Arize); content captured by default
* ``responses-openllmetry``   opentelemetry-instrumentation-openai (Traceloop OpenLLMetry),
                              ``TRACELOOP_TRACE_CONTENT=true``
* ``responses-openlit``       openlit (``openlit.init(capture_message_content=True)``, py_vendors2's init)
* ``responses-logfire``       logfire ``instrument_openai()`` (the agents_sdk generator's ``logfire.configure``
                              with an in-memory span processor); content captured by default
* ``responses-logfire-6.0``   the same with logfire 6.0.0b8, the newest release (a pre-release of the next major)

Versions that produced the captures: openai 3.57.0 with openinference-instrumentation-openai 0.1.66 and with
opentelemetry-instrumentation-openai 0.62.4; openai 2.54.0 with openlit 1.45.0 (the openlit2 generator's set);
openai 3.57.0 with logfire 5.4.0 (``responses-logfire``) and with logfire 6.0.0b8 (``responses-logfire-6.0``);
opentelemetry-sdk 1.45.2 throughout.

Not captured: OTel contrib's opentelemetry-instrumentation-openai-v2, latest release 2.4b0, does not instrument
the Responses API: its ``OpenAIInstrumentor._instrument`` (``__init__.py``) wraps only ``Completions.create``,
``AsyncCompletions.create``, ``Embeddings.create`` and ``AsyncEmbeddings.create`` (its ``response_wrappers.py``
is shipped but wired to nothing), so ``client.responses.create`` makes no span at all (tried: six scenarios,
only the app's roots).

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; exact versions in
requirements.txt, one section per venv)::

    cd tests/normalize/gen/responses
    for s in oi tl lit lf lf6; do
      python3 -m venv /tmp/gen-resp-$s
      sed -n "/^# \\[$s\\]/,/^# \\[end\\]/p" requirements.txt > /tmp/req-$s.txt
      /tmp/gen-resp-$s/bin/pip install --no-deps -r /tmp/req-$s.txt  # openlit's full set does not resolve
    done
    /tmp/gen-resp-oi/bin/python generate.py responses-openinference
    /tmp/gen-resp-tl/bin/python generate.py responses-openllmetry
    /tmp/gen-resp-lit/bin/python generate.py responses-openlit
    /tmp/gen-resp-lf/bin/python generate.py responses-logfire
    /tmp/gen-resp-lf6/bin/python generate.py responses-logfire-6.0

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and merges the fake
server's truth into ``tests/normalize/data/responses-truth.json`` (per scenario: ``calls`` answered, failed
included, ``failed``, ``input`` (cache included), ``cache_read``, ``cache_write`` (0: OpenAI reports none),
``output`` (reasoning included), ``reasoning``, ``statuses``, ``models`` [request, served]) with the versions
per source.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from agents_sdk.generate import SCRIPT, TRUTH_NOW, ResponsesHandler, usage
from capture import Recorder, serve

TRUTH = HERE.parent.parent / "data" / "responses-truth.json"
SOURCES = ("responses-openinference", "responses-openllmetry", "responses-openlit", "responses-logfire",
           "responses-logfire-6.0")
PACKAGES = {"responses-openinference": "openinference-instrumentation-openai",
            "responses-openllmetry": "opentelemetry-instrumentation-openai", "responses-openlit": "openlit",
            "responses-logfire": "logfire", "responses-logfire-6.0": "logfire"}
MINI, O4 = "gpt-4.1-mini", "o4-mini"
SYSTEM = "You are a support assistant for ACME. Answer order questions briefly; use get_order_status for live status."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
A1 = "Order A-1001 shipped yesterday and arrives Friday."
TOOLS = [{"type": "function", "name": "get_order_status", "description": "Look up the shipping status of an order.",
          "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"],
                         "additionalProperties": False}, "strict": True}]


#: per scenario, the fake server's answers in order: (input, output, cached, reasoning, what it says) or an
#: HTTP error status; what it says is text, ``CUT`` + text (status incomplete, max_output_tokens) or a tool call
CUT = "\x00cut:"
ANSWERS: dict[str, list[Any]] = {
    "healthy": [(420, 38, 0, 0, A1), (470, 30, 0, 0, "Order A-1002 is being packed today.")],
    "cached": [(1850, 40, 0, 0, "Order A-1001 shipped yesterday."), (1880, 35, 1792, 0, "Order A-1002 is being packed."),
               (1900, 44, 1792, 0, "Refunds take 5 business days.")],
    "streaming": [(400, 52, 0, 0, "Your order A-1001 shipped yesterday and should arrive within three business days."),
                  (430, 64, 0, 40, CUT + "Here is every shipment event recorded for order A-1002 so far")],
    "tool_use": [(610, 120, 0, 96, {"name": "get_order_status", "arguments": {"order_id": "A-1001"}}),
                 (760, 70, 512, 32, "Order A-1001 has shipped.")],
    "errors": [429, 500, (415, 20, 0, 0, "Order A-1001 shipped yesterday.")],
    "duplicate": [(420, 38, 0, 0, A1)] * 2,
}


def answers(scenario: str) -> list[dict[str, Any]]:
    """ANSWERS in the agents_sdk fake server's script format."""
    out: list[dict[str, Any]] = []
    for a in ANSWERS[scenario]:
        if isinstance(a, int):
            out.append({"status": a})
            continue
        inp, n_out, cached, reasoning, says = a
        step: dict[str, Any] = {"usage": usage(inp, n_out, cached=cached, reasoning=reasoning),
                                "reasoning": bool(reasoning)}
        if isinstance(says, dict):
            step["tool_call"] = says
        else:
            step["cut"] = says.startswith(CUT)
            step["text"] = says.removeprefix(CUT)
        out.append(step)
    return out


def instrument(source: str, tp: Any) -> None:
    if source == "responses-openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        OIInstrumentor().instrument(tracer_provider=tp)
    elif source == "responses-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TLInstrumentor

        TLInstrumentor().instrument(tracer_provider=tp)
    elif source == "responses-openlit":
        from py_vendors2.generate import openlit_init

        openlit_init()
    else:
        import logfire

        logfire.instrument_openai()  # every client; content captured by default


def run(source: str) -> None:
    if PACKAGES[source] == "logfire":  # logfire builds the global TracerProvider: the agents_sdk generator's set-up
        from agents_sdk.generate import recorder

        rec = recorder("agents-logfire")
        rec.source, rec.truth_file = source, TRUTH
    else:
        rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    instrument(source, rec.tp)
    srv = serve(ResponsesHandler)
    from openai import APIStatusError, OpenAI
    from opentelemetry import trace

    client = OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)

    def ask(inp: Any, model: str = MINI, stream: bool = False, **kw: Any) -> Any:
        r = client.responses.create(model=model, instructions=kw.pop("instructions", SYSTEM), input=inp,
                                    stream=stream, **kw)
        if not stream:
            return r
        final = None
        for event in r:
            if event.type in ("response.completed", "response.incomplete"):
                final = event.response
        return final

    SCRIPT[:] = answers("healthy")
    with rec.root("healthy", "support-chat"):
        r1 = ask(Q1, max_output_tokens=200)
        ask([{"role": "user", "content": Q1}, {"role": "assistant", "content": r1.output_text},
             {"role": "user", "content": Q2}], max_output_tokens=200)
    rec.flush("healthy")

    policy = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 150
    SCRIPT[:] = answers("cached")
    with rec.root("cached", "policy-qa"):
        for q in (Q1, Q2, "How long do refunds take?"):
            ask(q, instructions=policy)
    rec.flush("cached")

    SCRIPT[:] = answers("streaming")
    with rec.root("streaming", "order-updates"):
        ask(Q1, stream=True)
        cut = ask(Q2, model=O4, stream=True, max_output_tokens=64)
        assert cut is not None and cut.status == "incomplete", cut
    rec.flush("streaming")

    SCRIPT[:] = answers("tool_use")
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = [{"role": "user", "content": Q1}]
        r = ask(history, model=O4, tools=TOOLS)
        call = next(item for item in r.output if item.type == "function_call")
        args = json.loads(call.arguments)
        with rec.app.start_as_current_span("tool.get_order_status", attributes={
                "app.tool.name": call.name, "app.tool.call_id": call.call_id, "app.tool.arguments": call.arguments}):
            status = "shipped" if args["order_id"] == "A-1001" else "packing"
        history += [item.model_dump(exclude_none=True) for item in r.output]
        history.append({"type": "function_call_output", "call_id": call.call_id, "output": status})
        ask(history, model=O4, tools=TOOLS)
    rec.flush("tool_use")

    SCRIPT[:] = answers("errors")
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                ask(Q1)
                break
            except APIStatusError as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    SCRIPT[:] = answers("duplicate")
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            ask(Q1, temperature=0)
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    from importlib.metadata import version

    rec.write(source, {"versions": {n: version(n) for n in ("openai", PACKAGES[source], "opentelemetry-sdk")}})
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    run(sys.argv[1])
