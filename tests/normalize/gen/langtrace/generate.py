"""Capture real spans of the Langtrace Python SDK over the OpenAI and Anthropic clients, and of AgentOps over the
OpenAI client, against fakes, with nothing sent beyond loopback.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client, which
talked HTTP to a fake on 127.0.0.1 started by this script. The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``) and, in ``tool_use``, the app's ``tool.get_order_status`` spans.

The fakes are the other generators' own, imported unchanged with their truth keeping: the OpenAI-shaped Chat
Completions fake of ``../py_native/generate.py`` (``OpenAIHandler``) with ``../py_vendors2/generate.py``'s
``openai_scenarios`` (as ``../together/generate.py`` uses them; streams ask ``stream_options.include_usage``), and
the Anthropic Messages fake with the scenarios of ``../anthropic/generate.py`` (its ``run``, with this script's
recorder and no instrumentor of its own; the anthropic SDK's own tracing off, ``ANTHROPIC_OPEN_TELEMETRY=false``).

Sources (one process each):

* ``langtrace-openai``     langtrace-python-sdk 3.8.21 (``langtrace.init`` with ``custom_remote_exporter`` an
                           in-memory exporter, ``batch=False``, ``api_host`` on loopback,
                           ``disable_instrumentations={"all_except": ["openai"]}``) over openai 3.57.0
* ``langtrace-anthropic``  the same SDK, its anthropic instrumentation alone, over anthropic 2.15.0. Langtrace's
                           ``messages.stream()`` wrapper (instrumentation/anthropic/patch.py messages_stream,
                           ``InstrumentedStream``) has no ``text_stream`` / ``get_final_message``: the scenario
                           iterates its events instead (../anthropic/generate.py). It also appends the ``system``
                           prompt to the caller's ``messages`` list as an assistant turn (``prompts =
                           kwargs.get("messages", [])`` then ``prompts.append``), so that request is sent with it.
* ``agentops-openai``      agentops 0.4.21 over openai 3.57.0, offline: no API key (no JWT is fetched), every
                           endpoint on a loopback sink (``agentops_init``). Its own exporter fails on every batch
                           (``AuthenticatedOTLPExporter`` has no ``_headers``), and its stream wrappers of
                           ``openai.resources.beta.chat`` are skipped (openai 3.x has none); chat completions,
                           streamed or not, are traced.

Langtrace builds and sets its own TracerProvider (langtrace.py setup_tracer_provider), AgentOps too
(agentops/sdk/core.py setup_telemetry): the Recorder takes that provider and our in-memory exporter on it. Their
calls home are switched off where they can be (Langtrace: ``LANGTRACE_ERROR_REPORTING=False``, the release check of
utils/sdk_version_checker.py replaced by a no-op) and refused by ``loopback_only`` otherwise; a run prints what
was refused (nothing, for these three).

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv)::

    cd tests/normalize/gen/langtrace
    sed -n '/^# \\[langtrace\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/lt.txt
    sed -n '/^# \\[agentops\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ao.txt
    python3 -m venv /tmp/lt_venv && /tmp/lt_venv/bin/pip install -r /tmp/lt.txt
    python3 -m venv /tmp/ao_venv && /tmp/ao_venv/bin/pip install -r /tmp/ao.txt
    /tmp/lt_venv/bin/python generate.py langtrace-openai
    /tmp/lt_venv/bin/python generate.py langtrace-anthropic
    /tmp/ao_venv/bin/python generate.py agentops-openai

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/langtrace-truth.json`` (the fake's truth fields: py_native's for the OpenAI sources,
../anthropic/generate.py's for the Anthropic one, with the versions that made it).
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
from capture import REFUSED, JSONHandler, Recorder, loopback_only, serve
from chat_script import Q1, SYSTEM  # the shared prompts
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa
from py_vendors2.generate import openai_scenarios, versions

TRUTH = HERE.parent.parent / "data" / "langtrace-truth.json"
MODEL = "gpt-4o-mini"
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
#: the resource every source reports (Langtrace builds its own TracerProvider: langtrace.py setup_tracer_provider
#: takes service.name from OTEL_SERVICE_NAME, and Resource.create adds OTEL_RESOURCE_ATTRIBUTES)
os.environ.setdefault("OTEL_SERVICE_NAME", "support-bot")
os.environ.setdefault("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=fixture")



def _load(name: str, rel: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def langtrace_init(only: str) -> tuple[Any, Any]:
    """``langtrace.init`` with an in-memory exporter of ours (``custom_remote_exporter``, ``batch=False``: a
    SimpleSpanProcessor on Langtrace's own TracerProvider, langtrace.py add_span_processor), only the instrumentation
    ``only`` on, nothing sent anywhere: ``api_host`` on loopback (without an API key a host left at Langtrace's cloud
    makes init return before it instruments anything; with the custom exporter the host is never dialled), Sentry
    error reporting off (``LANGTRACE_ERROR_REPORTING=False``, init_sentry) and the release check of
    utils/sdk_version_checker.py (a GitHub API request) replaced by a no-op."""
    os.environ["LANGTRACE_ERROR_REPORTING"] = "False"
    from langtrace_python_sdk.utils import sdk_version_checker

    sdk_version_checker.SDKVersionChecker.check = lambda self: None  # type: ignore[method-assign]
    from langtrace_python_sdk import langtrace
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    langtrace.init(custom_remote_exporter=spans, batch=False, api_host="http://127.0.0.1:9",
                   disable_instrumentations={"all_except": [only]})
    return trace.get_tracer_provider(), spans


class Sink(JSONHandler):
    """An OTLP/HTTP receiver on loopback that takes whatever AgentOps' own exporter posts and drops it (our spans
    come from the in-memory exporter on the same provider)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


