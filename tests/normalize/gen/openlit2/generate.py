"""Capture real spans of OpenLIT over Groq, Mistral AI, LiteLLM, pydantic-ai and Cohere, against fake provider APIs.

Every model-call span in the output was emitted by OpenLIT (``openlit.init(capture_message_content=True)``, its
instrumentations of whatever is installed) wrapping a real client SDK that talked HTTP to a fake provider server on
127.0.0.1. Nothing is copied: the fake servers, their truth keeping and the scenario scripts are the other
generators', imported and run unchanged with OpenLIT in place of their instrumentations:

* ``groq-openlit``        groq 1.7.0 (``max_retries=0``), ``../py_native`` ``run_groq`` (``GroqHandler``: usage with
                          queue/prompt/completion times, ``prompt_tokens_details.cached_tokens``; a stream's usage
                          in its last chunk's ``x_groq.usage``; Groq's error JSON for 429 / 500)
* ``mistralai-openlit``   mistralai 1.12.4 (no retry_config), ``../py_native`` ``run_mistral`` (``MistralHandler``);
                          the SDK's own spans (scope ``mistralai_sdk_tracer``) come beside OpenLIT's, as an app
                          gets them
* ``litellm-openlit``     litellm 1.110.2 ``litellm.completion(model="openai/gpt-4o-mini", max_retries=0)`` over
                          the fake OpenAI Chat Completions API of ``../py_native`` (``OpenAIHandler``), the
                          scenarios of ``../py_vendors2`` ``openai_scenarios``; OpenLIT instruments both LiteLLM and
                          the OpenAI SDK, so one call may be reported twice (in this capture only OpenLIT's
                          LiteLLM ``chat`` span appears: no OpenAI SDK span under it)
* ``pydantic-ai-openlit`` pydantic-ai-slim 2.66.0 (with the ``pydantic-ai`` 2.66.0 distribution, installed
                          ``--no-deps``: OpenLIT's PydanticAIInstrumentor checks that name) ``Agent(OpenAIChatModel)``
                          over ``AsyncOpenAI(max_retries=0)`` (openai 2.54.0),
                          ``../oi2`` ``run_pydantic_ai`` with pydantic-ai's own instrumentation left off (its
                          ``Agent.instrument_all`` and OpenInference's span processor replaced by ``openlit.init``),
                          so OpenLIT's pydantic-ai and OpenAI spans are seen alone
* ``cohere-openlit``      cohere 5.21.1 ``ClientV2`` (``request_options={"max_retries": 0}``), ``../py_native``
                          ``run_cohere`` (``CohereHandler``: usage.billed_units, usage.tokens, usage.cached_tokens;
                          SSE events when streaming)

Scenarios (the other captures'): ``healthy`` (2 calls), ``cached`` (3 calls over a big system prompt, the 2nd and
3rd with cached tokens), ``streaming`` (2 streamed calls, the 2nd cut at max tokens), ``tool_use`` (the model asks
for get_order_status, the app (pydantic-ai: the agent) runs it, the model answers), ``errors`` (a 429 then a 500
surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request twice, temperature 0).

Re-run (Python 3.11; a venv of its own under /tmp, never the project's .venv; requirements.txt is its complete
freeze, installed ``--no-deps``: openlit 1.45.0's full dependency set does not resolve)::

    python3 -m venv /tmp/gen-openlit2 && /tmp/gen-openlit2/bin/pip install --no-deps -r requirements.txt
    for s in groq-openlit mistralai-openlit litellm-openlit pydantic-ai-openlit cohere-openlit; do
        /tmp/gen-openlit2/bin/python generate.py $s
    done

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/openlit2-truth.json`` (the fake server's truth as its generator keeps
it: ``calls`` incl. failed, ``failed``, ``input`` incl. cache, ``output`` incl. reasoning, ``cache_read``,
``cache_write``, ``reasoning``, ``finish_reasons``, ``models``) with the versions that made it.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import oi2.generate as oi2
import py_native.generate as native
import py_vendors2.generate as pv2
from capture import Recorder, serve

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # openlit.init imports litellm: its bundled prices, no fetch
TRUTH = HERE.parent.parent / "data" / "openlit2-truth.json"
SOURCES = ("groq-openlit", "mistralai-openlit", "litellm-openlit", "pydantic-ai-openlit", "cohere-openlit")
#: the client library each source calls (its version goes to the truth file)
CLIENT = {"groq-openlit": ("groq",), "mistralai-openlit": ("mistralai",), "litellm-openlit": ("litellm", "openai"),
          "pydantic-ai-openlit": ("pydantic-ai-slim", "openai"), "cohere-openlit": ("cohere",)}


def recorder(source: str, **kw: Any) -> Recorder:
    rec = Recorder(source, TRUTH, native.TRUTH_NOW.begin, lambda: native.TRUTH_NOW.by_scenario, HERE, **kw)
    if "tracer_provider" in kw:  # oi2's pydantic-ai runner builds its own provider: OpenLIT keeps a global one
        from opentelemetry import trace

        trace.set_tracer_provider(kw["tracer_provider"])
    return rec


def write(rec: Recorder, *_: str) -> None:
    from importlib.metadata import version

    assert not native.SCRIPT, f"unused answers: {native.SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in (*CLIENT[rec.source], "openlit", "opentelemetry-sdk")}})


def _stub(module: str, **names: Any) -> None:
    """The runner imports another instrumentation here: a module of that name that does nothing of its own."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        try:
            importlib.import_module(name)  # the real packages above it (opentelemetry.instrumentation)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
    for k, v in names.items():
        setattr(sys.modules[module], k, v)


