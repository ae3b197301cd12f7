"""Capture real spans of AG2's ``autogen`` agents (the AutoGen 0.2 line's successor: ``ConversableAgent``,
``AssistantAgent``, ``UserProxyAgent``, ``LLMConfig``) against the fake OpenAI Chat Completions API, with nothing
sent beyond loopback.

Every model-call span in the output was emitted by a real library while AG2's ``OpenAIWrapper`` called the real
``openai`` client, which talked HTTP to the fake on 127.0.0.1 started by this script (py_native's ``OpenAIHandler``,
its truth keeping and the shared scripted answers of ../chat_script.py). The only spans made here are the trace
roots (``workflow``, scope ``fixgen.app``); AG2 runs the tool itself (the user proxy executes what the assistant
asks for).

Version: ag2 0.14.0, the last release with the ``autogen`` package. ag2 1.x (1.0.0 on) is a new framework under
the ``ag2`` package (``ag2.Agent``, middleware: ``ag2.middleware.builtin.telemetry.TelemetryMiddleware``), with
no ``autogen`` module at all; OpenLIT's ag2 instrumentor wraps ``autogen.agentchat.conversable_agent`` and
openinference-instrumentation-ag2 0.1.12 declares ``ag2 >= 0.14.0, < 1.0.0`` ("AG2 1.0 uses a new middleware
API"), so 0.14.0 is what both tracers below can trace.

Every scenario is a two-agent chat: a ``UserProxyAgent`` (``human_input_mode="NEVER"``, no code execution, no
model) ``initiate_chat``-s an ``AssistantAgent`` whose ``LLMConfig`` points at the fake (``api_type`` openai,
``base_url``, ``api_key`` sk-fake, ``max_retries=0``, ``cache_seed=None``: AG2's disk cache of LLM answers off);
the function tool ``get_order_status`` is registered on every pair (``autogen.register_function``, the assistant
the caller, the proxy the executor), so every request offers it and only tool_use's model asks for it.

Sources (one process each):

* ``ag2-otel``     AG2's own OpenTelemetry tracing (autogen/opentelemetry, "Based on OpenTelemetry GenAI semantic
                   conventions"): ``instrument_llm_wrapper(tracer_provider=..., capture_messages=True)`` patches
                   ``OpenAIWrapper.create`` (a ``chat {model}`` CLIENT span per call) and ``instrument_agent`` each
                   agent (``conversation {agent}`` for initiate_chat, ``invoke_agent {agent}`` for generate_reply,
                   ``execute_tool {tool}``); scope ``opentelemetry.instrumentation.ag2``
* ``ag2-openlit``  OpenLIT 1.45.0 (``openlit.init(capture_message_content=True)``): its ag2 instrumentor's agent
                   spans (``create_agent {agent}`` from ``ConversableAgent.__init__``, ``invoke_agent {agent}`` from
                   generate_reply / receive / send, scope ``openlit.instrumentation.ag2``) and, inside them, its
                   openai instrumentor's ``chat gpt-4o-mini`` span of each call AG2 makes through the openai client

Scenarios: healthy (two questions, the second chat continuing the first's history), cached (a big static system
prompt, the 2nd and 3rd call with OpenAI cached_tokens), streaming (``LLMConfig(stream=True)``: AG2's OpenAIClient
asks for the stream's usage itself, ``stream_options.include_usage``; the 2nd call cut at max_tokens), tool_use (the
model asks for get_order_status with reasoning tokens, the proxy runs it, the model answers), errors (a 429 then a
500 surfaced to the app, ``max_retries=0``), duplicate (the identical chat twice). ag2-otel also runs
``disk_cache``: the same chat twice with AG2's disk cache on (``Cache.disk`` under a fresh /tmp folder): the
second answer comes from the cache, no request reaches the fake, and AG2's ``chat`` span of it is there all the
same, with the cached response's id and usage.

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv)::

    cd tests/normalize/gen/ag2
    sed -n '/^# \\[otel\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ag2-otel.txt
    sed -n '/^# \\[openlit\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ag2-ol.txt
    python3 -m venv /tmp/venv-ag2-otel && /tmp/venv-ag2-otel/bin/pip install -r /tmp/ag2-otel.txt
    python3 -m venv /tmp/venv-ag2-ol && /tmp/venv-ag2-ol/bin/pip install --no-deps -r /tmp/ag2-ol.txt
    /tmp/venv-ag2-otel/bin/python generate.py ag2-otel
    /tmp/venv-ag2-ol/bin/python generate.py ag2-openlit

(openlit 1.45.0's full dependency set does not resolve beside ag2's, so its section is installed ``--no-deps``, as
../py_vendors2's openlit env is.) Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures'
line format) and its entry in ``tests/normalize/data/ag2-truth.json``: py_native's truth fields per scenario
(``calls``, ``failed``, ``input`` = ``prompt_tokens`` with ``cached_tokens`` inside, ``output`` =
``completion_tokens`` with ``reasoning_tokens`` inside, ``cache_read``, ``cache_write`` 0, ``reasoning``,
``finish_reasons``, ``models``, ``usage_unsent``) and the versions that made it. ``loopback_only``
(../pydgem/generate.py) refuses any connection beyond loopback; a run prints what was refused.
"""

