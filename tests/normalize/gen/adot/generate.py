"""Capture real spans of the AWS Distro for OpenTelemetry Python (PyPI ``aws-opentelemetry-distro``) over boto3's
``bedrock-runtime`` client, against the Bedrock fake, with nothing sent beyond loopback.

ADOT is started the way ``opentelemetry-instrument`` starts it: ``OTEL_PYTHON_DISTRO=aws_distro`` and
``OTEL_PYTHON_CONFIGURATOR=aws_configurator``, then ``opentelemetry.instrumentation.auto_instrumentation.initialize()``
(what its ``sitecustomize`` calls), here in-process after the loopback guard is in place. The distro
(amazon/opentelemetry/distro/aws_opentelemetry_distro.py) applies its patches and loads every installed instrumentor;
the configurator (aws_opentelemetry_configurator.py ``_initialize_components``) builds and sets the global
TracerProvider: the X-Ray id generator (its default ``OTEL_PYTHON_ID_GENERATOR=xray``), an
AttributeRedactingSpanProcessor, a BatchSpanProcessor over the plain OTLP/HTTP span exporter (the endpoint is not
an AWS one, so no SigV4 exporter), a BaggageSpanProcessor; and a LoggerProvider with the OTLP/HTTP log exporter.
Both export to a loopback OTLP/HTTP receiver of this script (``/v1/traces``, ``/v1/logs``); a scenario's line is
what it received until the scenario's flush (the app's root included, as ADOT's exporter sent it), its logs in
``otlp_logs``. Off here: Application Signals (``OTEL_AWS_APPLICATION_SIGNALS_ENABLED=false``: no
AwsMetricAttributesSpanExporter, no span-metrics processor, no metrics to localhost:4316), metrics
(``OTEL_METRICS_EXPORTER=none``: no EMF), agent observability (unset: no SigV4 to X-Ray / CloudWatch Logs), the X-Ray
remote sampler (unset: parentbased_always_on), the urllib3 / requests / logging instrumentations
(``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS``: the botocore instrumentation suppresses the HTTP ones around its calls
anyway). ADOT always runs the EC2, EKS and ECS resource detectors outside
Lambda; EKS and ECS find nothing here (no service-account token, no ``ECS_CONTAINER_METADATA_URI``), EC2 would ask
the instance metadata endpoint: its ``detect`` is stubbed to the empty resource it returns off EC2.
``loopback_only`` (../capture.py) refuses any other connection; a run prints what was refused.

What makes the model-call spans: ADOT 0.21.0 has no Bedrock Runtime extension of its own
(patches/_botocore_patches.py ``_apply_botocore_bedrock_patch``: "Note: Bedrock Runtime uses the upstream extension
directly"; its own ``_Bedrock*Extension`` classes cover ``bedrock``, ``bedrock-agent``, ``bedrock-agent-runtime``
and ``bedrock-agentcore`` only). The Bedrock Runtime spans are opentelemetry-instrumentation-botocore's
(0.65b0, the version ADOT pins; extensions/bedrock.py) under ADOT's replacement of
``BotocoreInstrumentor._patched_api_call`` (``_apply_botocore_api_call_patch``), which adds ``aws.auth.region`` and
``aws.auth.account.access_key`` (the fake access key) to every AWS SDK span. Message content:
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``; it goes to log events (extensions/bedrock_utils.py),
not to the spans.

The fake is ../bedrock/generate.py's ``BedrockHandler`` with its truth keeping, imported unchanged; InvokeModel
answers for Meta Llama and Cohere Command R bodies are added here (``Handler._invoke``) in the shapes the Bedrock
user guide documents ("Meta Llama models": ``generation``, ``prompt_token_count``, ``generation_token_count``,
``stop_reason``; "Cohere Command R and Command R+ models": ``text``, ``finish_reason``, no usage in the body: the
``x-amzn-bedrock-*-token-count`` headers carry it, as for every InvokeModel answer of the fake).

Scenarios: healthy (InvokeModel with an Anthropic Claude, an Amazon Nova, a Meta Llama and a Cohere Command R body,
then a Converse call that asks for a tool), cached (Converse with a cachePoint: a write then a read; an InvokeModel
Claude body with cache_control: a read), streaming (ConverseStream: end_turn, then one cut at max_tokens with a cache
read), tool_use (Converse; the app runs the tool, span ``tool.get_order_status``), errors (a 429 and a 500 reach
the app, botocore retries off; the third try succeeds), duplicate (the identical Converse call twice).

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    python3 -m venv /tmp/gen-adot && /tmp/gen-adot/bin/pip install -r requirements.txt
    /tmp/gen-adot/bin/python generate.py adot-bedrock

It writes ``tests/normalize/data/adot-bedrock.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/adot-truth.json`` (the fake's truth per scenario, as ../bedrock/generate.py keeps it, and the
versions).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, JSONHandler, Recorder, hexify, loopback_only, serve

TRUTH = HERE.parent.parent / "data" / "adot-truth.json"
SOURCES = ("adot-bedrock",)
LLAMA = "meta.llama3-1-8b-instruct-v1:0"
COHERE = "cohere.command-r-v1:0"



def _load(name: str, folder: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / folder / "generate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


FAKE = _load("bedrock_generate", "bedrock")
SCRIPT, TRUTH_NOW = FAKE.SCRIPT, FAKE.TRUTH_NOW


class Handler(FAKE.BedrockHandler):  # type: ignore[misc,name-defined]
    """The Bedrock fake, with InvokeModel answers for Meta Llama and Cohere Command R bodies."""

    def _invoke(self, model: str, body: dict[str, Any], step: dict[str, Any]) -> None:
        u, stop = step["usage"], step["stop"]
        if model.startswith("meta.llama"):
            out: dict[str, Any] = {"generation": step["text"], "prompt_token_count": u["in"],
                                   "generation_token_count": u["out"], "stop_reason": stop}
        elif model.startswith("cohere.command-r"):
            out = {"response_id": SCRIPT.id("resp-"), "text": step["text"], "generation_id": SCRIPT.id("gen-"),
                   "chat_history": [{"role": "USER", "message": body.get("message", "")},
                                    {"role": "CHATBOT", "message": step["text"]}],
                   "finish_reason": stop}
        else:
            super()._invoke(model, body, step)
            return
        self._send(200, json.dumps(out).encode(), {
            "content-type": "application/json", "x-amzn-bedrock-input-token-count": str(u["in"]),
            "x-amzn-bedrock-output-token-count": str(u["out"]), "x-amzn-bedrock-invocation-latency": "398"})


class OTLPSink(JSONHandler):
    """OTLP/HTTP protobuf receiver for ADOT's exporters: every decoded trace and log request, by signal."""

    received: ClassVar[dict[str, list[dict[str, Any]]]] = {"traces": [], "logs": []}
    lock = threading.Lock()

    def do_POST(self) -> None:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        path = self.path.rstrip("/")
        kind = "traces" if path.endswith("/v1/traces") else "logs" if path.endswith("/v1/logs") else None
        if kind is not None:
            req: Any = ExportTraceServiceRequest() if kind == "traces" else ExportLogsServiceRequest()
            req.ParseFromString(raw)
            with OTLPSink.lock:
                OTLPSink.received[kind].append(MessageToDict(req, use_integers_for_enums=True))
        self.send_response(200 if kind else 404)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()


