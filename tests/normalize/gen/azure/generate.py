"""Capture real spans of the OpenAI Python SDK's ``AzureOpenAI`` client against a fake Azure OpenAI service.

Every model-call span in the output was emitted by a real instrumentation wrapping the real ``openai`` SDK's
``AzureOpenAI`` client (``azure_endpoint="https://acme-support.openai.azure.com"``, ``api_version="2024-10-21"``,
``max_retries=0``, an httpx transport that sends the resource's requests to 127.0.0.1 over plain HTTP, so that the
client and the instrumentations see Azure's host), which talked HTTP to a fake Azure OpenAI resource on 127.0.0.1:
the py_native generator's fake Chat Completions server (``../py_native/generate.py`` ``OpenAIHandler``, its ``SCRIPT`` and truth keeping, imported unchanged) behind
Azure's own shape: ``POST /openai/deployments/{deployment}/chat/completions?api-version=...`` (404 for anything
else, 400 without api-version), the deployment ``support-gpt4o`` serving ``gpt-4o-mini-2024-07-18`` (the request's
``model`` is the deployment name, the response's ``model`` the served model), ``prompt_filter_results`` and per
choice ``content_filter_results`` (streamed: a first chunk with no choices and an empty model carrying the
prompt's filter results, as Azure sends it), Azure's error JSON (``{"error": {"code": "429", "message": ...}}``,
``{"error": {"code": "InternalServerError", ...}}``). The only spans made here are the trace roots (``workflow``,
scope ``fixgen.app``, attribute ``app.workflow``) and ``tool.get_order_status`` (the app runs the tool).

Sources (one process each, content capture on):

* ``azure-openai-v2``       OTel contrib's opentelemetry-instrumentation-openai-v2 2.4b0,
                            ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``,
                            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT``
* ``azure-openinference``   openinference-instrumentation-openai 0.1.66
* ``azure-openllmetry``     OpenLLMetry's opentelemetry-instrumentation-openai 0.62.4, ``TRACELOOP_TRACE_CONTENT=true``
* ``azure-openlit``         openlit 1.45.0 (``capture_message_content=True``, metrics and events off) with openai 2.54.0
* ``azure-ai-inference``    the Azure AI Inference SDK (azure-ai-inference 1.0.0b9 ``ChatCompletionsClient`` on the
                            deployment's endpoint, ``retry_total=0``) traced by its own ``AIInferenceInstrumentor``
                            (``enable_content_recording=True``) through azure-core-tracing-opentelemetry 1.0.0b13
                            (azure-core 1.41.0); gen_ai.system ``az.ai.inference``

The openai sources reuse the embed generator's set-up of each library (``../embed/generate.py`` ``instrument``).

Scenarios: the shared chat script (../chat_script.py: the same answers as py_agents2 / py4 / oi2): healthy (2
calls, a conversation: the follow-up carries the first answer), cached (3 calls over a big system prompt, the 2nd
and 3rd with ``cached_tokens``), streaming (2 streamed calls with ``stream_options.include_usage``, the 2nd cut by max_tokens), tool_use (the model asks for
get_order_status with reasoning tokens, the app runs it, the model answers), errors (429 then 500, surfaced),
duplicate (the identical request twice, temperature 0).

Re-run (Python 3.11; three venvs under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/azure
    sed -n '/^# \\[main\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/az-main.txt  # likewise [openlit], [inference]
    python3 -m venv /tmp/gen-azure && /tmp/gen-azure/bin/pip install -r /tmp/az-main.txt
    python3 -m venv /tmp/gen-azure-lit && /tmp/gen-azure-lit/bin/pip install --no-deps -r /tmp/az-lit.txt
    for s in azure-openai-v2 azure-openinference azure-openllmetry; do /tmp/gen-azure/bin/python generate.py $s; done
    /tmp/gen-azure-lit/bin/python generate.py azure-openlit
    python3 -m venv /tmp/gen-azure-inf && /tmp/gen-azure-inf/bin/pip install -r /tmp/az-inference.txt   # [inference]
    /tmp/gen-azure-inf/bin/python generate.py azure-ai-inference

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/azure-truth.json``
(the py_native truth's fields; ``models``: [deployment, served model]).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from embed.generate import instrument as embed_instrument
from py_native.generate import OPENAI_SERVED, SCRIPT, TOOLS_OA, TRUTH_NOW, OpenAIHandler, versions

TRUTH = HERE.parent.parent / "data" / "azure-truth.json"
HOST = "acme-support.openai.azure.com"
ENDPOINT = f"https://{HOST}"
DEPLOYMENT, SERVED, API_VERSION = "support-gpt4o", "gpt-4o-mini-2024-07-18", "2024-10-21"
OPENAI_SERVED[DEPLOYMENT] = SERVED  # the fake's served model for the deployment name the request carries
SOURCES = ("azure-openai-v2", "azure-openinference", "azure-openllmetry", "azure-openlit", "azure-ai-inference")

_SAFE = {"filtered": False, "severity": "safe"}
FILTERS = {k: _SAFE for k in ("hate", "self_harm", "sexual", "violence")}
PROMPT_FILTERS = [{"prompt_index": 0, "content_filter_results": {
    **FILTERS, "jailbreak": {"filtered": False, "detected": False}}}]
#: Azure OpenAI's error bodies (learn.microsoft.com/azure/ai-services/openai/quotas-limits, REST reference)
AZURE_ERRORS = {
    429: {"code": "429", "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
                                    f"{API_VERSION} have exceeded token rate limit of your current OpenAI S0 pricing "
                                    "tier. Please retry after 1 second."},
    500: {"code": "InternalServerError", "message": "The service is temporarily unable to process your request. "
                                                   "Please try again later."}}


def to_loopback(port: int) -> Any:
    """An httpx transport that sends every request for the Azure resource to the fake on 127.0.0.1 (plain HTTP):
    the client and its instrumentation see Azure's own host (``server.address``, the base URL). openai >= 3 is
    built on httpx2, older ones on httpx."""
    try:
        import httpx2 as httpx
    except ImportError:
        import httpx  # type: ignore[no-redef]

    class Loopback(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            assert request.url.host == HOST, request.url
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return super().handle_request(request)

    return httpx.Client(transport=Loopback())


class AzureHandler(OpenAIHandler):
    """The py_native fake Chat Completions behind Azure OpenAI's URL shape, filter results and error bodies."""

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["openai", "deployments"] or parts[3:] != ["chat", "completions"] or parts[2] != DEPLOYMENT:
            self.read_json()
            self.send_json(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this "
                                           "resource does not exist."}})
            return
        if parse_qs(url.query).get("api-version") != [API_VERSION]:
            self.read_json()
            self.send_json(400, {"error": {"code": "404", "message": "Resource not found"}})
            return
        assert self.headers.get("api-key") == "azure-fake-key", "the AzureOpenAI client sends api-key"
        super().do_POST()

    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        if status >= 400:
            obj = {"error": AZURE_ERRORS[status]}
        else:
            obj["prompt_filter_results"] = PROMPT_FILTERS
            for ch in obj.get("choices", []):
                ch["content_filter_results"] = FILTERS
        self.send_json(status, obj, headers)

    def _chunk(self, payload: bytes) -> None:
        if payload.startswith(b"data: {"):
            obj = json.loads(payload[6:])
            if obj["choices"] and obj["choices"][0]["delta"].get("role"):  # Azure's first chunk: the prompt's filters
                first = {"id": "", "object": "", "created": 0, "model": "", "choices": [],
                         "prompt_filter_results": PROMPT_FILTERS}
                super()._chunk(f"data: {json.dumps(first)}\n\n".encode())
            for ch in obj["choices"]:
                ch["content_filter_results"] = {} if ch["delta"].get("role") else FILTERS
            payload = f"data: {json.dumps(obj)}\n\n".encode()
        super()._chunk(payload)


