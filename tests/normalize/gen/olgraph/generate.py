"""Capture real spans of OpenLIT's LangGraph instrumentation over LangGraph agents, against fake provider APIs.

OpenLIT (``openlit.init(capture_message_content=True)`` with the Recorder's global TracerProvider kept:
openlit/otel/tracing.py ``setup_tracing`` reuses an SDK TracerProvider it finds; no metrics or events; the local
prices of ``openlit_pricing.json`` beside this script) turns on every instrumentor whose library is installed. In
these venvs those are ``langgraph``, ``langchain`` (its callback handler, scope ``openlit.instrumentation.langchain``),
``openai`` and ``anthropic``; the run records which ones were instrumented in the truth file (``instrumentors``).
So one model call may be told by three layers: LangGraph's ``invoke_workflow {graph}`` span
(openlit/instrumentation/langgraph/langgraph.py general_wrap over ``Pregel.invoke``) and its ``invoke_agent agent``
node span (wrap_add_node), both of which copy the last message's model, usage, finish reason and response id
(utils.py extract_llm_info_from_result), the LangChain callback's ``chat {model}`` span, and the client SDK's span
(openai.py / anthropic.py return ``wrapped(...)`` unspanned when ``is_framework_llm_active()``, set by the LangChain
callback). The counted-once rules must hold over all of them.

Sources (one process each):

* ``openlit-langgraph``            langgraph's prebuilt ``create_react_agent`` over langchain-openai ``ChatOpenAI``
                                   (``max_retries=0``) against the fake OpenAI Chat Completions API of
                                   ``../py_native`` (``OpenAIHandler``), ``../py_agents2`` ``run_langgraph`` unchanged
                                   (its scenarios and prompts, ``../chat_script.py``) with OpenInference's LangChain
                                   instrumentor replaced by ``openlit.init``
* ``openlit-langgraph-anthropic``  the same agent over langchain-anthropic ``ChatAnthropic`` (``max_retries=0``)
                                   against the fake Anthropic Messages API of ``../anthropic`` (``AnthropicHandler``,
                                   its truth keeping); anthropic >= 2's own tracing off
                                   (``ANTHROPIC_OPEN_TELEMETRY=false``) so that OpenLIT is seen alone

Scenarios (the other captures'): ``healthy`` (2 calls, one conversation), ``cached`` (3 calls over a big system
prompt, the 2nd and 3rd with cached tokens; Anthropic: the 1st writes the cache), ``streaming`` (2 streamed calls,
the 2nd cut at max tokens), ``tool_use`` (the model asks for get_order_status, LangGraph's ToolNode runs it, the model
answers), ``errors`` (a 429 then a 500 surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request
twice, temperature 0).

``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; requirements.txt is its complete freeze,
installed ``--no-deps``: openlit 1.45.0's full dependency set does not resolve (it pins ``anthropic<1``, which
langchain-anthropic 1.7 does not take))::

    python3 -m venv /tmp/venv-olgraph && /tmp/venv-olgraph/bin/pip install --no-deps -r requirements.txt
    /tmp/venv-olgraph/bin/python generate.py openlit-langgraph
    /tmp/venv-olgraph/bin/python generate.py openlit-langgraph-anthropic

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/olgraph-truth.json`` (the fake server's truth as its generator keeps
it: py_native's fields for the OpenAI source, ../anthropic's for the Anthropic one) with the versions that made it
and the OpenLIT instrumentors that were on.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import openlit2.generate as ol2
import py_agents2.generate as pa2
from capture import Recorder, serve
from langtrace.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "olgraph-truth.json"
SOURCES = ("openlit-langgraph", "openlit-langgraph-anthropic")
#: the libraries each source calls (their versions go to the truth file)
LIBS = {"openlit-langgraph": ("langchain-openai", "openai"),
        "openlit-langgraph-anthropic": ("langchain-anthropic", "anthropic")}
INSTRUMENTORS: list[str] = []


def openlit_init() -> None:
    """``openlit.init`` as an app calls it, nothing disabled; then which of its instrumentors are on."""
    import openlit
    from openlit._instrumentors import get_all_instrumentors

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE / "openlit_pricing.json"), disable_metrics=True, disable_events=True)
    # every instrumentor is a singleton (BaseInstrumentor.__new__): these are the ones init used
    INSTRUMENTORS[:] = sorted(n for n, i in get_all_instrumentors().items()
                              if getattr(i, "is_instrumented_by_opentelemetry", False))
    print("openlit instrumentors on:", INSTRUMENTORS)


class OpenLITInstead:
    """Stands for the OpenInference instrumentor py_agents2's runner turns on: OpenLIT instead."""

    def instrument(self, **_: Any) -> None:
        openlit_init()