def take(kind: str, key: str) -> dict[str, Any]:
    with OTLPSink.lock:
        got, OTLPSink.received[kind][:] = list(OTLPSink.received[kind]), []
    return hexify({key: [r for req in got for r in req.get(key, [])]})  # type: ignore[no-any-return]


def start_adot(sink_port: int) -> Any:
    """ADOT as ``opentelemetry-instrument`` starts it, exporting to the loopback receiver; the global providers."""
    base = f"http://127.0.0.1:{sink_port}"
    os.environ.update({
        "OTEL_PYTHON_DISTRO": "aws_distro", "OTEL_PYTHON_CONFIGURATOR": "aws_configurator",
        "OTEL_SERVICE_NAME": "support-bot", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=fixture",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{base}/v1/traces", "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"{base}/v1/logs", "OTEL_METRICS_EXPORTER": "none",
        "OTEL_AWS_APPLICATION_SIGNALS_ENABLED": "false",
        # the contrib extension's content switch (its log events); ADOT's logs pipeline is set up only with this on
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "true",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "urllib3,requests,logging",
    })
    for k in ("AGENT_OBSERVABILITY_ENABLED", "OTEL_TRACES_SAMPLER", "OTEL_EXPORTER_OTLP_ENDPOINT",
              "AWS_LAMBDA_FUNCTION_NAME", "ECS_CONTAINER_METADATA_URI", "ECS_CONTAINER_METADATA_URI_V4"):
        os.environ.pop(k, None)
    from opentelemetry.sdk.extension.aws.resource.ec2 import AwsEc2ResourceDetector
    from opentelemetry.sdk.resources import Resource

    AwsEc2ResourceDetector.detect = lambda self: Resource.get_empty()  # type: ignore[method-assign]
    from opentelemetry.instrumentation.auto_instrumentation import initialize

    initialize()
    from opentelemetry import _logs, trace

    return trace.get_tracer_provider(), _logs.get_logger_provider()


