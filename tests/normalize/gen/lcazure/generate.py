"""Capture real spans of langchain-azure-ai's OpenTelemetry tracer over LangGraph ReAct agents, against fake provider APIs.

``AzureAIOpenTelemetryTracer`` (langchain_azure_ai/callbacks/tracers/inference_tracing.py) is a LangChain callback
handler that writes GenAI semantic-convention spans itself: ``invoke_agent {name}`` for the LangGraph graph (a chain
run; its nodes are filtered out unless ``trace_all_langgraph_nodes``), ``chat {model}`` for each chat-model run,
``execute_tool {tool}`` for each tool run. Its spans go through the global TracerProvider
(``otel_trace.get_tracer(name, schema_url=...)`` in ``__init__``): here the Recorder's, with an in-memory exporter.
It would configure Azure Monitor (``configure_azure_monitor``) only when ``auto_configure_azure_monitor`` is on and a
connection string is found (argument, Foundry project, ``APPLICATION_INSIGHTS_CONNECTION_STRING``): here
``connection_string=None, auto_configure_azure_monitor=False`` and the variable removed, so nothing is sent to Azure
(and ``_configure_azure_monitor`` skips itself anyway once a real TracerProvider is set). Content recording on
(``enable_content_recording=True``, its default). The tracer is passed as a LangChain callback: each agent that
langgraph's prebuilt ``create_react_agent`` builds is bound ``.with_config(callbacks=[tracer])``, as an app passes
``config={"callbacks": [tracer]}`` to ``invoke``.

Sources (one process each):

* ``langchain-azure-ai-tracer``            ``create_react_agent`` over langchain-openai ``ChatOpenAI``
                                           (``max_retries=0``) against the fake OpenAI Chat Completions API of
                                           ``../py_native`` (``OpenAIHandler``): ``../py_agents2`` ``run_langgraph``
                                           unchanged (its scenarios and prompts, ``../chat_script.py``) with
                                           OpenInference's LangChain instrumentor replaced by the tracer
* ``langchain-azure-ai-tracer-anthropic``  the same agent over langchain-anthropic ``ChatAnthropic`` (``max_retries=0``)
                                           against the fake Anthropic Messages API of ``../anthropic``:
                                           ``../olgraph`` ``run_anthropic`` unchanged (its scenarios) with the tracer
                                           in place of ``openlit.init``

Scenarios (the other captures'): ``healthy`` (2 calls, one conversation), ``cached`` (3 calls over a big system
prompt, the 2nd and 3rd with cached tokens; Anthropic: the 1st writes the cache), ``streaming`` (2 streamed calls,
the 2nd cut at max tokens), ``tool_use`` (the model asks for get_order_status, LangGraph's ToolNode runs it, the model
answers), ``errors`` (a 429 then a 500 surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request
twice, temperature 0).

``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; requirements.txt is its complete freeze after
``pip install 'langchain-azure-ai[opentelemetry]==1.2.12' opentelemetry-exporter-otlp-proto-http==1.45.1``;
langchain-azure-ai pins ``anthropic<1``)::

    python3 -m venv /tmp/venv-lcazure && /tmp/venv-lcazure/bin/pip install -r requirements.txt
    cd tests/normalize/gen/lcazure
    /tmp/venv-lcazure/bin/python generate.py langchain-azure-ai-tracer
    /tmp/venv-lcazure/bin/python generate.py langchain-azure-ai-tracer-anthropic

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and sets its entry in
``tests/normalize/data/lcazure-truth.json`` (the fake server's truth as its generator keeps it: py_native's fields for
the OpenAI source, ../anthropic's for the Anthropic one) with the versions that made it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import olgraph.generate as olg
import openlit2.generate as ol2
import py_agents2.generate as pa2
from capture import Recorder
from langtrace.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "lcazure-truth.json"
SOURCES = ("langchain-azure-ai-tracer", "langchain-azure-ai-tracer-anthropic")
LIBS = {"langchain-azure-ai-tracer": ("langchain-openai", "openai"),
        "langchain-azure-ai-tracer-anthropic": ("langchain-anthropic", "anthropic")}
for var in ("APPLICATION_INSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_CONNECTION_STRING",
            "AZURE_AI_PROJECT_ENDPOINT"):
    os.environ.pop(var, None)
os.environ["OTEL_AUTO_CONFIGURE_AZURE_MONITOR"] = "false"


def tracer_on() -> None:
    """The tracer as an app builds it without Azure Monitor, bound to every agent ``create_react_agent`` builds."""
    import langgraph.prebuilt
    from langchain_azure_ai.callbacks.tracers import AzureAIOpenTelemetryTracer

    tracer = AzureAIOpenTelemetryTracer(connection_string=None, enable_content_recording=True,
                                        auto_configure_azure_monitor=False)
    build = langgraph.prebuilt.create_react_agent

    def create_react_agent(*args: Any, **kwargs: Any) -> Any:
        return build(*args, **kwargs).with_config(callbacks=[tracer])

    langgraph.prebuilt.create_react_agent = create_react_agent


class TracerInstead:
    """Stands for the OpenInference instrumentor py_agents2's runner turns on: the Azure AI tracer instead."""

    def instrument(self, **_: Any) -> None:
        tracer_on()


def write(rec: Recorder, *_: str) -> None:
    from importlib.metadata import version

    names = ("langchain-azure-ai", "langgraph", "langgraph-prebuilt", "langchain-core", *LIBS[rec.source],
             "opentelemetry-sdk")
    rec.write(rec.source, {"versions": {n: version(n) for n in names}})


def run_openai(source: str) -> None:
    ol2._stub("openinference.instrumentation.langchain", LangChainInstrumentor=TracerInstead)
    pa2.recorder = lambda s: Recorder(s, TRUTH, pa2.TRUTH_NOW.begin, lambda: pa2.TRUTH_NOW.by_scenario, HERE)

    def done(rec: Recorder, *packages: str) -> None:
        assert not pa2.SCRIPT, f"unused answers: {pa2.SCRIPT}"
        write(rec)

    pa2.write = done
    pa2.run_langgraph(source)


def run_anthropic(source: str) -> None:
    olg.TRUTH, olg.openlit_init, olg.write = TRUTH, tracer_on, write
    olg.run_anthropic(source)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    (run_anthropic if sys.argv[1].endswith("-anthropic") else run_openai)(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