def agentops_init() -> tuple[Any, Any]:
    """AgentOps without its cloud: no API key (agentops/client/client.py Client.init then starts no auth task, so no
    JWT is fetched), its API and app URLs on loopback, no environment data, no session auto-started (the fixture's
    roots are the traces). Its tracing core is initialized first with both OTLP endpoints, spans and metrics, on a
    loopback sink (agentops/sdk/core.py TracingCore.initialize, setup_telemetry: Client.init's
    initialize_from_config then returns at ``if self._initialized``, as the metrics endpoint is not a Config
    field); our in-memory exporter is added to its TracerProvider."""
    sink = serve(Sink)
    base = f"http://127.0.0.1:{sink.server_address[1]}"
    os.environ.update({"AGENTOPS_API_ENDPOINT": base, "AGENTOPS_APP_URL": base,
                       "AGENTOPS_EXPORTER_ENDPOINT": f"{base}/v1/traces", "AGENTOPS_ENV_DATA_OPT_OUT": "true",
                       "AGENTOPS_LOG_SESSION_REPLAY_URL": "false", "AGENTOPS_PREFETCH_JWT_TOKEN": "false",
                       "AGENTOPS_AUTO_START_SESSION": "false",
                       "AGENTOPS_LOGGING_TO_FILE": "false"})  # else agentops.log in the cwd (logging/config.py)
    os.environ.pop("AGENTOPS_API_KEY", None)
    from agentops.sdk.core import tracer
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer.initialize(jwt_provider=None, service_name="support-bot", exporter_endpoint=f"{base}/v1/traces",
                      metrics_endpoint=f"{base}/v1/metrics")
    import agentops

    agentops.init(api_key=None, auto_start_session=False, instrument_llm_calls=True)
    spans = InMemorySpanExporter()
    tracer.provider.add_span_processor(SimpleSpanProcessor(spans))
    return tracer.provider, spans


class StatusError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


def run_openai(source: str) -> None:
    if source == "langtrace-openai":
        tp, spans = langtrace_init("openai")
        libs: tuple[str, ...] = ("langtrace-python-sdk", "openai")
    elif source == "agentops-openai":
        tp, spans = agentops_init()
        libs = ("agentops", "openai")
    else:
        raise SystemExit(source)
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, tracer_provider=tp,
                   spans=spans)
    srv = serve(OpenAIHandler)
    import openai

    client = openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)

    def msgs(turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"role": r, "content": t} for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        try:
            r = client.chat.completions.create(model=MODEL, messages=msgs(turns), **kw)
        except openai.APIStatusError as exc:
            raise StatusError(exc.status_code) from exc
        return str(r.choices[0].message.content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=MODEL, messages=msgs(turns), stream=True,
                                                stream_options={"include_usage": True}, **kw):
            pass

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
    rec.write(source, {"versions": versions(*libs, "opentelemetry-sdk")})


def run_anthropic(source: str) -> None:
    """../anthropic/generate.py's scenarios and fake, run with Langtrace's anthropic instrumentation alone (the
    anthropic SDK's own tracing off: ``ANTHROPIC_OPEN_TELEMETRY=false``)."""
    anth = _load("anthropic_gen", "anthropic/generate.py")
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    tp, spans = langtrace_init("anthropic")

    class Rec(Recorder):
        def write(self, family: str | None = None, extra: dict[str, Any] | None = None) -> None:
            super().write(source, {"versions": versions("langtrace-python-sdk", "anthropic", "opentelemetry-sdk")})

    anth.recorder = lambda s: Rec(s, TRUTH, anth.TRUTH_NOW.begin, lambda: anth.TRUTH_NOW.by_scenario, HERE,
                                  tracer_provider=tp, spans=spans)
    anth.instrument = lambda s, tp: None
    anth.SOURCES = (*anth.SOURCES, source)
    anth.run(source)


SOURCES = ("langtrace-openai", "langtrace-anthropic", "agentops-openai")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    (run_anthropic if sys.argv[1] == "langtrace-anthropic" else run_openai)(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
