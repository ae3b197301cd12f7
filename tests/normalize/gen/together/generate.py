"""Capture real spans of the Together AI Python SDK under OpenLLMetry and OpenLIT, and of the OpenAI client at
Fireworks' host under OTel contrib's openai-v2, against a fake OpenAI-shaped API.

Every model-call span in the output was emitted by a real instrumentation library wrapping the real ``together``
client (1.6.0: both instrumentations wrap ``together.resources.chat.completions.ChatCompletions.create``, the 1.x
SDK; opentelemetry-instrumentation-together 0.62.4 declares ``together >= 1.2.0, <2``), which talked HTTP to a fake
on 127.0.0.1 started by this script. The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``) and, in ``tool_use``, the app's ``tool.get_order_status`` span.

The fake is the OpenAI-shaped Chat Completions fake of ``../py_native/generate.py`` (``OpenAIHandler``), imported
unchanged with its truth keeping, and the scenarios are ``../py_vendors2/generate.py``'s ``openai_scenarios``:
Together's chat API is OpenAI's shape (together 1.6.0 resources/chat/completions.py posts ``chat/completions``
under ``base_url`` ``.../v1/``; types/chat_completions.py ``UsageData`` has prompt/completion/total tokens and
``BaseModel`` allows extra fields, so ``prompt_tokens_details.cached_tokens`` passes through; error bodies are
``{"error": {message, type, param, code}}``, abstract/api_requestor.py handle_error_response). One difference is
kept here: Together's stream ends with a usage chunk without ``stream_options`` (the SDK has no such parameter),
so every streamed request is answered with it. Model: ``meta-llama/Llama-3.3-70B-Instruct-Turbo``, served under
the same name. No SDK retries (``Together(max_retries=0)``).

Sources (one process each):

* ``together-openllmetry``  opentelemetry-instrumentation-together 0.62.4 (``TRACELOOP_TRACE_CONTENT=true``)
* ``together-openlit``      openlit 1.45.0 (``openlit.init(capture_message_content=True)``), its together
                            instrumentation
* ``fireworks-openai-v2``   OTel contrib's opentelemetry-instrumentation-openai-v2 2.4b0 (opentelemetry-util-genai
                            1.1b0, ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``, content
                            ``SPAN_ONLY``) over the plain OpenAI client (openai 2.54.0) at Fireworks' base URL
                            ``https://api.fireworks.ai/inference/v1``, its requests carried to the same fake by an
                            httpx transport (so ``server.address`` is ``api.fireworks.ai``), model
                            ``accounts/fireworks/models/deepseek-v3-0324``

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv; openlit's section is installed ``--no-deps`` as py_vendors2's is)::

    cd tests/normalize/gen/together
    sed -n '/^# \\[openlit\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/tg_ol.txt
    sed -n '/^# \\[openllmetry\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/tg_tl.txt
    python3 -m venv /tmp/tg_openlit && /tmp/tg_openlit/bin/pip install --no-deps -r /tmp/tg_ol.txt
    python3 -m venv /tmp/tg_llm && /tmp/tg_llm/bin/pip install -r /tmp/tg_tl.txt
    /tmp/tg_llm/bin/python generate.py together-openllmetry
    /tmp/tg_openlit/bin/python generate.py together-openlit
    sed -n '/^# \\[openai-v2\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/tg_v2.txt
    python3 -m venv /tmp/tg_v2 && /tmp/tg_v2/bin/pip install --no-deps -r /tmp/tg_v2.txt
    /tmp/tg_v2/bin/python generate.py fireworks-openai-v2

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/together-truth.json`` (py_native's truth fields, with the versions that made it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import Q1, SYSTEM  # the shared prompts
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa
from py_vendors2.generate import openai_scenarios, openlit_init, versions

TRUTH = HERE.parent.parent / "data" / "together-truth.json"
MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
#: Fireworks' model names are account paths (genai-prices prices this one under ``fireworks``)
FIREWORKS_MODEL = "accounts/fireworks/models/deepseek-v3-0324"
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


class TogetherHandler(OpenAIHandler):
    """Together streams its usage in the last chunk unasked: the fake answers every stream with it."""

    def _body(self) -> Any:
        body = OpenAIHandler._body(self)
        if body.get("stream"):
            body["stream_options"] = {"include_usage": True}
        return body


def fireworks_client(port: int) -> Any:
    """The OpenAI client at Fireworks' own base URL (docs.fireworks.ai: ``https://api.fireworks.ai/inference/v1``),
    its requests carried to the fake on 127.0.0.1: the instrumentation reads ``server.address`` from the client's
    base URL (opentelemetry-instrumentation-openai-v2 2.4b0 utils.py get_server_address_and_port)."""
    import openai

    try:
        import httpx2 as httpx  # openai 3.x's HTTP client (_base_client.py ``import httpx2``)
    except ImportError:
        import httpx

    class ToLoopback(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return super().handle_request(request)

    return openai.OpenAI(api_key="fw-fake", base_url="https://api.fireworks.ai/inference/v1", max_retries=0,
                         http_client=httpx.Client(transport=ToLoopback()))


def run(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(TogetherHandler)
    port = srv.server_address[1]
    model, stream_kw = MODEL, {}
    if source == "fireworks-openai-v2":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
        import openai
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
        libs: tuple[str, ...] = ("opentelemetry-instrumentation-openai-v2", "openai")
        client, model, stream_kw = fireworks_client(port), FIREWORKS_MODEL, {"stream_options": {"include_usage": True}}
        failure: type[Exception] = openai.APIStatusError
    else:
        if source == "together-openlit":
            openlit_init()
            libs = ("openlit", "together")
        else:
            os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
            from opentelemetry.instrumentation.together import TogetherAiInstrumentor

            TogetherAiInstrumentor().instrument(tracer_provider=rec.tp)
            libs = ("opentelemetry-instrumentation-together", "together")
        from together import Together, error

        client = Together(api_key="fake-key", base_url=f"http://127.0.0.1:{port}/v1/", max_retries=0)
        failure = error.TogetherException

    def msgs(turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"role": r, "content": t} for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        try:
            r = client.chat.completions.create(model=model, messages=msgs(turns), **kw)
        except failure as exc:  # together's http_status, openai's status_code: py_vendors2.status_of reads the latter
            raise StatusError(getattr(exc, "http_status", None) or getattr(exc, "status_code", 0)) from exc
        return str(r.choices[0].message.content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=model, messages=msgs(turns), stream=True, **stream_kw, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        m = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else [
            {"role": "tool", "tool_call_id": h[1], "name": h[2], "content": h[3]} if isinstance(h, tuple) else h
            for h in history]
        msg = client.chat.completions.create(model=model, messages=m, tools=TOOLS, max_tokens=512).choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in msg.tool_calls or []]
        answer = {"role": "assistant", "content": msg.content,
                  **({"tool_calls": [tc.model_dump() for tc in msg.tool_calls]} if msg.tool_calls else {})}
        return calls, [*m, answer]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (StatusError,))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions(*libs, "opentelemetry-sdk")})


class StatusError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


SOURCES = ("together-openllmetry", "together-openlit", "fireworks-openai-v2")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    run(sys.argv[1])
