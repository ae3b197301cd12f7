"""Capture real spans of AG2 1.x (PyPI ``ag2``, imported as ``ag2``: the new ``ag2.Agent`` framework, not the
0.14 ``autogen`` line that ../ag2 captures) against the fake OpenAI Chat Completions API, with nothing sent beyond
loopback.

Every model-call span in the output was emitted by AG2's own ``TelemetryMiddleware``
(``ag2.middleware.builtin.telemetry``, scope ``opentelemetry.instrumentation.ag2``, "Follows the OpenTelemetry
GenAI Semantic Conventions") while AG2's ``OpenAIClient`` called the real ``openai`` client, which talked HTTP to
the fake on 127.0.0.1 started by this script (py_native's ``OpenAIHandler``, its truth keeping and the shared
scripted answers of ../chat_script.py). The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``); AG2 runs the tool itself.

The agent is set up as AG2's telemetry page shows it (docs.ag2.ai "Telemetry", Quick Start): ``Agent("support",
prompt=SYSTEM, config=OpenAIConfig(...), tools=[get_order_status], middleware=[TelemetryMiddleware(
tracer_provider=..., agent_name="support")])``, no ``provider_name`` / ``model_name`` (the middleware then takes
both from each response); ``OpenAIConfig`` points at the fake (``base_url``, ``api_key`` sk-fake,
``max_retries=0``). Per ``ask`` the middleware writes ``invoke_agent support`` (on_turn), one ``chat {model}``
CLIENT span per model call (on_llm_call), ``execute_tool get_order_status`` (on_tool_execution) and, for the
``UsageEvent`` AG2's agent loop sends after each call (ag2 1.2.1 agent.py _call_client, kind ``model_call``), a
``record_usage model_call`` span beside the chat span (record_usage_span: the same usage again).

Scenarios: healthy (two questions, the second ``reply.ask`` continuing the first's conversation), cached (a big
static system prompt, the 2nd and 3rd call with OpenAI cached_tokens), streaming (``OpenAIConfig(streaming=True)``:
AG2 asks for the stream's usage itself, ``stream_options.include_usage``; the 2nd call cut at max_tokens), tool_use
(the model asks for get_order_status with reasoning tokens, the agent runs it, the model answers), errors (a 429
then a 500 surfaced to the app, ``max_retries=0``), duplicate (the identical question twice, two fresh
conversations). The tool is offered on every request; only tool_use's model asks for it.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv)::

    cd tests/normalize/gen/ag2new
    python3 -m venv /tmp/venv-ag2new && /tmp/venv-ag2new/bin/pip install -r requirements.txt
    /tmp/venv-ag2new/bin/python generate.py ag2-telemetry

It writes ``tests/normalize/data/ag2-telemetry.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/ag2new-truth.json``: py_native's truth fields per scenario (``calls``, ``failed``, ``input`` =
``prompt_tokens`` with ``cached_tokens`` inside, ``output`` = ``completion_tokens`` with ``reasoning_tokens`` inside,
``cache_read``, ``cache_write`` 0, ``reasoning``, ``finish_reasons``, ``models``, ``usage_unsent``) and the versions
that made it. ``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what
was refused.
"""

from __future__ import annotations

import asyncio
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler
from pydgem.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "ag2new-truth.json"
SOURCE = "ag2-telemetry"
MODEL = "gpt-4o-mini"


async def scenarios(rec: Recorder, base: str) -> None:
    import openai
    from ag2 import Agent
    from ag2.config import OpenAIConfig
    from ag2.middleware.builtin import TelemetryMiddleware

    def agent(system: str = SYSTEM, **kw: Any) -> Any:
        config = OpenAIConfig(model=MODEL, api_key="sk-fake", base_url=base, max_retries=0, **kw)
        return Agent("support", prompt=system, config=config, tools=[get_order_status],
                     middleware=[TelemetryMiddleware(tracer_provider=rec.tp, agent_name="support")])

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        reply = await agent(max_tokens=200).ask(Q1)
        await reply.ask(Q2)
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        a = agent(BIG, max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            await a.ask(q)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            await agent(max_tokens=mx, streaming=True).ask(q)
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        await agent(max_tokens=512).ask(Q1)
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                await agent(max_tokens=200).ask(Q1)
            except openai.APIStatusError as exc:  # RateLimitError / InternalServerError, raised through ask
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        a = agent(max_tokens=100, temperature=0.0)
        for _ in range(2):
            await a.ask(Q1)
    rec.flush("duplicate")


def run(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(OpenAIHandler)
    asyncio.run(scenarios(rec, f"http://127.0.0.1:{srv.server_address[1]}/v1"))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in ("ag2", "openai", "opentelemetry-sdk")}})


if __name__ == "__main__":
    if sys.argv[1:] != [SOURCE]:
        raise SystemExit(f"usage: generate.py {SOURCE}")
    os.environ.setdefault("OPENAI_API_KEY", "sk-fake")
    loopback_only()
    run(SOURCE)
    print(f"{SOURCE}: connections refused beyond loopback: {REFUSED or 'none'}")