def write(rec: Recorder, *_: str) -> None:
    from importlib.metadata import version

    names = ("langgraph", "langgraph-prebuilt", "langchain-core", *LIBS[rec.source], "openlit", "opentelemetry-sdk")
    rec.write(rec.source, {"versions": {n: version(n) for n in names}, "instrumentors": INSTRUMENTORS})


def run_openai(source: str) -> None:
    ol2._stub("openinference.instrumentation.langchain", LangChainInstrumentor=OpenLITInstead)
    pa2.recorder = lambda s: Recorder(s, TRUTH, pa2.TRUTH_NOW.begin, lambda: pa2.TRUTH_NOW.by_scenario, HERE)

    def done(rec: Recorder, *packages: str) -> None:
        assert not pa2.SCRIPT, f"unused answers: {pa2.SCRIPT}"
        write(rec)

    pa2.write = done
    pa2.run_langgraph(source)


# --------------------------------------------------------------------------------------------------------
# the same agent over ChatAnthropic (the ../anthropic fake and truth)
# --------------------------------------------------------------------------------------------------------

def _load(name: str, rel: str) -> Any:
    """A sibling generator by path: ``anthropic`` is also the SDK's name."""
    spec = importlib.util.spec_from_file_location(name, HERE.parent / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_anthropic(source: str) -> None:
    anth = _load("anthropic_gen", "anthropic/generate.py")
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    script, usage, haiku = anth.SCRIPT, anth.usage, anth.HAIKU
    rec = Recorder(source, TRUTH, anth.TRUTH_NOW.begin, lambda: anth.TRUTH_NOW.by_scenario, HERE)
    openlit_init()
    srv = serve(anth.AnthropicHandler)
    import anthropic
    from chat_script import BIG, Q1, Q2, SYSTEM, get_order_status
    from langchain_anthropic import ChatAnthropic
    from langchain_core.messages import SystemMessage
    from langchain_core.tools import tool
    from langgraph.prebuilt import create_react_agent

    order_status = tool(get_order_status)
    base = f"http://127.0.0.1:{srv.server_address[1]}"

    def agent(system: Any = SYSTEM, model: str = haiku, tools: Any = (), **kwargs: Any) -> Any:
        llm = ChatAnthropic(model=model, base_url=base, api_key="sk-ant-fake", max_retries=0, **kwargs)
        return create_react_agent(llm, list(tools), prompt=system)

    def ask(a: Any, *questions: str) -> None:
        messages: list[Any] = []
        for q in questions:
            messages = a.invoke({"messages": [*messages, ("user", q)]})["messages"]

    script[:] = [{"usage": usage(1200, 150), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."},
                 {"usage": usage(1350, 90), "stop": "end_turn", "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "order-status"):
        ask(agent(max_tokens=200), Q1, Q2)  # one conversation, the history sent again
    rec.flush("healthy")

    # the big system prompt marked cache_control: the 1st call writes the cache, the others read it
    cached_system = SystemMessage(content=[{"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}])
    script[:] = [{"usage": usage(240, 120, write=8960), "stop": "end_turn", "text": "Refunds take 5 business days."},
                 {"usage": usage(300, 110, read=8960), "stop": "end_turn", "text": "Order A-1001 shipped."},
                 {"usage": usage(350, 100, read=8960), "stop": "end_turn", "text": "Order A-1002 is packing."}]
    with rec.root("cached", "policy-qa"):
        a = agent(cached_system, model=anth.SONNET, max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            ask(a, q)
    rec.flush("cached")

    # ChatAnthropic(streaming=True) streams inside invoke (messages.create(stream=True)); the 2nd is cut at
    # max_tokens and its message_delta carries every count (as the API sends today)
    script[:] = [{"usage": usage(640, 48), "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and arrives Friday."},
                 {"usage": usage(700, 64), "stop": "max_tokens", "full_delta_usage": True,
                  "text": "Here is every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            ask(agent(max_tokens=mx, streaming=True), q)
    rec.flush("streaming")

    script[:] = [{"usage": usage(420, 60), "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": usage(520, 40), "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        ask(agent(model=anth.SONNET, tools=[order_status], max_tokens=512), Q1)
    rec.flush("tool_use")

    script[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                ask(agent(max_tokens=200), Q1)
            except anthropic.APIStatusError as exc:
                surfaced.append(type(exc).__name__)
    assert surfaced == ["AnthropicRateLimitError", "AnthropicAPIError"], surfaced  # langchain-anthropic's subclasses
    rec.flush("errors")

    script[:] = [{"usage": usage(520, 30), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."},
                 {"usage": usage(520, 30), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."}]
    with rec.root("duplicate", "order-status"):
        a = agent(max_tokens=100, temperature=0.0)
        for _ in range(2):
            ask(a, Q1)
    rec.flush("duplicate")

    srv.shutdown()
    assert not script, f"unused answers: {script}"
    write(rec)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    (run_anthropic if sys.argv[1].endswith("-anthropic") else run_openai)(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