def run(source: str) -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)
    sink = serve(OTLPSink)
    tp, lp = start_adot(sink.server_address[1])
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, tracer_provider=tp,
                   collect=lambda: take("traces", "resourceSpans"))

    def flush(scenario: str) -> None:
        lp.force_flush()
        rec.flush(scenario)
        line = json.loads(rec.lines[-1])
        logs = take("logs", "resourceLogs")
        if logs["resourceLogs"]:
            line["otlp_logs"] = logs
        rec.lines[-1] = rec.scrub(json.dumps(line, separators=(",", ":")))

    srv = serve(Handler)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from opentelemetry import trace

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
    system_text, q1, q2 = FAKE.SYSTEM, FAKE.Q1, FAKE.Q2
    user, haiku, sonnet = FAKE.user, FAKE.HAIKU, FAKE.SONNET

    def invoke(model: str, body: dict[str, Any]) -> dict[str, Any]:
        r = client.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json",
                                accept="application/json")
        return json.loads(r["body"].read())  # type: ignore[no-any-return]

    # healthy: InvokeModel with a Claude, a Nova, a Llama and a Cohere Command R body; Converse asking for a tool
    SCRIPT[:] = [{"usage": {"in": 1200, "out": 150}, "stop": "end_turn",
                  "text": "Order A-1001 shipped on Monday and arrives tomorrow."},
                 {"usage": {"in": 800, "out": 90}, "stop": "end_turn", "text": "Order A-1002 is being packed."},
                 {"usage": {"in": 310, "out": 42}, "stop": "stop", "text": "Order A-1003 was delivered on Friday."},
                 {"usage": {"in": 260, "out": 38}, "stop": "COMPLETE", "text": "Order A-1004 ships next week."},
                 {"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1005"}}}]
    with rec.root("healthy", "support-triage"):
        invoke(haiku, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200, "system": system_text,
                       "messages": [{"role": "user", "content": q1}]})
        invoke(FAKE.NOVA, {"schemaVersion": "messages-v1", "system": [{"text": system_text}],
                           "messages": [user(q2)], "inferenceConfig": {"maxTokens": 200, "temperature": 0.3}})
        invoke(LLAMA, {"prompt": f"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n{system_text}"
                                 "<|eot_id|><|start_header_id|>user<|end_header_id|>\nAnd order A-1003?<|eot_id|>"
                                 "<|start_header_id|>assistant<|end_header_id|>\n",
                       "max_gen_len": 256, "temperature": 0.2, "top_p": 0.9})
        invoke(COHERE, {"message": "And order A-1004?", "preamble": system_text, "max_tokens": 256,
                        "temperature": 0.3, "chat_history": []})
        client.converse(modelId=sonnet, system=[{"text": system_text}], messages=[user("And order A-1005?")],
                        toolConfig=FAKE.TOOLS, inferenceConfig={"maxTokens": 512})
    flush("healthy")

    # cached: the bedrock group's: Converse behind a cachePoint (write, read), InvokeModel Claude with cache_control
    big = "POLICY: " + "Refunds are processed within 5 business days of approval. " * 60
    SCRIPT[:] = [{"usage": {"in": 40, "out": 30, "write": 2048}, "stop": "end_turn", "text": "It shipped."},
                 {"usage": {"in": 35, "out": 28, "read": 2048}, "stop": "end_turn", "text": "It is packing."},
                 {"usage": {"in": 3100, "out": 45, "read": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."}]
    with rec.root("cached", "policy-qa"):
        system = [{"text": system_text}, {"text": big}, {"cachePoint": {"type": "default"}}]
        for q in (q1, q2):
            client.converse(modelId=sonnet, system=system, messages=[user(q)], inferenceConfig={"maxTokens": 300})
        history = "Order history: " + "A-1003 shipped 2025-01-02, delivered 2025-01-05; " * 120
        invoke(sonnet, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 300,
                        "system": [{"type": "text", "text": system_text},
                                   {"type": "text", "text": big, "cache_control": {"type": "ephemeral"}}],
                        "messages": [{"role": "user", "content": f"When is my refund for A-1003?\n{history}"}]})
    flush("cached")

    # streaming: ConverseStream ending end_turn, then one cut at maxTokens (with a cache read)
    SCRIPT[:] = [{"usage": {"in": 500, "out": 200}, "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": {"in": 700, "out": 64, "read": 2048}, "stop": "max_tokens",
                  "text": "Here is a detailed history of every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for model, q, mx, sysm in ((haiku, q1, 400, [{"text": system_text}]),
                                   (sonnet, q2 + " List every shipment event.", 64,
                                    [{"text": system_text}, {"text": big}, {"cachePoint": {"type": "default"}}])):
            r = client.converse_stream(modelId=model, system=sysm, messages=[user(q)],
                                       inferenceConfig={"maxTokens": mx})
            for _ in r["stream"]:
                pass
    flush("streaming")

    # tool_use: the model asks for get_order_status, the app runs it, then the model answers
    SCRIPT[:] = [{"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": {"in": 690, "out": 40}, "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [user(q1)]
        for iteration in range(1, 4):
            r = client.converse(modelId=sonnet, system=[{"text": system_text}], messages=messages,
                                toolConfig=FAKE.TOOLS, inferenceConfig={"maxTokens": 512})
            if r["stopReason"] != "tool_use":
                break
            msg = r["output"]["message"]
            messages.append(msg)
            results = []
            for block in msg["content"]:
                if "toolUse" not in block:
                    continue
                tu = block["toolUse"]
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tu["name"], "app.tool.call_id": tu["toolUseId"],
                        "app.tool.arguments": json.dumps(tu["input"]), "app.iteration": iteration}):
                    status = "shipped" if tu["input"].get("order_id") == "A-1001" else "packing"
                results.append({"toolResult": {"toolUseId": tu["toolUseId"], "content": [{"text": status}]}})
            messages.append({"role": "user", "content": results})
    flush("tool_use")

    # errors: 429 then 500 surfaced to the app (no botocore retries), the third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": {"in": 400, "out": 60}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    surfaced: list[str] = []
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                client.converse(modelId=haiku, system=[{"text": system_text}], messages=[user(q2)],
                                inferenceConfig={"maxTokens": 128})
                break
            except ClientError as exc:
                surfaced.append(exc.response["Error"]["Code"])
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": exc.response["Error"]["Code"]})
    assert surfaced == ["ThrottlingException", "InternalServerException"], surfaced
    flush("errors")

    # duplicate: the identical request twice in a row, temperature 0
    SCRIPT[:] = [{"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                 {"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            client.converse(modelId=haiku, system=[{"text": system_text}], messages=[user(q1)],
                            inferenceConfig={"maxTokens": 100, "temperature": 0})
    flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    srv.shutdown()
    libs = ("aws-opentelemetry-distro", "opentelemetry-instrumentation-botocore", "opentelemetry-sdk", "boto3",
            "botocore")
    rec.write(source, {"api": "bedrock", "versions": {n: version(n) for n in libs}})
    sink.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    run(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
