"""Capture real spans of Strands Agents traced by OpenInference's Strands span processor, against a fake OpenAI API.

Every model-call span in the output was emitted by Strands Agents itself (strands/telemetry/tracer.py, on the
global TracerProvider) and rewritten in place by OpenInference's ``StrandsAgentsToOpenInferenceProcessor``
(openinference-instrumentation-strands-agents: not an instrumentor but a SpanProcessor whose ``on_end`` adds
OpenInference ``llm.*`` / ``openinference.span.kind`` attributes beside Strands' own gen_ai.* ones and strips the
gen_ai.* span events; it runs before our in-memory exporter on the same provider, as its docstring asks). The
agent's model is Strands' ``OpenAIModel`` (strands-agents[openai], ``client_args`` with ``base_url`` on loopback,
``max_retries=0``; ``retry_strategy=None``: no Strands retries), which talked HTTP to the fake OpenAI Chat
Completions server of ``../py_native/generate.py`` (``OpenAIHandler``, imported unchanged with its truth
keeping) on 127.0.0.1. The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``); Strands
runs the tool itself (its ``execute_tool`` span).

Sources (one process each):

* ``strands-openinference``          Strands' ``OpenAIModel`` (openai 2.54.0: strands-agents[openai] wants openai<3) against
                                     py_native's fake OpenAI, the scenarios below
* ``strands-bedrock-openinference``  ``../bedrock/generate.py`` ``run_strands`` unchanged: Strands' ``BedrockModel``
                                     against that generator's fake Bedrock Runtime, its scenarios and scripted
                                     answers (those of its ``strands-bedrock``, Strands' own tracing alone), with
                                     the processor added: the same spans before and after OpenInference

``strands-openinference``'s scripted answers are ``../chat_script.py``'s (the agent-framework captures'
conversation): ``healthy`` (2 calls, one conversation: the agent keeps its history), ``cached`` (a big system
prompt, 3 calls, the 2nd and 3rd with ``cached_tokens``), ``streaming`` (2 streamed calls, the 2nd cut at
max_tokens: Strands raises MaxTokensReachedException, the app takes the cut answer), ``tool_use`` (o4-mini asks for
get_order_status with reasoning tokens, Strands runs the tool, the model answers), ``errors`` (a 429 then a 500
surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request twice, temperature 0). Strands'
OpenAIModel streams by default; every scenario but ``streaming`` sets ``stream=False``.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/oistrands
    python3 -m venv /tmp/venv-oistrands && /tmp/venv-oistrands/bin/pip install -r requirements.txt
    /tmp/venv-oistrands/bin/python generate.py strands-openinference
    /tmp/venv-oistrands/bin/python generate.py strands-bedrock-openinference

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/oistrands-truth.json`` (the fake's truth fields as its generator keeps them: py_native's,
bedrock's), with the versions that made it. Name
lookups and connections beyond loopback are refused (``../langtrace/generate.py`` ``loopback_only``); a run prints
what was refused.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import RESOURCE, Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from langtrace.generate import REFUSED, loopback_only
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler

TRUTH = HERE.parent.parent / "data" / "oistrands-truth.json"
SOURCE = "strands-openinference"
BEDROCK = "strands-bedrock-openinference"
PACKAGES = ("strands-agents", "openinference-instrumentation-strands-agents", "openinference-semantic-conventions",
            "openai", "opentelemetry-sdk")


def recorder(cls: type[Recorder], source: str, truth: Any) -> Recorder:
    """The Recorder on a provider of ours: OpenInference's processor first (it rewrites each span as it ends),
    then the in-memory exporter, set as the global provider Strands' tracer takes (telemetry/tracer.py
    ``trace_api.get_tracer_provider()``, read when its Tracer is first made)."""
    from openinference.instrumentation.strands_agents import StrandsAgentsToOpenInferenceProcessor
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tp = TracerProvider(resource=Resource.create(RESOURCE))
    tp.add_span_processor(StrandsAgentsToOpenInferenceProcessor())  # content kept: the default TraceConfig
    spans = InMemorySpanExporter()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tp)
    return cls(source, TRUTH, truth.begin, lambda: truth.by_scenario, HERE, tracer_provider=tp, spans=spans)


def run_bedrock() -> None:
    """``../bedrock/generate.py`` ``run_strands`` unchanged (its scenarios, scripted answers and fake Bedrock Runtime,
    Strands' BedrockModel on loopback) with OpenInference's processor on the provider; its truth goes under this
    source's name in this group's truth file."""
    import bedrock.generate as bg

    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)

    class Rec(Recorder):
        def write(self, family: str | None = None, extra: dict[str, Any] | None = None) -> None:
            super().write(BEDROCK, {"versions": versions(*PACKAGES[:3], "boto3", "opentelemetry-sdk")})

    rec = recorder(Rec, BEDROCK, bg.TRUTH_NOW)
    bg.run_strands(rec, serve(bg.BedrockHandler))


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def run() -> None:
    rec = recorder(Recorder, SOURCE, TRUTH_NOW)
    srv = serve(OpenAIHandler)
    from strands import Agent, tool
    from strands.models.openai import OpenAIModel
    from strands.types.exceptions import MaxTokensReachedException

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    order_status = tool(get_order_status)

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), stream: bool = False,
              **params: Any) -> Any:
        m = OpenAIModel(client_args={"api_key": "sk-fake", "base_url": base, "max_retries": 0}, model_id=model,
                        stream=stream, params=params)
        return Agent(model=m, system_prompt=system, tools=list(tools), retry_strategy=None, callback_handler=None,
                     name="support")

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        a = agent(max_tokens=200)
        a(Q1)
        a(Q2)  # one conversation: the agent sends its history again
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            agent(BIG, max_tokens=300)(q)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        agent(stream=True, max_tokens=256)(Q1)
        try:
            agent(stream=True, max_tokens=64)(Q2)
        except MaxTokensReachedException:
            pass  # Strands raises on a max_tokens stop (event_loop.py); the app takes the cut answer
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        agent(model="o4-mini", tools=[order_status])(Q1)
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                agent(max_tokens=200)(Q1)
            except Exception as exc:  # noqa: BLE001 - Strands' ModelThrottledException, openai's APIStatusError
                surfaced.append(type(exc).__name__)
    assert surfaced == ["ModelThrottledException", "InternalServerError"], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            agent(max_tokens=100, temperature=0.0)(Q1)
    rec.flush("duplicate")

    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(SOURCE, {"versions": versions(*PACKAGES)})


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in (SOURCE, BEDROCK):
        raise SystemExit(f"usage: generate.py {{{SOURCE}|{BEDROCK}}}")
    os.environ.pop("OPENAI_API_KEY", None)
    loopback_only()
    (run if sys.argv[1] == SOURCE else run_bedrock)()
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