class OpenLITInstead:
    """Stands for the OpenLLMetry instrumentor py_native's runner turns on: OpenLIT instead (py_vendors2's init:
    the Recorder's global TracerProvider kept, no metrics or events, local prices)."""

    def instrument(self, **_: Any) -> None:
        pv2.openlit_init()


def run_native(source: str) -> None:
    name = source.removesuffix("-openlit")
    mod = {"groq": "groq", "mistralai": "mistralai", "cohere": "cohere"}[name]
    _stub(f"opentelemetry.instrumentation.{mod}", **{f"{c}Instrumentor": OpenLITInstead
                                                      for c in ("Groq", "MistralAi", "Cohere")})
    native.recorder, native.write = recorder, write
    {"groq": native.run_groq, "mistralai": native.run_mistral, "cohere": native.run_cohere}[name](source)


def run_litellm(source: str) -> None:
    rec = recorder(source)
    pv2.openlit_init()
    srv = serve(native.OpenAIHandler)
    import litellm

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def msgs(turns: list[Any]) -> list[dict[str, Any]]:
        return [t if isinstance(t, dict) else {"role": "tool", "tool_call_id": t[1], "name": t[2], "content": t[3]}
                if len(t) == 4 else {"role": t[0], "content": t[1]} for t in turns]

    def complete(turns: list[Any], **kw: Any) -> Any:
        return litellm.completion(model="openai/gpt-4o-mini", messages=msgs(turns), api_base=base, api_key="sk-fake",
                                  max_retries=0, **kw)

    def chat(turns: list[Any], **kw: Any) -> str:
        return str(complete(turns, **kw).choices[0].message.content)

    def stream(turns: list[Any], **kw: Any) -> None:
        for _ in complete(turns, stream=True, stream_options={"include_usage": True}, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        turns = [("system", pv2.SYSTEM), ("user", pv2.Q1)] if history is None else history
        m = complete(turns, tools=native.TOOLS_OA, max_tokens=512).choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        return calls, [*turns, m.model_dump(exclude_none=True)]

    pv2.openai_scenarios(rec, native.SCRIPT, native.oa, chat, stream, tool_turn, (litellm.RateLimitError,
                                                                                 litellm.InternalServerError))
    srv.shutdown()
    write(rec)


def run_pydantic_ai(source: str) -> None:
    from opentelemetry.sdk.trace import SpanProcessor

    _stub("openinference.instrumentation.pydantic_ai", OpenInferenceSpanProcessor=SpanProcessor)
    from pydantic_ai import Agent

    Agent.instrument_all = staticmethod(lambda *_a, **_k: pv2.openlit_init())  # type: ignore[method-assign]
    oi2.recorder, oi2.write = recorder, write
    oi2.run_pydantic_ai(source)


RUNNERS = {"groq-openlit": run_native, "mistralai-openlit": run_native, "litellm-openlit": run_litellm,
           "pydantic-ai-openlit": run_pydantic_ai, "cohere-openlit": run_native}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
