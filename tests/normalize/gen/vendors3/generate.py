"""Capture real spans from OpenLIT's Bedrock and Ollama, OpenLLMetry's Vertex AI and Haystack instrumentations.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client SDK,
which talked HTTP to a fake of the provider's own API on 127.0.0.1 started by this script. The only spans made
here are the trace roots (``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and, in ``tool_use``,
the app-level tool span ``tool.get_order_status`` (attributes ``app.*``): the app runs the tool itself.

The fake servers are imported unchanged with their truth keeping: the Bedrock Runtime fake of
``../bedrock/generate.py`` (``BedrockHandler``: Converse / ConverseStream with the AWS event-stream framing,
``TokenUsage`` whose ``inputTokens`` leaves the cache out beside ``cacheReadInputTokens`` /
``cacheWriteInputTokens``, ThrottlingException / InternalServerException errors) and the Ollama ``/api/chat``
fake of ``../py_native/generate.py`` (``OllamaHandler``: ``prompt_eval_count`` / ``eval_count``, NDJSON
streaming, ``done_reason``; Ollama reports no cache or thinking count), and the Vertex AI REST fake of
``../contrib3/generate.py`` (``vertex_handler``, with the Gemini fake's truth and usageMetadata of
``../gemini_langchain/generate.py``).

Sources (one process each):

* ``openlit-bedrock``  openlit 1.45.0 (``openlit.init(capture_message_content=True)``) over boto3
                       ``bedrock-runtime`` ``converse`` / ``converse_stream`` (OpenLIT wraps only these two:
                       instrumentation/bedrock/bedrock.py replaces ``client.converse`` / ``converse_stream`` in
                       ``ClientCreator.create_client``), ``endpoint_url`` to loopback, dummy credentials,
                       ``total_max_attempts=1`` (no botocore retries)
* ``openlit-ollama``   openlit 1.45.0 over the ollama Python client (instrumentation/ollama/__init__.py wraps
                       ``ollama._client.Client._request``); the scenarios are ``run_ollama``'s of
                       ../py_native/generate.py (the ones ``ollama-openllmetry`` was captured with), run with
                       OpenLIT in place of OpenLLMetry's instrumentor: healthy, streaming, tool_use, errors,
                       duplicate (no ``cached``: the API has no cache count)
* ``openllmetry-vertexai`` Traceloop's opentelemetry-instrumentation-vertexai 0.62.4 (``TRACELOOP_TRACE_CONTENT=
                       true``) over google-cloud-aiplatform 2.7.0 ``vertexai.generative_models`` (REST transport,
                       ``api_endpoint`` to loopback, anonymous credentials); no ``tool_use`` (see run_vertex)
* ``openllmetry-haystack`` Traceloop's opentelemetry-instrumentation-haystack 0.62.4 with opentelemetry-
                       instrumentation-openai 0.62.4 over a haystack-ai 2.31.0 ``Pipeline`` of ``OpenAIChatGenerator``
                       against py_native's fake OpenAI (the scenarios of ../py_vendors2: ``openai_scenarios``); the
                       instrumentation cannot wrap haystack-ai 3.x (its WRAPPED_METHODS name
                       ``haystack.components.generators.openai``, gone in 3.x: TargetModuleNotFoundError)

OpenLIT prices from ``../py_vendors2/openlit_pricing.json`` (no network).

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv; openlit 1.45.0's full dependency set does not resolve, so its section is installed
``--no-deps`` as in ../py_vendors2)::

    cd tests/normalize/gen/vendors3
    sed -n '/^# \\[openlit\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/v3-ol.txt
    sed -n '/^# \\[openllmetry\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/v3-tl.txt
    python3 -m venv /tmp/v3/openlit && /tmp/v3/openlit/bin/pip install --no-deps -r /tmp/v3-ol.txt
    python3 -m venv /tmp/v3/tl && /tmp/v3/tl/bin/pip install -r /tmp/v3-tl.txt
    /tmp/v3/openlit/bin/python generate.py openlit-bedrock
    /tmp/v3/openlit/bin/python generate.py openlit-ollama
    /tmp/v3/tl/bin/python generate.py openllmetry-vertexai
    /tmp/v3/tl/bin/python generate.py openllmetry-haystack

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and sets its entry in
``tests/normalize/data/vendors3-truth.json`` with the versions that made it. Bedrock's truth is the bedrock
generator's (``uncached_input``, ``cache_read``, ``cache_write``, ``output``, ``stop_reasons``, ``models``) with
``input`` beside it: the semantic conventions' input, cache reads and writes included; Ollama's is py_native's
(``input`` = ``prompt_eval_count``, ``output`` = ``eval_count``, ``finish_reasons``, ``models``); Vertex AI's the
Gemini fake's (``input`` = promptTokenCount + toolUsePromptTokenCount, ``output`` = candidatesTokenCount +
thoughtsTokenCount, ``cache_read``, ``reasoning``, ``finish_reasons``, ``models``); Haystack's py_native's
OpenAI truth (``prompt_tokens`` with cached_tokens inside, ``completion_tokens`` with reasoning_tokens inside).
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "vendors3-truth.json"
SOURCES = ("openlit-bedrock", "openlit-ollama", "openllmetry-vertexai", "openllmetry-haystack")
SYSTEM = "You are a support assistant for ACME. Answer in one or two sentences."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def openlit_init() -> None:
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                 disable_events=True)


def run_bedrock(source: str) -> None:
    """The streams are drained by iterating what ``converse_stream`` returns, OpenLIT's ``TracedSyncStream``
    (openlit 1.45.0 instrumentation/bedrock/bedrock.py), as OpenLIT expects: only its ``__next__`` ends the
    call's span (a second span of the same name, started at ``StopIteration``). boto3's documented
    ``response["stream"]`` goes through its ``__getitem__`` to the raw EventStream: no span ends at all (the one
    ``converse_stream_wrapper`` starts with ``tracer.start_span`` is ended only on an error), and the call is
    not traced."""
    from bedrock.generate import HAIKU, SCRIPT, SONNET, TOOLS, TRUTH_NOW, BedrockHandler, user

    def truth() -> dict[str, Any]:
        return {sc: {**t, "input": t["uncached_input"] + t["cache_read"] + t["cache_write"]}
                for sc, t in TRUTH_NOW.by_scenario.items()}

    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, truth, HERE)
    openlit_init()
    srv = serve(BedrockHandler)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    system = [{"text": SYSTEM}]

    def converse(model: str, messages: list[dict[str, Any]], mx: int, sys_: Any = None, **kw: Any) -> Any:
        return client.converse(modelId=model, system=sys_ or system, messages=messages,
                               inferenceConfig={"maxTokens": mx, **kw.pop("cfg", {})}, **kw)

    SCRIPT[:] = [{"usage": {"in": 1200, "out": 150}, "stop": "end_turn",
                  "text": "Order A-1001 shipped on Monday and arrives tomorrow."},
                 {"usage": {"in": 1380, "out": 90}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    with rec.root("healthy", "order-status"):
        r = converse(HAIKU, [user(Q1)], 200)
        converse(HAIKU, [user(Q1), r["output"]["message"], user(Q2)], 200)
    rec.flush("healthy")

    # cached: a big static system prompt behind a cachePoint; the 1st call writes the cache, the others read it
    big = "POLICY: " + "Refunds are processed within 5 business days of approval. " * 60
    cached_system = [{"text": SYSTEM}, {"text": big}, {"cachePoint": {"type": "default"}}]
    SCRIPT[:] = [{"usage": {"in": 40, "out": 30, "write": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."},
                 {"usage": {"in": 35, "out": 28, "read": 2048}, "stop": "end_turn", "text": "It shipped."},
                 {"usage": {"in": 3100, "out": 45, "read": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."}]
    # the 3rd question brings a long order history: more uncached input than the cache read
    history = "Order history: " + "A-1003 shipped 2025-01-02, delivered 2025-01-05; " * 120
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, f"When is my refund for A-1003?\n{history}"):
            converse(SONNET, [user(q)], 300, cached_system)
    rec.flush("cached")

    # streaming: ConverseStream ending end_turn, then one cut at maxTokens (with a cache read)
    SCRIPT[:] = [{"usage": {"in": 500, "out": 200}, "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": {"in": 700, "out": 64, "read": 2048}, "stop": "max_tokens",
                  "text": "Here is a detailed history of every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for model, q, mx, sys_ in ((HAIKU, Q1, 400, system), (SONNET, Q2 + " List every shipment event.", 64,
                                                               cached_system)):
            r = client.converse_stream(modelId=model, system=sys_, messages=[user(q)],
                                       inferenceConfig={"maxTokens": mx})
            for _ in r:  # OpenLIT's TracedSyncStream: see run_bedrock's docstring
                pass
    rec.flush("streaming")

    SCRIPT[:] = [{"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": {"in": 690, "out": 40}, "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [user(Q1)]
        for iteration in range(1, 4):
            r = converse(SONNET, messages, 512, toolConfig=TOOLS)
            if r["stopReason"] != "tool_use":
                break
            msg = r["output"]["message"]
            messages.append(msg)
            results = []
            for tu in (b["toolUse"] for b in msg["content"] if "toolUse" in b):
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tu["name"], "app.tool.call_id": tu["toolUseId"],
                        "app.tool.arguments": json.dumps(tu["input"]), "app.iteration": iteration}):
                    status = "shipped" if tu["input"].get("order_id") == "A-1001" else "packing"
                results.append({"toolResult": {"toolUseId": tu["toolUseId"], "content": [{"text": status}]}})
            messages.append({"role": "user", "content": results})
    rec.flush("tool_use")

    # errors: a 429 then a 500 surfaced to the app (no botocore retries)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                converse(HAIKU, [user(Q1)], 200)
            except ClientError as exc:
                surfaced.append(exc.response["Error"]["Code"])
    assert surfaced == ["ThrottlingException", "InternalServerException"], surfaced
    rec.flush("errors")

    SCRIPT[:] = [{"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                 {"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            converse(HAIKU, [user(Q1)], 100, cfg={"temperature": 0})
    rec.flush("duplicate")
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    srv.shutdown()
    rec.write(source, {"versions": versions("openlit", "boto3", "botocore", "opentelemetry-sdk")})


def run_ollama(source: str) -> None:
    """py_native's Ollama scenarios as they are, with OpenLIT instrumenting: its ``run_ollama`` looks up
    ``recorder``, ``write`` and OpenLLMetry's ``OllamaInstrumentor`` when called, and gets ours."""
    import py_native.generate as pn

    pn.recorder = lambda src: Recorder(src, TRUTH, pn.TRUTH_NOW.begin, lambda: pn.TRUTH_NOW.by_scenario, HERE)

    def write(rec: Recorder, *_: str) -> None:
        assert not pn.SCRIPT, f"unused answers: {pn.SCRIPT}"
        rec.write(rec.source, {"versions": versions("openlit", "ollama", "opentelemetry-sdk")})

    pn.write = write

    class OpenLITOllama:
        def instrument(self, **_: Any) -> None:
            openlit_init()

    shim = types.ModuleType("opentelemetry.instrumentation.ollama")
    shim.OllamaInstrumentor = OpenLITOllama  # type: ignore[attr-defined]
    sys.modules["opentelemetry.instrumentation.ollama"] = shim
    pn.run_ollama(source)


