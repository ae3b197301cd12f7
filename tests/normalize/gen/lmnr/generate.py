"""Capture real spans of the Laminar SDK (PyPI ``lmnr``) over the OpenAI and Anthropic clients, against fakes, with
nothing sent beyond loopback.

Every model-call span in the output was emitted by Laminar's own instrumentations (its forks of OpenLLMetry's,
``lmnr/opentelemetry_lib/opentelemetry/instrumentation/{openai,anthropic}``) wrapping a real client, which talked
HTTP to a fake on 127.0.0.1 started by this script. Spans made by the app, through Laminar's API or ours:

* the trace roots (``workflow``, scope ``fixgen.app``) and, in ``tool_use``, the app's ``tool.get_order_status``;
* ``@observe``-decorated functions around the calls (lmnr/sdk/decorators.py): ``lmnr-openai`` wraps its chat /
  stream / agent-step helpers (``answer``, ``answer_stream``, ``agent_step``: ``lmnr.span.type`` DEFAULT) and the
  tool (``get_order_status``, span_type TOOL, around the app's tool span); ``lmnr-anthropic`` opens a
  ``Laminar.start_as_current_span(<workflow>)`` (DEFAULT) under each root and an ``@observe`` ``ask`` around each
  ``messages.create`` (the anthropic SDK's ``Messages.create`` replaced, after Laminar instrumented it, by that
  helper, as an app would call one). Laminar keeps its own context (opentelemetry_lib/tracing/context.py, "isolated
  from the global context"): an ``@observe`` span starts a trace of its own unless told
  ``preserve_global_context=True``, and ``start_as_current_span`` unless given ``context``; both are, so that each
  scenario is one trace under the app's root. Every Laminar span, its instrumentations' too, has scope
  ``lmnr.tracer`` (the wrapped library's name and version go to ``lmnr.span.instrumentation_scope.*``).

The fakes are the other generators' own, imported unchanged with their truth keeping: the OpenAI-shaped Chat
Completions fake of ``../py_native/generate.py`` (``OpenAIHandler``) with ``../py_vendors2/generate.py``'s
``openai_scenarios`` (streams ask ``stream_options.include_usage``), and the Anthropic Messages fake with the
scenarios of ``../anthropic/generate.py`` (its ``run``, with this script's recorder and no instrumentor of its own;
the anthropic SDK's own tracing off, ``ANTHROPIC_OPEN_TELEMETRY=false``), as ../langtrace/generate.py uses them.

Sources (one process each):

* ``lmnr-openai``     lmnr 0.8.2, ``Laminar.initialize(instruments={Instruments.OPENAI})`` over openai 3.57.0
* ``lmnr-anthropic``  the same SDK, ``instruments={Instruments.ANTHROPIC}``, over anthropic 2.16.0

Laminar exports itself: ``Laminar.initialize`` with a fake project API key, ``base_url`` http://127.0.0.1 and
``http_port`` a loopback OTLP/HTTP receiver of this script (``force_http=True``, ``disable_batch=True``: its
LaminarSpanProcessor over a SimpleSpanProcessor and its HTTP OTLPSpanExporter, gzip, to ``/v1/traces``). The
receiver decodes each ExportTraceServiceRequest; a scenario's line is what was received until its flush: every
span, the app's root included, as Laminar's processor exported it (with its ``lmnr.span.path`` /
``lmnr.span.ids_path`` / ``lmnr.span.sdk_version`` attributes on all of them). Laminar builds and sets the global
TracerProvider (opentelemetry_lib/tracing/__init__.py init_tracing); the Recorder takes it. Its resource's
``service.name`` is ``init_tracing``'s ``app_name`` default, ``sys.argv[0]`` when lmnr is imported: set to
``support-bot`` before the import. Its log exporter (OTel logs, to ``/v1/logs``) gets nothing here.
``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/lmnr
    python3 -m venv /tmp/venv-lmnr && /tmp/venv-lmnr/bin/pip install -r requirements.txt
    /tmp/venv-lmnr/bin/python generate.py lmnr-openai
    /tmp/venv-lmnr/bin/python generate.py lmnr-anthropic

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/lmnr-truth.json`` (the fake's truth fields: py_native's for the OpenAI source,
../anthropic/generate.py's for the Anthropic one, with the versions that made it).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, hexify, serve
from chat_script import Q1, SYSTEM  # the shared prompts
from langtrace.generate import REFUSED, StatusError, loopback_only
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa
from py_vendors2 import generate as pv2
from py_vendors2.generate import openai_scenarios, versions

TRUTH = HERE.parent.parent / "data" / "lmnr-truth.json"
MODEL = "gpt-4o-mini"
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
os.environ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=fixture"


class OTLPSink(JSONHandler):
    """OTLP/HTTP protobuf receiver for Laminar's exporter: keeps every decoded trace request (logs are dropped)."""

    received: ClassVar[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        if self.path.rstrip("/").endswith("/v1/traces"):
            req = ExportTraceServiceRequest()
            req.ParseFromString(raw)
            with OTLPSink.lock:
                OTLPSink.received.append(MessageToDict(req, use_integers_for_enums=True))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()


def collect() -> dict[str, Any]:
    with OTLPSink.lock:
        got, OTLPSink.received[:] = list(OTLPSink.received), []
    return hexify({"resourceSpans": [rs for req in got for rs in req.get("resourceSpans", [])]})  # type: ignore[no-any-return]


def laminar_init(instrument: str) -> Any:
    """``Laminar.initialize`` exporting to our loopback receiver, the one instrumentation ``instrument`` on; the
    global TracerProvider it set."""
    sink = serve(OTLPSink)
    argv0, sys.argv[0] = sys.argv[0], "support-bot"  # init_tracing's app_name default (service.name)
    from lmnr import Instruments, Laminar
    from opentelemetry import trace

    sys.argv[0] = argv0
    Laminar.initialize(project_api_key="lmnr-fake-key", base_url="http://127.0.0.1",
                       http_port=sink.server_address[1], force_http=True, disable_batch=True,
                       instruments={getattr(Instruments, instrument)})
    return trace.get_tracer_provider()


def _load(name: str, rel: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_openai(source: str) -> None:
    tp = laminar_init("OPENAI")
    from lmnr import observe

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, tracer_provider=tp,
                   collect=collect)
    # the tool, as an app decorates it: a TOOL span around the app's own tool span (py_vendors2's tool_span)
    pv2.tool_span = observe(name="get_order_status", span_type="TOOL", ignore_inputs=["rec"],
                           preserve_global_context=True)(pv2.tool_span)
    srv = serve(OpenAIHandler)
    import openai

    client = openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)

    def msgs(turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"role": r, "content": t} for r, t in turns]

    @observe(name="answer", preserve_global_context=True)
    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        try:
            r = client.chat.completions.create(model=MODEL, messages=msgs(turns), **kw)
        except openai.APIStatusError as exc:
            raise StatusError(exc.status_code) from exc
        return str(r.choices[0].message.content)

    @observe(name="answer_stream", preserve_global_context=True)
    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=MODEL, messages=msgs(turns), stream=True,
                                                stream_options={"include_usage": True}, **kw):
            pass

    @observe(name="agent_step", preserve_global_context=True)
    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        m = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else [
            {"role": "tool", "tool_call_id": h[1], "content": h[3]} if isinstance(h, tuple) else h
            for h in history]
        msg = client.chat.completions.create(model=MODEL, messages=m, tools=TOOLS, max_tokens=512).choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in msg.tool_calls or []]
        answer = {"role": "assistant", "content": msg.content,
                  **({"tool_calls": [tc.model_dump() for tc in msg.tool_calls]} if msg.tool_calls else {})}
        return calls, [*m, answer]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (StatusError,))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions("lmnr", "openai", "opentelemetry-sdk")})