def run_tool(rec: Recorder, tc: Any, iteration: int) -> str:
    """The app runs the tool the model asked for, in its span ``tool.get_order_status`` (attributes ``app.*``)."""
    with rec.app.start_as_current_span("tool.get_order_status", attributes={
            "app.tool.name": tc.function.name, "app.tool.call_id": tc.id,
            "app.tool.arguments": tc.function.arguments, "app.iteration": iteration}):
        return get_order_status(**json.loads(tc.function.arguments))


def run_errors_and_duplicate(rec: Recorder, ask: Any, error: type[Exception]) -> None:
    """``errors``: a 429 then a 500, each surfaced to the app (no retries); ``duplicate``: the identical request
    twice, temperature 0. ``ask(question, **options)`` is one chat call of the client's SDK."""
    SCRIPT[:] = list(ERRORS)
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for q in (Q1, Q2):
            try:
                ask(q, max_tokens=200)
            except error as exc:
                surfaced.append(exc.status_code)  # type: ignore[attr-defined]
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            ask(Q1, max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


def scenarios(rec: Recorder, client: Any) -> None:
    import openai

    def msgs(q: str, system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": q}]

    def stream(q: str, mx: int) -> None:
        for _ in client.chat.completions.create(model=DEPLOYMENT, messages=msgs(q), max_tokens=mx, stream=True,
                                                stream_options={"include_usage": True}):
            pass

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):  # a conversation: the follow-up carries the first answer
        first = client.chat.completions.create(model=DEPLOYMENT, messages=msgs(Q1), max_tokens=200)
        client.chat.completions.create(model=DEPLOYMENT, max_tokens=200, messages=[
            *msgs(Q1), {"role": "assistant", "content": first.choices[0].message.content}, {"role": "user", "content": Q2}])
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            client.chat.completions.create(model=DEPLOYMENT, messages=msgs(q, BIG), max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        stream(Q1, 256)
        stream(Q2, 64)
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = msgs(Q1)
        for iteration in range(1, 4):
            m = client.chat.completions.create(model=DEPLOYMENT, messages=history, tools=TOOLS_OA).choices[0].message
            history.append(m.model_dump(exclude_none=True))
            history += [{"role": "tool", "tool_call_id": tc.id, "content": run_tool(rec, tc, iteration)}
                        for tc in m.tool_calls or []]
            if not m.tool_calls:
                break
    rec.flush("tool_use")

    run_errors_and_duplicate(rec, lambda q, **kw: client.chat.completions.create(
        model=DEPLOYMENT, messages=msgs(q), **kw), openai.APIStatusError)


def inference_scenarios(rec: Recorder, client: Any) -> None:
    """The same scenarios through azure-ai-inference's ChatCompletionsClient (its own message and tool types)."""
    from azure.ai.inference.models import AssistantMessage, SystemMessage, ToolMessage, UserMessage
    from azure.core.exceptions import HttpResponseError

    def msgs(q: str, system: str = SYSTEM) -> list[Any]:
        return [SystemMessage(system), UserMessage(q)]

    def ask(q: str, system: str = SYSTEM, **kw: Any) -> Any:
        return client.complete(messages=msgs(q, system), model=DEPLOYMENT, **kw)

    def stream(q: str, mx: int) -> None:
        for _ in client.complete(messages=msgs(q), model=DEPLOYMENT, max_tokens=mx, stream=True,
                                 model_extras={"stream_options": {"include_usage": True}}):
            pass

    def conversation() -> None:
        first = ask(Q1, max_tokens=200).choices[0].message.content
        client.complete(messages=[*msgs(Q1), AssistantMessage(first), UserMessage(Q2)], model=DEPLOYMENT, max_tokens=200)

    for scenario, workflow, steps, run in (
            ("healthy", "order-status", HEALTHY, conversation),
            ("cached", "policy-qa", CACHED,
             lambda: [ask(q, BIG, max_tokens=300) for q in ("When is my refund?", Q1, Q2)]),
            ("streaming", "order-updates", STREAMING, lambda: (stream(Q1, 256), stream(Q2, 64)))):
        SCRIPT[:] = list(steps)
        with rec.root(scenario, workflow):
            run()
        rec.flush(scenario)

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = msgs(Q1)
        for iteration in range(1, 4):
            m = client.complete(messages=history, model=DEPLOYMENT, tools=TOOLS_OA).choices[0].message
            history.append(AssistantMessage(content=m.content, tool_calls=m.tool_calls))
            history += [ToolMessage(run_tool(rec, tc, iteration), tool_call_id=tc.id) for tc in m.tool_calls or []]
            if not m.tool_calls:
                break
    rec.flush("tool_use")

    run_errors_and_duplicate(rec, ask, HttpResponseError)


def run_inference(rec: Recorder, port: int) -> tuple[str, ...]:
    """azure-ai-inference's ChatCompletionsClient on the deployment's endpoint (Azure OpenAI's form), traced by its
    own AIInferenceInstrumentor through azure-core-tracing-opentelemetry; a per-retry policy sends the request
    to the fake (the span's server.address stays Azure's host, read from the client's endpoint); no retries."""
    os.environ["AZURE_SDK_TRACING_IMPLEMENTATION"] = "opentelemetry"
    from azure.ai.inference import ChatCompletionsClient
    from azure.ai.inference.tracing import AIInferenceInstrumentor
    from azure.core.credentials import AzureKeyCredential
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.core.settings import settings

    settings.tracing_implementation = "opentelemetry"
    AIInferenceInstrumentor().instrument(enable_content_recording=True)

    class Loopback(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            url = urlsplit(request.http_request.url)
            assert url.hostname == HOST, url
            request.http_request.url = url._replace(scheme="http", netloc=f"127.0.0.1:{port}").geturl()

    client = ChatCompletionsClient(endpoint=f"{ENDPOINT}/openai/deployments/{DEPLOYMENT}", retry_total=0,
                                   credential=AzureKeyCredential("azure-fake-key"), api_version=API_VERSION,
                                   per_retry_policies=[Loopback()])
    inference_scenarios(rec, client)
    return ("azure-ai-inference", "azure-core", "azure-core-tracing-opentelemetry")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    recorder = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    srv = serve(AzureHandler)
    if src == "azure-ai-inference":
        packages = run_inference(recorder, srv.server_address[1])
    else:
        # the embed generator's set-up of each library (content capture on)
        packages = ("openai", *embed_instrument(src.replace("azure-", "embed-"), recorder))
        import openai

        scenarios(recorder, openai.AzureOpenAI(api_key="azure-fake-key", api_version=API_VERSION, max_retries=0,
                                               azure_endpoint=ENDPOINT, http_client=to_loopback(srv.server_address[1])))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    recorder.write(src, {"versions": versions("opentelemetry-sdk", *packages)})