def run_vertex(source: str) -> None:
    """Traceloop's opentelemetry-instrumentation-vertexai 0.62.4 over the vertexai SDK (``api_transport="rest"``,
    ``api_endpoint`` to contrib3's fake Vertex AI REST endpoint, anonymous credentials), with contrib3's scripted
    answers and the Gemini fake's truth. No ``tool_use``: the instrumentation breaks a function-call answer, its
    ``_handle_response`` (__init__.py) reads ``response.candidates[0].text``, which raises ValueError ("Cannot get
    the Candidate text") for a candidate without a text part, so the app's call fails."""
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    from contrib3.generate import A1, BIG, vertex_handler
    from gemini_langchain.generate import SCRIPT, TRUTH_NOW, gemini_usage

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from opentelemetry.instrumentation.vertexai import VertexAIInstrumentor

    VertexAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(vertex_handler())
    import vertexai
    from google.api_core import exceptions
    from google.auth.credentials import AnonymousCredentials
    from vertexai.generative_models import Content, GenerationConfig, GenerativeModel, Part

    vertexai.init(project="acme-support", location="us-central1", api_transport="rest",
                  api_endpoint=f"http://127.0.0.1:{srv.server_address[1]}", credentials=AnonymousCredentials())
    system = "You are a support assistant for ACME. Answer briefly and politely."

    def ask(turns: list[tuple[str, str]], mx: int, sys_: str = system, **kw: Any) -> Any:
        contents = [Content(role="model" if r == "assistant" else "user", parts=[Part.from_text(t)]) for r, t in turns]
        cfg = GenerationConfig(max_output_tokens=mx, temperature=kw.pop("temperature", None))
        return GenerativeModel("gemini-2.5-flash", system_instruction=sys_).generate_content(
            contents, generation_config=cfg, **kw)

    SCRIPT[:] = [{"usage": gemini_usage(1200, 150), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(1350, 90, thoughts=64), "finish": "STOP",
                  "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "order-status"):
        r = ask([("user", Q1)], 200)
        ask([("user", Q1), ("assistant", r.text), ("user", Q2)], 200)
    rec.flush("healthy")

    SCRIPT[:] = [{"usage": gemini_usage(9200, 120), "finish": "STOP", "text": "Refunds take 5 business days."},
                 {"usage": gemini_usage(9260, 110, cached=8960), "finish": "STOP", "text": "Order A-1001 shipped."},
                 {"usage": gemini_usage(9310, 100, cached=8960), "finish": "STOP", "text": "Order A-1002 is packing."}]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            ask([("user", q)], 300, BIG)
    rec.flush("cached")

    SCRIPT[:] = [{"usage": gemini_usage(640, 48), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(700, 64), "finish": "MAX_TOKENS",
                  "text": "Here is every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in ask([("user", q)], mx, stream=True):
                pass
    rec.flush("streaming")

    SCRIPT[:] = [{"status": 429, "message": "Resource exhausted. Please try again later."},
                 {"status": 500, "message": "Internal error encountered."}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:  # the GAPIC generate_content has no default retry
                ask([("user", Q1)], 200)
            except exceptions.GoogleAPICallError as exc:
                surfaced.append(int(exc.code or 0))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [{"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."},
                 {"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."}]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            ask([("user", Q1)], 100, temperature=0.0)
    rec.flush("duplicate")
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-vertexai", "google-cloud-aiplatform",
                                            "opentelemetry-sdk")})


def run_haystack(source: str) -> None:
    """Traceloop's opentelemetry-instrumentation-haystack 0.62.4 with opentelemetry-instrumentation-openai 0.62.4
    (as ``Traceloop.init`` enables both) over a one-component Haystack ``Pipeline`` of ``OpenAIChatGenerator``
    (``max_retries=0``) against py_native's fake OpenAI, with py_vendors2's OpenAI scenarios and script.
    Haystack's own tracer is off (``HAYSTACK_AUTO_TRACE_ENABLED=false``; it is the ``haystack-otel`` capture)."""
    os.environ.update({"TRACELOOP_TRACE_CONTENT": "true", "HAYSTACK_AUTO_TRACE_ENABLED": "false",
                       "HAYSTACK_TELEMETRY_ENABLED": "False"})
    from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa
    from py_vendors2.generate import openai_scenarios

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from opentelemetry.instrumentation.haystack import HaystackInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    HaystackInstrumentor().instrument(tracer_provider=rec.tp)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import openai
    from haystack import Pipeline
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.core.errors import PipelineRuntimeError
    from haystack.dataclasses import ChatMessage, ToolCall
    from haystack.tools import Tool
    from haystack.utils import Secret

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    tool = Tool(name="get_order_status", description="Look up the shipping status of an order.",
                parameters={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
                function=lambda order_id: "shipped" if order_id == "A-1001" else "packing")

    def pipe(**kw: Any) -> Any:
        p = Pipeline()
        p.add_component("llm", OpenAIChatGenerator(api_key=Secret.from_token("sk-fake"), model="gpt-4o-mini",
                                                   api_base_url=base, max_retries=0, **kw))
        return p

    def msgs(turns: list[tuple[str, str]]) -> list[Any]:
        make = {"system": ChatMessage.from_system, "user": ChatMessage.from_user,
                "assistant": ChatMessage.from_assistant}
        return [make[r](t) for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        try:
            out = pipe().run({"llm": {"messages": msgs(turns), "generation_kwargs": kw}})
        except PipelineRuntimeError as exc:  # the pipeline wraps the component's error: the API's is its cause
            raise exc.__cause__ or exc from None
        return str(out["llm"]["replies"][0].text)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        # Haystack asks for no usage chunk by itself (components/generators/chat/openai.py): the app does
        kw["stream_options"] = {"include_usage": True}
        pipe(streaming_callback=lambda chunk: None).run({"llm": {"messages": msgs(turns), "generation_kwargs": kw}})

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        if history is None:
            history = msgs([("system", SYSTEM), ("user", Q1)])
        else:
            calls = {tc.id: tc for m in history if not isinstance(m, tuple) for tc in m.tool_calls}
            history = [ChatMessage.from_tool(h[3], origin=calls[h[1]]) if isinstance(h, tuple) else h for h in history]
        reply = pipe(tools=[tool]).run({"llm": {"messages": history, "generation_kwargs": {"max_tokens": 512}}})
        r = reply["llm"]["replies"][0]
        return [(tc.id, tc.tool_name, tc.arguments) for tc in r.tool_calls], [*history, r]

    assert ToolCall  # the replies' tool calls (haystack.dataclasses.ToolCall: id, tool_name, arguments)
    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    srv.shutdown()
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-haystack", "opentelemetry-instrumentation-openai",
                                            "haystack-ai", "openai", "opentelemetry-sdk")})


RUNNERS = {"openlit-bedrock": run_bedrock, "openlit-ollama": run_ollama, "openllmetry-vertexai": run_vertex,
           "openllmetry-haystack": run_haystack}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