def run_anthropic(source: str) -> None:
    """../anthropic/generate.py's scenarios and fake under Laminar's anthropic instrumentation alone (the anthropic
    SDK's own tracing off), each root holding a Laminar span and each ``messages.create`` inside an ``@observe``."""
    anth = _load("anthropic_gen", "anthropic/generate.py")
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    tp = laminar_init("ANTHROPIC")
    import anthropic
    from lmnr import Laminar, observe
    from opentelemetry import context as otel_context

    instrumented = anthropic.resources.messages.Messages.create

    @observe(name="ask", ignore_inputs=["self"], preserve_global_context=True)
    def ask(self: Any, **kw: Any) -> Any:
        return instrumented(self, **kw)

    anthropic.resources.messages.Messages.create = ask  # type: ignore[method-assign,assignment]

    class Rec(Recorder):
        @contextlib.contextmanager
        def root(self, scenario: str, workflow: str) -> Iterator[Any]:
            with super().root(scenario, workflow) as span, Laminar.start_as_current_span(
                    workflow, context=otel_context.get_current()):
                yield span

        def write(self, family: str | None = None, extra: dict[str, Any] | None = None) -> None:
            super().write(source, {"versions": versions("lmnr", "anthropic", "opentelemetry-sdk")})

    anth.recorder = lambda s: Rec(s, TRUTH, anth.TRUTH_NOW.begin, lambda: anth.TRUTH_NOW.by_scenario, HERE,
                                  tracer_provider=tp, collect=collect)
    anth.instrument = lambda s, tp: None
    anth.SOURCES = (*anth.SOURCES, source)
    anth.run(source)


SOURCES = ("lmnr-openai", "lmnr-anthropic")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    (run_anthropic if sys.argv[1] == "lmnr-anthropic" else run_openai)(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
