"""Capture real spans from LiteLLM beyond its default in-process logger: the LiteLLM proxy server, and the
in-process OpenTelemetry logger under ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` and under
``LITELLM_OTEL_V2=true``, each over a fake OpenAI and a fake Anthropic API.

Every model-call span in the output was emitted by LiteLLM itself, which talked HTTP to the fake provider
servers on 127.0.0.1 (imported unchanged from ../litellm_logfire_mlflow (OpenAI Chat Completions) and
../anthropic (Messages API), with their truth keeping). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``) and, in ``tool_use``, ``tool.get_order_status`` (attributes ``app.*``).

Sources (one process each; ``<p>`` is ``openai`` or ``anthropic``, the fake provider behind the model):

* ``litellm-proxy-<p>``       ``litellm --config config.yaml`` (litellm 1.110.2 in-tree proxy, run as a child
                              process on 127.0.0.1) with ``callbacks: ["otel"]`` exporting OTLP/HTTP to a sink in
                              this script; called with the ``openai`` client (max_retries=0) and a W3C
                              ``traceparent`` header from the app's ``workflow`` span
* ``litellm-proxy-v2-<p>``    the same proxy with ``LITELLM_OTEL_V2=true`` (and
                              ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY``)
* ``litellm-otel-latest-<p>`` ``litellm.completion`` with ``OpenTelemetry(tracer_provider=...)`` and
                              ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``
* ``litellm-otel-v2-<p>``     ``litellm.completion`` with ``LITELLM_OTEL_V2=true``
                              (``integrations/otel/logger.py build_otel_v2_logger(tracer_provider=...)``)

``LITELLM_LOCAL_MODEL_COST_MAP=True`` everywhere (the bundled price map, no network). Versions: litellm 1.110.2,
openai 3.57.0, opentelemetry-sdk 1.45.2 (also in the truth file's ``versions``). The proxy gets a random
``LITELLM_MASTER_KEY`` per run (it refuses to start without one); the in-process v2 logger logs from async hooks
only, so its calls are ``litellm.acompletion`` on one event loop.

Re-run (Python 3.11; a venv of its own, never the project's .venv; pins in requirements.txt. The PyPI mirror
has no ``litellm-proxy`` wheel, which ``litellm[proxy]`` 1.110.2 names, so the proxy extra's other
dependencies are installed from requirements.txt directly: the proxy's code ships in the litellm wheel)::

    python3 -m venv /tmp/gen-litellm3 && /tmp/gen-litellm3/bin/pip install -r requirements.txt
    for s in litellm-proxy-openai litellm-proxy-anthropic litellm-proxy-v2-openai litellm-proxy-v2-anthropic \\
             litellm-otel-latest-openai \\
             litellm-otel-latest-anthropic litellm-otel-v2-openai litellm-otel-v2-anthropic; do
        /tmp/gen-litellm3/bin/python generate.py $s
    done

Each run writes ``tests/normalize/data/<source>.jsonl`` and merges the fake server's truth into
``tests/normalize/data/litellm3-truth.json`` under the provider (``openai``: prompt_tokens incl. cached,
completion_tokens incl. reasoning; ``anthropic``: ``uncached_input`` = Anthropic's input_tokens, cache
read / write apart).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import litellm_logfire_mlflow.generate as oai  # the fake Chat Completions API, the OTLP sink
from capture import Recorder, hexify, serve


def _load(name: str, path: Path) -> Any:
    """../anthropic/generate.py under another name: ``anthropic`` is the SDK's package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


ant = _load("fake_anthropic_generate", HERE.parent / "anthropic" / "generate.py")  # the fake Messages API

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "litellm3-truth.json"
SOURCES = tuple(f"litellm-{m}-{p}" for m in ("proxy", "proxy-v2", "otel-latest", "otel-v2")
                for p in ("openai", "anthropic"))
MODELS = {"openai": {"small": "gpt-4o-mini", "big": "gpt-4o", "reasoning": "o3-mini"},
          "anthropic": {"small": "claude-haiku-4-5", "big": "claude-sonnet-4-5", "reasoning": "claude-sonnet-4-5"}}
