"""Capture real spans of two decorator SDKs that name workflows, Langfuse's Python SDK and Traceloop's SDK, over the
OpenAI client against a fake OpenAI server.

Every model-call span in the output was emitted by a real library wrapping a real ``openai`` client, which talked
HTTP to the fake Chat Completions server of ``../py_native/generate.py`` on 127.0.0.1 (``OpenAIHandler``, imported
unchanged with its truth keeping: usage with ``cached_tokens`` and ``reasoning_tokens``, finish reasons stop /
length / tool_calls, 429 and 500 with OpenAI's error JSON, SSE with a usage chunk when asked for). The scenarios
are ``../py_vendors2/generate.py``'s ``openai_scenarios`` (healthy, cached, streaming, tool_use, errors,
duplicate; the app's system prompt "You are a support assistant for ACME." and "Where is order A-1001?" / "And
order A-1002?"), run unchanged with each SDK's decorators around the calls and its tool decorator in place of
that module's ``tool_span``. The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``,
attribute ``app.workflow``).

Sources (one process each):

* ``langfuse-py-openai``   langfuse (Python SDK, OTel-based) ``Langfuse(tracer_provider=<the Recorder's>,
                           span_exporter=<an in-memory exporter>)``: its own processor exports nowhere; the
                           Recorder's exporter sees every span. ``@observe`` around each call (``as_type="agent"``
                           for the tool turn, ``"tool"`` for the tool), ``propagate_attributes(trace_name=
                           "support-<scenario>")`` inside (``langfuse.trace.name`` on every span below), the
                           ``langfuse.openai`` drop-in ``OpenAI(max_retries=0)`` for the calls; plus a scenario
                           ``manual``: one call over plain httpx reported by hand as
                           ``start_as_current_observation(as_type="generation")`` with ``usage_details`` in
                           Langfuse's own disjoint keys (``input`` without ``input_cached_tokens``, ``output``
                           without ``output_reasoning_tokens``) and ``cost_details``
* ``traceloop-sdk-openai`` traceloop-sdk ``Traceloop.init(exporter=<in-memory>, disable_batch=True,
                           instruments={OPENAI})`` on the Recorder's provider (tracing/tracing.py
                           init_tracer_provider keeps an SDK provider already set), ``TRACELOOP_TRACE_CONTENT=true``,
                           telemetry off; ``@workflow(name="support-<scenario>")`` > ``@task`` / ``@agent`` around
                           each call, ``@tool`` for the tool, the OpenAI instrumentation it bundles for the calls

Re-run (Python 3.11; one venv under /tmp, never the project's .venv)::

    python3 -m venv /tmp/lfts/venv && /tmp/lfts/venv/bin/pip install -r tests/normalize/gen/lfts/requirements.txt
    cd tests/normalize/gen/lfts
    /tmp/lfts/venv/bin/python generate.py langfuse-py-openai
    /tmp/lfts/venv/bin/python generate.py traceloop-sdk-openai

Versions: langfuse 5.2.0, traceloop-sdk 0.62.4 (opentelemetry-instrumentation-openai 0.62.4), openai 3.57.0,
opentelemetry-sdk 1.45.1 (requirements.txt; per source ``versions`` in the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/lfts-truth.json``: per scenario ``calls`` (failed included), ``failed``, ``input``
(``prompt_tokens``, cached included), ``output`` (reasoning included), ``cache_read``, ``cache_write`` (0),
``reasoning``, ``finish_reasons``, ``models`` ([request model, served model]), ``usage_unsent``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import py_vendors2.generate as pv2
from capture import Recorder, serve
from chat_script import BIG, get_order_status
from py_native.generate import SCRIPT, TOOLS_OA, TRUTH_NOW, OpenAIHandler, oa, versions

TRUTH = HERE.parent.parent / "data" / "lfts-truth.json"
MODEL = "gpt-4o-mini"


def msgs(turns: list[Any]) -> list[dict[str, Any]]:
    """(role, text) turns, ("tool", id, name, result) tool results and assistant messages (dicts) as messages."""
    out: list[dict[str, Any]] = []
    for t in turns:
        if isinstance(t, dict):
            out.append(t)
        elif t[0] == "tool":
            out.append({"role": "tool", "tool_call_id": t[1], "content": t[3]})
        else:
            out.append({"role": t[0], "content": t[1]})
    return out


def calls_of(client: Any) -> tuple[Any, Any, Any]:
    """chat / stream / tool_turn for openai_scenarios over an OpenAI client."""
    def chat(turns: list[Any], **kw: Any) -> str:
        r = client.chat.completions.create(model=MODEL, messages=msgs(turns), **kw)
        return str(r.choices[0].message.content)

    def stream(turns: list[Any], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=MODEL, messages=msgs(turns), stream=True,
                                                stream_options={"include_usage": True}, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        m = msgs([("system", pv2.SYSTEM), ("user", pv2.Q1)] if history is None else history)
        r = client.chat.completions.create(model=MODEL, messages=m, tools=TOOLS_OA, max_tokens=512)
        msg = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in msg.tool_calls or []]
        return calls, [*m, msg.model_dump(exclude_none=True)]

    return chat, stream, tool_turn


def tool_span(run: Any) -> Any:
    """openai_scenarios' tool runner: the SDK's decorated tool, called with the model's arguments only."""
    def span(rec: Recorder, name: str, cid: str, args: dict[str, Any], iteration: int) -> str:
        return str(run(**args))
    return span


