"""Capture real spans of two Langfuse integrations that export OTLP to Langfuse themselves: LiteLLM's
``langfuse_otel`` callback and Haystack's ``LangfuseConnector``, caught by a fake Langfuse host on 127.0.0.1.

Both libraries ship their spans over OTLP/HTTP protobuf to ``{LANGFUSE_HOST}/api/public/otel/v1/traces``
(LiteLLM: integrations/langfuse/langfuse_otel.py ``_build_langfuse_otel_config``, endpoint
``{host}/api/public/otel`` normalised to ``.../v1/traces``, headers ``Authorization: Basic`` and
``x-langfuse-ingestion-version: 4``; Haystack: the Langfuse SDK's own ``LangfuseSpanProcessor``). The fake host here
(``LangfuseHost``) keeps every decoded export request by path and answers anything else with a 404 it reports: the
capture is what the library put on the wire. The app's own spans (the trace roots ``workflow``, scope
``fixgen.app``, and in litellm's ``tool_use`` the app's ``tool.get_order_status``) go to the same host at
``/v1/traces`` from the app's TracerProvider, whose exporter takes ``fixgen.app`` spans only (the Langfuse SDK adds
its processor to that global provider: without the filter its spans would come twice). Every model call talked HTTP
to a fake provider; ``loopback_only`` (../capture.py) refuses any other connection and a run prints what
was refused.

Sources (one process each):

* ``litellm-langfuse-otel-openai``     ``litellm.callbacks = ["langfuse_otel"]`` (LANGFUSE_PUBLIC_KEY /
* ``litellm-langfuse-otel-anthropic``  LANGFUSE_SECRET_KEY fake, ``LANGFUSE_OTEL_HOST`` = the fake host:
                                       langfuse_otel.py ``_get_langfuse_otel_host`` reads it before
                                       LANGFUSE_HOST) over ``litellm.completion(model="openai/..." |
                                       "anthropic/...", num_retries=0, max_retries=0)`` to the fake OpenAI Chat
                                       Completions API of ../litellm_logfire_mlflow and the fake Messages API of
                                       ../anthropic, with ../litellm3's scenarios and answers unchanged (its
                                       ``scripts`` and ``_scenarios``); Langfuse's metadata on every call
                                       (``trace_name`` support-<scenario>, ``session_id``, ``trace_user_id``,
                                       ``tags``) and the app's span as ``litellm_parent_otel_span`` (LiteLLM's
                                       documented parent; without it LiteLLM writes the call's attributes onto the
                                       app's current span, opentelemetry.py ``_handle_success``)
* ``langfuse-haystack``                langfuse-haystack's ``LangfuseConnector("support-bot")`` in each of the
                                       app's Haystack ``Pipeline``s, connected to nothing (its documented use),
                                       beside an ``OpenAIChatGenerator`` (``api_base_url`` the fake OpenAI of
                                       ../py_native, ``max_retries=0``); ``HAYSTACK_CONTENT_TRACING_ENABLED=true``,
                                       ``LANGFUSE_HOST`` the fake host; py_vendors2's ``openai_scenarios`` as ../oi4
                                       runs them, but the tool turn is one Haystack ``Agent`` run (haystack-ai 3
                                       has no ToolInvoker component: the Agent calls the model, runs the tool and
                                       calls the model again, components/agents/agent.py, tool_calling.py), so
                                       py_vendors2's app-level tool span is not made. The connector answers its
                                       run with the trace's URL, for which the Langfuse client asks the host for
                                       the keys' project (GET /api/public/projects, answered here)

Resource: ``OTEL_SERVICE_NAME=support-bot``, ``OTEL_RESOURCE_ATTRIBUTES=deployment.environment=fixture`` (set by
importing ../langtrace/generate.py, as an app sets them): LiteLLM's private TracerProvider reads them, the Langfuse
SDK uses the app's global provider and its resource.

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv)::

    cd tests/normalize/gen/lfint
    sed -n '/^# \\[litellm\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/lfint-litellm.txt   # likewise [haystack]
    python3 -m venv /tmp/lfint/litellm && /tmp/lfint/litellm/bin/pip install -r /tmp/lfint-litellm.txt
    /tmp/lfint/litellm/bin/python generate.py litellm-langfuse-otel-openai
    /tmp/lfint/litellm/bin/python generate.py litellm-langfuse-otel-anthropic
    /tmp/lfint/hay/bin/python generate.py langfuse-haystack

Versions: litellm 1.110.2 (openai 3.57.0); haystack-ai 3.4.1, langfuse-haystack 8.0.0, langfuse 5.2.0 (openai
3.57.0); opentelemetry-sdk 1.45.2 (per source ``versions`` in the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and merges the fake
provider's truth into ``tests/normalize/data/lfint-truth.json`` under ``openai`` / ``anthropic`` (../litellm3's
truth keeping: OpenAI's prompt_tokens incl. cached, Anthropic's ``uncached_input`` apart from cache read / write)
or ``haystack`` (../py_native's: ``input`` = prompt_tokens incl. cached, ``output`` incl. reasoning).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import RESOURCE, JSONHandler, Recorder, hexify, serve
from langtrace.generate import REFUSED, loopback_only

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "lfint-truth.json"
SOURCES = ("litellm-langfuse-otel-openai", "litellm-langfuse-otel-anthropic", "langfuse-haystack")
OTEL_PATH = "/api/public/otel/v1/traces"
APP_PATH = "/v1/traces"
PROJECTS_PATH = "/api/public/projects"


# --------------------------------------------------------------------------------------------------------
# the fake Langfuse host: OTLP/HTTP protobuf in, kept by path; anything else is reported
# --------------------------------------------------------------------------------------------------------

class LangfuseHost(JSONHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    other: ClassVar[list[str]] = []
    answered: ClassVar[list[str]] = []
    auth: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def do_POST(self) -> None:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n)
        path = self.path.split("?")[0]
        if path not in (OTEL_PATH, APP_PATH):
            with self.lock:
                LangfuseHost.other.append(f"POST {path}")
            self.send_json(404, {"message": "not found"})
            return
        if self.headers.get("content-encoding") == "gzip":
            import gzip

            raw = gzip.decompress(raw)
        req = ExportTraceServiceRequest()
        req.ParseFromString(raw)
        with self.lock:
            LangfuseHost.received.append((path, MessageToDict(req, use_integers_for_enums=True)))
            if path == OTEL_PATH:
                LangfuseHost.auth.add(str(self.headers.get("authorization", ""))[:6])
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == PROJECTS_PATH:
            # LangfuseConnector.run returns the trace's URL (haystack_integrations/components/connectors/langfuse/
            # langfuse_connector.py run -> Langfuse.get_trace_url), which needs the keys' project (client.py
            # _get_project_id: GET /api/public/projects, the Projects type of api/projects/types)
            with self.lock:
                LangfuseHost.answered.append(f"GET {path}")
            self.send_json(200, {"data": [{"id": "proj-fake", "name": "support-bot", "metadata": {},
                                           "organization": {"id": "org-fake", "name": "ACME"}}]})
            return
        with self.lock:
            LangfuseHost.other.append(f"GET {path}")
        self.send_json(404, {"message": "not found"})


def take() -> dict[str, Any]:
    """What the host received since the last take, in arrival order, as one OTLP/JSON request body."""
    with LangfuseHost.lock:
        got, LangfuseHost.received[:] = list(LangfuseHost.received), []
    return hexify({"resourceSpans": [rs for _, req in got for rs in req.get("resourceSpans", [])]})  # type: ignore[no-any-return]


def app_provider(host: str) -> Any:
    """The app's global TracerProvider: its own spans (scope fixgen.app) over OTLP/HTTP to the host."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    class AppOnly(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            if span.instrumentation_scope is not None and span.instrumentation_scope.name == "fixgen.app":
                super().on_end(span)

    tp = TracerProvider(resource=Resource.create(RESOURCE))
    tp.add_span_processor(AppOnly(OTLPSpanExporter(endpoint=host + APP_PATH)))
    trace.set_tracer_provider(tp)
    return tp