from __future__ import annotations

import os
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, get_order_status
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler
from pydgem.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "ag2-truth.json"
SOURCES = ("ag2-otel", "ag2-openlit")
MODEL = "gpt-4o-mini"
DISK_CACHE = [DUPLICATE[0]]  # one answer: the second identical chat is served from AG2's disk cache


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


def scenarios(rec: Recorder, base: str, instrument: Any, disk_cache: bool) -> None:
    """The chats, each pair of agents built inside its scenario's root (OpenLIT traces agent construction);
    ``instrument(agent)`` is applied to each agent (AG2's own tracing is per agent)."""
    import openai
    from autogen import AssistantAgent, LLMConfig, UserProxyAgent, register_function

    def llm_config(stream: bool = False, **kw: Any) -> Any:
        # ``stream`` belongs to the config entry (OpenAILLMConfigEntry), the sampling options to LLMConfig
        entry = {"api_type": "openai", "model": MODEL, "api_key": "sk-fake", "base_url": base, "max_retries": 0}
        return LLMConfig({**entry, "stream": True} if stream else entry, cache_seed=None, **kw)

    def pair(system: str = SYSTEM, **kw: Any) -> tuple[Any, Any]:
        assistant = AssistantAgent("support", system_message=system, llm_config=llm_config(**kw))
        user = UserProxyAgent("customer", human_input_mode="NEVER", code_execution_config=False, llm_config=False,
                              is_termination_msg=lambda m: not m.get("tool_calls"))
        register_function(get_order_status, caller=assistant, executor=user, name="get_order_status",
                          description="Look up the shipping status of an order.")
        return instrument(assistant), instrument(user)

    def ask(user: Any, assistant: Any, q: str, **kw: Any) -> Any:
        return user.initiate_chat(assistant, message=q, max_turns=3, silent=True, **kw)

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        assistant, user = pair(max_tokens=200)
        ask(user, assistant, Q1)
        ask(user, assistant, Q2, clear_history=False)
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        assistant, user = pair(BIG, max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            ask(user, assistant, q)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            assistant, user = pair(max_tokens=mx, stream=True)
            ask(user, assistant, q)
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        assistant, user = pair(max_tokens=512)
        ask(user, assistant, Q1)
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            assistant, user = pair(max_tokens=200)
            try:
                ask(user, assistant, Q1)
            except openai.APIStatusError as exc:  # RateLimitError / InternalServerError, re-raised by OpenAIWrapper
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            assistant, user = pair(max_tokens=100, temperature=0.0)
            ask(user, assistant, Q1)
    rec.flush("duplicate")

    if disk_cache:
        from autogen import Cache

        SCRIPT[:] = list(DISK_CACHE)
        with tempfile.TemporaryDirectory(prefix="ag2-cache-") as root, rec.root("disk_cache", "order-status"):
            for _ in range(2):
                assistant, user = pair(max_tokens=100, temperature=0.0)
                with Cache.disk(cache_seed=41, cache_path_root=root) as cache:
                    ask(user, assistant, Q1, cache=cache)
        rec.flush("disk_cache")


def run_otel(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from autogen.opentelemetry import instrument_agent, instrument_llm_wrapper

    instrument_llm_wrapper(tracer_provider=rec.tp, capture_messages=True)
    srv = serve(OpenAIHandler)
    scenarios(rec, f"http://127.0.0.1:{srv.server_address[1]}/v1",
              lambda agent: instrument_agent(agent, tracer_provider=rec.tp), disk_cache=True)
    srv.shutdown()
    write(rec, "ag2", "openai", "opentelemetry-sdk")


def run_openlit(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                 disable_events=True)
    srv = serve(OpenAIHandler)
    scenarios(rec, f"http://127.0.0.1:{srv.server_address[1]}/v1", lambda agent: agent, disk_cache=False)
    srv.shutdown()
    write(rec, "ag2", "openlit", "openai", "opentelemetry-sdk")


RUNNERS = {"ag2-otel": run_otel, "ag2-openlit": run_openlit}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    os.environ.setdefault("OPENAI_API_KEY", "sk-fake")
    loopback_only()
    RUNNERS[sys.argv[1]](sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