def run_langfuse(source: str, rec: Recorder, base: str) -> tuple[str, ...]:
    os.environ.update(LANGFUSE_PUBLIC_KEY="pk-lf-fake", LANGFUSE_SECRET_KEY="sk-lf-fake",
                      LANGFUSE_BASE_URL="http://127.0.0.1:9")  # never reached: its exporter is the in-memory one
    import httpx
    import openai
    from langfuse import Langfuse, observe, propagate_attributes
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    lf = Langfuse(tracer_provider=rec.tp, span_exporter=InMemorySpanExporter())
    from langfuse.openai import OpenAI

    chat, stream, tool_turn = calls_of(OpenAI(api_key="sk-fake", base_url=base, max_retries=0))

    def named(fn: Any, name: str, as_type: str = "span") -> Any:
        @observe(name=name, as_type=as_type)  # type: ignore[call-overload]
        def run(*a: Any, **kw: Any) -> Any:
            with propagate_attributes(trace_name=f"support-{TRUTH_NOW.scenario}"):
                return fn(*a, **kw)
        return run

    pv2.tool_span = tool_span(observe(name="get_order_status", as_type="tool")(get_order_status))
    pv2.openai_scenarios(rec, SCRIPT, oa, named(chat, "answer"), named(stream, "answer-stream"),
                         named(tool_turn, "order-agent-turn", "agent"), (openai.APIStatusError,))

    # a call the app makes itself (plain httpx, nothing instruments it) and reports by hand
    SCRIPT[:] = [oa(9260, 140, "stop", "Order A-1001 shipped.", cached=8960, reasoning=64)]
    with rec.root("manual", "policy-qa"), propagate_attributes(trace_name="support-manual"):
        body = {"model": MODEL, "messages": msgs([("system", BIG), ("user", pv2.Q1)]), "max_tokens": 300}
        with lf.start_as_current_observation(as_type="generation", name="policy-answer", model=MODEL,
                                             input=body["messages"], model_parameters={"max_tokens": 300}) as g:
            r = httpx.post(f"{base}/chat/completions", json=body, headers={"authorization": "Bearer sk-fake"}).json()
            u = r["usage"]
            cached, reasoning = u["prompt_tokens_details"]["cached_tokens"], \
                u["completion_tokens_details"]["reasoning_tokens"]
            g.update(output=r["choices"][0]["message"], model=r["model"], usage_details={
                "input": u["prompt_tokens"] - cached, "input_cached_tokens": cached,
                "output": u["completion_tokens"] - reasoning, "output_reasoning_tokens": reasoning,
                "total": u["total_tokens"]},
                cost_details={"input": 0.000045, "input_cached_tokens": 0.000672, "output": 0.000084,
                              "total": 0.000801})
    rec.flush("manual")
    lf.flush()
    return ("langfuse", "openai", "opentelemetry-sdk")


def run_traceloop(source: str, rec: Recorder, base: str) -> tuple[str, ...]:
    os.environ.update(TRACELOOP_TRACE_CONTENT="true", TRACELOOP_TELEMETRY="false", TRACELOOP_METRICS_ENABLED="false")
    import openai
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import agent, task, tool, workflow
    from traceloop.sdk.instruments import Instruments

    Traceloop.init(app_name="support-bot", exporter=InMemorySpanExporter(), disable_batch=True,
                   instruments={Instruments.OPENAI}, telemetry_enabled=False)
    chat, stream, tool_turn = calls_of(openai.OpenAI(api_key="sk-fake", base_url=base, max_retries=0))

    def named(fn: Any, deco: Any, name: str) -> Any:
        def run(*a: Any, **kw: Any) -> Any:
            return workflow(name=f"support-{TRUTH_NOW.scenario}")(deco(name=name)(fn))(*a, **kw)
        return run

    pv2.tool_span = tool_span(tool(name="get_order_status")(get_order_status))
    pv2.openai_scenarios(rec, SCRIPT, oa, named(chat, task, "answer"), named(stream, task, "answer-stream"),
                         named(tool_turn, agent, "order-agent"), (openai.APIStatusError,))
    return ("traceloop-sdk", "opentelemetry-instrumentation-openai", "openai", "opentelemetry-sdk")


RUNNERS = {"langfuse-py-openai": run_langfuse, "traceloop-sdk-openai": run_traceloop}


def main(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(OpenAIHandler)
    packages = RUNNERS[source](source, rec, f"http://127.0.0.1:{srv.server_address[1]}/v1")
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions(*packages)})


if __name__ == "__main__":
    main(sys.argv[1])