def finish(source: str, rec: Recorder, family: str, packages: tuple[str, ...]) -> None:
    from importlib.metadata import version

    rec.write(family, {"versions": {n: version(n) for n in packages}})
    print(f"{source}: connections refused beyond loopback: {REFUSED or 'none'}; "
          f"other requests to the Langfuse host: {LangfuseHost.other or 'none'}; API calls answered: "
          f"{sorted(set(LangfuseHost.answered)) or 'none'}; auth {sorted(LangfuseHost.auth)}")
    assert not LangfuseHost.other, LangfuseHost.other


# --------------------------------------------------------------------------------------------------------
# LiteLLM's langfuse_otel callback over litellm.completion (../litellm3's scenarios)
# --------------------------------------------------------------------------------------------------------

def run_litellm(source: str, host: str) -> None:
    import litellm3.generate as l3

    provider = source.rsplit("-", 1)[1]
    fake = l3.oai if provider == "openai" else l3.ant
    os.environ.update(LANGFUSE_PUBLIC_KEY="pk-lf-fake", LANGFUSE_SECRET_KEY="sk-lf-fake", LANGFUSE_OTEL_HOST=host,
                      LITELLM_LOCAL_MODEL_COST_MAP="True", OTEL_BSP_SCHEDULE_DELAY="100")
    srv = serve(l3.oai.OpenAIHandler if provider == "openai" else l3.ant.AnthropicHandler)
    url = f"http://127.0.0.1:{srv.server_address[1]}" + ("/v1" if provider == "openai" else "")
    tp = app_provider(host)
    import litellm
    from litellm.litellm_core_utils import litellm_logging
    from opentelemetry import trace

    litellm.callbacks = ["langfuse_otel"]

    def collect() -> dict[str, Any]:
        # the success / failure callbacks run on LiteLLM's thread pool after the call returns (Recorder's settle),
        # the spans then wait in the logger's BatchSpanProcessor (opentelemetry.py _get_span_processor): flush it
        for cb in litellm_logging._in_memory_loggers:
            if type(cb).__name__ == "LangfuseOtelLogger":
                cb._tracer_provider.force_flush()
        return take()

    rec = Recorder(source, TRUTH, fake.TRUTH_NOW.begin, lambda: fake.TRUTH_NOW.by_scenario, HERE,
                   tracer_provider=tp, collect=collect, settle=1.0)

    def call(model: str, messages: list[dict[str, Any]], stream: bool, **kw: Any) -> Any:
        if stream:
            kw["stream_options"] = {"include_usage": True}
        scenario = fake.TRUTH_NOW.scenario
        metadata = {"litellm_parent_otel_span": trace.get_current_span(), "trace_name": f"support-{scenario}",
                    "session_id": f"session-{scenario}", "trace_user_id": "user-42", "tags": ["support-bot"]}
        return litellm.completion(model=f"{provider}/{model}", messages=messages, api_base=url, api_key="sk-fake",
                                  num_retries=0, max_retries=0, stream=stream, metadata=metadata, **kw)

    def chat(model: str, messages: list[dict[str, Any]], stream: bool = False, **kw: Any) -> Any:
        if stream:
            text, fin = "", None
            for ch in call(model, messages, True, **kw):
                if ch.choices:
                    text += ch.choices[0].delta.content or ""
                    fin = ch.choices[0].finish_reason or fin
            return text, [], fin
        r = call(model, messages, False, **kw)
        m = r.choices[0].message
        return m.content, [(t.id, t.function.name, json.loads(t.function.arguments)) for t in m.tool_calls or []], \
            r.choices[0].finish_reason

    chat.errors = (litellm.RateLimitError, litellm.InternalServerError)  # type: ignore[attr-defined]
    l3._scenarios(rec, chat, provider, fake)
    assert not fake.SCRIPT, f"unused answers: {fake.SCRIPT}"
    srv.shutdown()
    finish(source, rec, provider, ("litellm", "openai", "opentelemetry-sdk"))