SYSTEM = "You are a support assistant for ACME. Answer briefly and only about ACME orders."
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def scripts(provider: str) -> dict[str, list[dict[str, Any]]]:
    """Each scenario's answers, in the fake server's own step format."""
    if provider == "openai":
        u = oai.usage
        return {
            "healthy": [{"usage": u(420, 40), "finish": "stop", "text": "Order A-1001 shipped on Monday."},
                        {"usage": u(485, 30), "finish": "stop", "text": "Order A-1002 is still being packed."}],
            "cached": [{"usage": u(9200, 120), "finish": "stop", "text": "Refunds take 5 days."},
                       {"usage": u(9260, 110, cached=8960), "finish": "stop", "text": "Shipping is free over $50."},
                       {"usage": u(9310, 100, cached=8960), "finish": "stop", "text": "Returns within 30 days."}],
            "streaming": [{"usage": u(500, 200), "finish": "stop",
                           "text": "Your order A-1001 shipped yesterday and should arrive within three days."},
                          {"usage": u(4796, 64, cached=4096), "finish": "length",
                           "text": "Here is a detailed history of every shipment event recorded for your order"}],
            "tool_use": [{"usage": u(600, 145, reasoning=128), "finish": "tool_calls",
                          "tool_calls": [{"name": "get_order_status", "arguments": {"order_id": "A-1001"}}]},
                         {"usage": u(690, 70, reasoning=32), "finish": "stop", "text": "Order A-1001 has shipped."}],
            "errors": [{"status": 429}, {"status": 500},
                       {"usage": u(400, 60), "finish": "stop", "text": "Order A-1001 shipped on Monday."}],
            "duplicate": [{"usage": u(900, 80), "finish": "stop", "text": "We are open 9-5, Monday to Friday."}] * 2,
        }
    u = ant.usage
    return {
        "healthy": [{"usage": u(1200, 150), "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                    {"usage": u(800, 90), "stop": "end_turn", "text": "Order A-1002 is still being packed."}],
        "cached": [{"usage": u(340, 120, write=8960), "stop": "end_turn", "text": "Refunds take 5 days."},
                   {"usage": u(300, 110, read=8960), "stop": "end_turn", "text": "Shipping is free over $50."},
                   {"usage": u(420, 100, read=8960), "stop": "end_turn", "text": "Returns within 30 days."}],
        "streaming": [{"usage": u(500, 200), "stop": "end_turn",
                       "text": "Your order A-1001 shipped yesterday and should arrive within three days."},
                      {"usage": u(700, 64, read=4096), "stop": "max_tokens", "full_delta_usage": True,
                       "text": "Here is a detailed history of every shipment event recorded for your order"}],
        "tool_use": [{"usage": u(600, 45), "stop": "tool_use", "text": "Let me check that order.",
                      "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                     {"usage": u(690, 70), "stop": "end_turn", "text": "Order A-1001 has shipped."}],
        "errors": [{"status": 429}, {"status": 500},
                   {"usage": u(400, 60), "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}],
        "duplicate": [{"usage": u(900, 80), "stop": "end_turn", "text": "We are open 9-5, Monday to Friday."}] * 2,
    }


# --------------------------------------------------------------------------------------------------------
# the LiteLLM proxy as a child process
# --------------------------------------------------------------------------------------------------------

#: the proxy refuses to start without a master key (proxy/auth/master_key_boot_check.py); the client sends it
MASTER_KEY = "sk-" + os.urandom(32).hex()
LOOP = asyncio.new_event_loop()


def start_proxy(provider_urls: dict[str, str], sink_url: str,
                v2: bool) -> tuple[subprocess.Popen[bytes], str, Path]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model_list = []
    for provider, names in MODELS.items():
        for name in sorted(set(names.values())):
            model_list.append({"model_name": name, "litellm_params": {
                "model": f"{provider}/{name}", "api_base": provider_urls[provider], "api_key": "sk-fake",
                "max_retries": 0}})
    config = {"model_list": model_list,
              "litellm_settings": {"callbacks": ["otel"], "num_retries": 0, "request_timeout": 30},
              "router_settings": {"num_retries": 0, "disable_cooldowns": True, "allowed_fails": 100}}
    tmp = Path(tempfile.mkdtemp(prefix="litellm3-proxy-"))
    (tmp / "config.yaml").write_text(json.dumps(config))  # JSON is YAML
    env = {**os.environ, "OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": sink_url, "OTEL_SERVICE_NAME": "litellm-proxy",
           "OTEL_BSP_SCHEDULE_DELAY": "100", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "DISABLE_SCHEMA_UPDATE": "True",
           "LITELLM_TELEMETRY": "False", "NO_DOCS": "True",
           "LITELLM_MASTER_KEY": MASTER_KEY}
    if v2:  # the typed v2 logger (integrations/otel), content on its spans
        env.update({"LITELLM_OTEL_V2": "true", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY"})
    log = open(tmp / "proxy.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(Path(sys.executable).parent / "litellm"), "--config", str(tmp / "config.yaml"),
                             "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    import httpx

    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit((tmp / "proxy.log").read_text()[-4000:])
        time.sleep(0.5)
    else:
        raise SystemExit("the proxy did not come up: " + (tmp / "proxy.log").read_text()[-4000:])
    return proc, url, tmp


# --------------------------------------------------------------------------------------------------------
# one client interface per source: chat(model, messages, **kw) -> (text, tool_calls, finish_reason)
# --------------------------------------------------------------------------------------------------------

def make_chat(mode: str, provider: str, rec: Recorder, urls: dict[str, str], proxy_url: str | None) -> Any:
    if mode.startswith("proxy"):
        import openai
        from opentelemetry import propagate

        client = openai.OpenAI(api_key=MASTER_KEY, base_url=proxy_url + "/v1", max_retries=0)

        def call(model: str, messages: list[dict[str, Any]], stream: bool, **kw: Any) -> Any:
            headers: dict[str, str] = {}
            propagate.inject(headers)  # the app's workflow span as the proxy request's parent (W3C traceparent)
            if stream:
                kw["stream_options"] = {"include_usage": True}
            return client.chat.completions.create(model=model, messages=messages, stream=stream,  # type: ignore[call-overload]
                                                  extra_headers=headers, **kw)

        errors: tuple[type[BaseException], ...] = (openai.RateLimitError, openai.InternalServerError)
    else:
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        import litellm

        if mode == "otel-v2":
            from litellm.integrations.otel.logger import build_otel_v2_logger
            from litellm.integrations.otel.model.config import OpenTelemetryV2Config

            litellm.callbacks = [build_otel_v2_logger(config=OpenTelemetryV2Config(), tracer_provider=rec.tp)]
        else:
            from litellm.integrations.opentelemetry import OpenTelemetry, OpenTelemetryConfig

            litellm.callbacks = [OpenTelemetry(config=OpenTelemetryConfig(exporter="console"), tracer_provider=rec.tp)]

        def call(model: str, messages: list[dict[str, Any]], stream: bool, **kw: Any) -> Any:
            from opentelemetry import trace

            # the app's span as LiteLLM's documented parent (see ../litellm_logfire_mlflow/generate.py make_chat)
            if stream:
                kw["stream_options"] = {"include_usage": True}
            args = dict(model=f"{provider}/{model}", messages=messages, api_base=urls[provider], api_key="sk-fake",
                        num_retries=0, max_retries=0, stream=stream,
                        metadata={"litellm_parent_otel_span": trace.get_current_span()}, **kw)
            if mode != "otel-v2":
                return litellm.completion(**args)
            # OpenTelemetryV2 logs from its async hooks only (integrations/otel/logger.py async_log_success_event,
            # async_log_failure_event): acompletion on one loop, driven here (the current context goes with it)

            async def go() -> Any:
                r = await litellm.acompletion(**args)
                if not stream:
                    return r
                return [ch async for ch in r]

            return LOOP.run_until_complete(go())

        errors = (litellm.RateLimitError, litellm.InternalServerError)

    def chat(model: str, messages: list[dict[str, Any]], stream: bool = False, **kw: Any) -> Any:
        if stream:
            text, finish = "", None
            for ch in call(model, messages, True, **kw):
                if ch.choices:
                    text += ch.choices[0].delta.content or ""
                    finish = ch.choices[0].finish_reason or finish
            return text, [], finish
        r = call(model, messages, False, **kw)
        m = r.choices[0].message
        return m.content, [(t.id, t.function.name, json.loads(t.function.arguments)) for t in m.tool_calls or []], \
            r.choices[0].finish_reason

    chat.errors = errors  # type: ignore[attr-defined]
    return chat


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

def run(source: str) -> None:
    mode, provider = source.removeprefix("litellm-").rsplit("-", 1)
    fake = oai if provider == "openai" else ant
    if mode == "otel-latest":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    if mode == "otel-v2":
        os.environ["LITELLM_OTEL_V2"] = "true"
        # v2 captures no content by default (integrations/otel/model/config.py capture_message_content:
        # NO_CONTENT); SPAN_ONLY puts the messages on the span
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    srv_oa, srv_an = serve(oai.OpenAIHandler), serve(ant.AnthropicHandler)
    urls = {"openai": f"http://127.0.0.1:{srv_oa.server_address[1]}/v1",
            "anthropic": f"http://127.0.0.1:{srv_an.server_address[1]}"}
    common: dict[str, Any] = {"begin": fake.TRUTH_NOW.begin, "truth": lambda: fake.TRUTH_NOW.by_scenario, "here": HERE}
    proc = None
    if mode.startswith("proxy"):
        # the proxy's spans come over OTLP/HTTP to the sink; the app's own spans go there too, from our provider
        from capture import RESOURCE
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        sink = serve(oai.OTLPSink)
        sink_url = f"http://127.0.0.1:{sink.server_address[1]}/v1/traces"
        tp = TracerProvider(resource=Resource.create(RESOURCE))
        tp.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=sink_url)))
        trace.set_tracer_provider(tp)

        def collect() -> dict[str, Any]:
            with oai.SCRIPT.lock:
                got, oai.OTLPSink.received[:] = list(oai.OTLPSink.received), []
            return hexify({"resourceSpans": [rs for req in got for rs in req.get("resourceSpans", [])]})  # type: ignore[no-any-return]

        proc, proxy_url, tmp = start_proxy(urls, sink_url, mode == "proxy-v2")
        time.sleep(1.0)
        collect()  # the start-up health checks' traces: no scenario's
        rec = Recorder(source, TRUTH, tracer_provider=tp, collect=collect, settle=1.5, **common)
        rec.scrub = type(rec.scrub)(HERE, tmp)
    else:
        proxy_url = None
        rec = Recorder(source, TRUTH, settle=0.3, **common)
        if mode == "otel-v2":  # the logger's callbacks are tasks on LOOP: run them before each flush
            flush = rec.flush

            def flush_after_loop(scenario: str) -> None:
                LOOP.run_until_complete(asyncio.sleep(0.5))
                flush(scenario)

            rec.flush = flush_after_loop  # type: ignore[method-assign]
    try:
        chat = make_chat(mode, provider, rec, urls, proxy_url)
        _scenarios(rec, chat, provider, fake)
        assert not fake.SCRIPT, f"unused answers: {fake.SCRIPT}"
        from importlib.metadata import version

        rec.write(provider, {"versions": {k: version(k) for k in ("litellm", "openai", "opentelemetry-sdk")}})
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    srv_oa.shutdown()
    srv_an.shutdown()


def _scenarios(rec: Recorder, chat: Any, provider: str, fake: Any) -> None:
    from opentelemetry import trace

    m = MODELS[provider]
    script = scripts(provider)

    def sys_user(q: str, system: Any = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": q}]

    fake.SCRIPT[:] = script["healthy"]
    with rec.root("healthy", "support-triage"):
        msgs = sys_user("Where is order A-1001?")
        text, _, _ = chat(m["small"], msgs, max_tokens=200)
        msgs += [{"role": "assistant", "content": text}, {"role": "user", "content": "And order A-1002?"}]
        chat(m["small"], msgs, max_tokens=200)
    rec.flush("healthy")

    # cached: a big static system prompt (Anthropic: marked cache_control; the fake server reports the cache)
    big = SYSTEM + " POLICY: " + "Refunds are processed within 5 business days of approval. " * 600
    system: Any = big if provider == "openai" else [{"type": "text", "text": big,
                                                    "cache_control": {"type": "ephemeral"}}]
    fake.SCRIPT[:] = script["cached"]
    with rec.root("cached", "policy-qa"):
        for q in ("Where is order A-1001? When is my refund?", "And order A-1002? Is shipping free?",
                  "Can I return it?"):
            chat(m["big"], sys_user(q, system), max_tokens=300)
    rec.flush("cached")

    fake.SCRIPT[:] = script["streaming"]
    with rec.root("streaming", "order-updates"):
        chat(m["small"], sys_user("Where is order A-1001?"), stream=True, max_tokens=400)
        chat(m["small"], sys_user("And order A-1002? List every shipment event."), stream=True, max_tokens=64)
    rec.flush("streaming")

    fake.SCRIPT[:] = script["tool_use"]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    limit = {"max_completion_tokens": 1024} if provider == "openai" else {"max_tokens": 1024}
    with rec.root("tool_use", "order-agent"):
        msgs = sys_user("Where is order A-1001?")
        for iteration in range(1, 4):
            text, calls, finish = chat(m["reasoning"], msgs, tools=TOOLS, **limit)
            if finish != "tool_calls":
                break
            msgs.append({"role": "assistant", "content": text, "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for cid, name, args in calls]})
            for cid, name, args in calls:
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": name, "app.tool.call_id": cid, "app.tool.arguments": json.dumps(args),
                        "app.iteration": iteration}):
                    status = "shipped" if args.get("order_id") == "A-1001" else "packing"
                msgs.append({"role": "tool", "tool_call_id": cid, "content": status})
    rec.flush("tool_use")

    fake.SCRIPT[:] = script["errors"]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                chat(m["small"], sys_user("Where is order A-1001?"), max_tokens=128)
                break
            except chat.errors as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    fake.SCRIPT[:] = script["duplicate"]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            chat(m["small"], sys_user("Where is order A-1001? And what are your opening hours?"), max_tokens=100,
                 temperature=0)
    rec.flush("duplicate")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    run(sys.argv[1])