# --------------------------------------------------------------------------------------------------------
# Haystack's LangfuseConnector over OpenAIChatGenerator (py_vendors2's openai_scenarios, ../py_native's fake)
# --------------------------------------------------------------------------------------------------------

def run_haystack(source: str, host: str) -> None:
    os.environ.update(LANGFUSE_PUBLIC_KEY="pk-lf-fake", LANGFUSE_SECRET_KEY="sk-lf-fake", LANGFUSE_HOST=host,
                      HAYSTACK_CONTENT_TRACING_ENABLED="true", HAYSTACK_TELEMETRY_ENABLED="False")
    import py_vendors2.generate as pv2
    from py_native.generate import SCRIPT, TOOLS_OA, TRUTH_NOW, OpenAIHandler, oa

    tp = app_provider(host)
    srv = serve(OpenAIHandler)
    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    import openai
    from haystack import Pipeline, tracing
    from haystack.components.agents import Agent
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.core.errors import PipelineRuntimeError
    from haystack.dataclasses import ChatMessage
    from haystack.tools import Tool
    from haystack.utils import Secret
    from haystack_integrations.components.connectors.langfuse import LangfuseConnector
    from haystack_integrations.tracing.langfuse import LangfuseTracer

    def collect() -> dict[str, Any]:
        # the connector flushes after every component (HAYSTACK_LANGFUSE_ENFORCE_FLUSH, default true); once more
        if isinstance(tracing.tracer.actual_tracer, LangfuseTracer):
            tracing.tracer.actual_tracer.flush()
        return take()

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE,
                   tracer_provider=tp, collect=collect, settle=0.2)

    fn = TOOLS_OA[0]["function"]
    tool = Tool(name=fn["name"], description=fn["description"], parameters=fn["parameters"],
                function=lambda order_id: "shipped" if order_id == "A-1001" else "packing")

    #: every connector's warm_up enables its tracer for the whole process (langfuse_connector.py warm_up:
    #: ``tracing.enable_tracing``): one name for all, as the last one warmed up names every trace after it
    pipes: dict[str, Any] = {}

    def pipe(kind: str) -> Any:
        """The app's pipelines, built once (a component belongs to one Pipeline: one connector each), each with
        the connector beside its generator, connected to nothing, as the connector's documentation shows."""
        if kind not in pipes:
            p = pipes[kind] = Pipeline()
            p.add_component("tracer", LangfuseConnector("support-bot"))
            if kind == "agent":
                p.add_component("agent", Agent(chat_generator=OpenAIChatGenerator(
                    api_key=Secret.from_token("sk-fake"), model="o4-mini", api_base_url=base, max_retries=0),
                    tools=[tool]))
            else:
                p.add_component("llm", OpenAIChatGenerator(
                    api_key=Secret.from_token("sk-fake"), model="gpt-4o-mini", api_base_url=base, max_retries=0,
                    streaming_callback=(lambda chunk: None) if kind == "stream" else None))
        return pipes[kind]

    def msgs(turns: list[Any]) -> list[Any]:
        return [t if isinstance(t, ChatMessage) else getattr(ChatMessage, f"from_{t[0]}")(t[1]) for t in turns]

    def run(p: Any, messages: list[Any], **kw: Any) -> Any:
        try:
            return p.run({"llm": {"messages": messages, "generation_kwargs": kw}})
        except PipelineRuntimeError as exc:  # Pipeline.run wraps a component's error: surface the SDK's
            cause: BaseException | None = exc
            while cause is not None and not isinstance(cause, openai.APIStatusError):
                cause = cause.__cause__
            raise cause or exc from None

    def chat(turns: list[Any], **kw: Any) -> str:
        return str(run(pipe("chat"), msgs(turns), **kw)["llm"]["replies"][0].text)

    def stream(turns: list[Any], **kw: Any) -> None:
        # the usage chunk only when asked for: OpenAIChatGenerator passes generation_kwargs on
        run(pipe("stream"), msgs(turns), stream_options={"include_usage": True}, **kw)

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        """The whole tool turn in one Agent run (haystack-ai 3's tool calling, components/agents/agent.py): the model
        asks for the tool, the Agent runs it (tool_calling.py, a ``haystack.agent.step.tool`` span), the model
        answers; nothing left for py_vendors2's loop (no tool calls returned), its app-level tool span unused."""
        assert history is None
        out = pipe("agent").run({"agent": {"messages": msgs([("system", pv2.SYSTEM), ("user", pv2.Q1)])}})
        messages = out["agent"]["messages"]
        assert [m.tool_call_result.result for m in messages if m.tool_call_result] == ["shipped"], messages
        return [], messages

    pv2.openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    srv.shutdown()
    finish(source, rec, "haystack", ("haystack-ai", "langfuse-haystack", "langfuse", "openai", "opentelemetry-sdk"))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    loopback_only()
    host_srv = serve(LangfuseHost)
    langfuse_host = f"http://127.0.0.1:{host_srv.server_address[1]}"
    (run_haystack if sys.argv[1] == "langfuse-haystack" else run_litellm)(sys.argv[1], langfuse_host)
    time.sleep(0.2)
    host_srv.shutdown()
