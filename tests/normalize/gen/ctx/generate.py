"""Capture real spans carrying context attributes (sessions, users) and pydantic-ai's newest data format.

Every model-call span in the output was emitted by a real library wrapping a real client SDK, which talked HTTP to
a fake provider server on 127.0.0.1, imported, not copied: the fake OpenAI Chat Completions API of
``../py_native/generate.py`` (``OpenAIHandler``: ``cached_tokens`` and ``reasoning_tokens``, finish reasons stop /
length / tool_calls, 429 and 500 with OpenAI's error JSON, SSE with usage in the last chunk) and, for pydantic-ai
over Anthropic, the fake Messages API of ``../anthropic/generate.py`` (cache read / write, ``max_tokens`` stop,
tool_use, 429 / 500 with Anthropic's error JSON, SSE). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and the app's tool spans.

Sources (one process each):

* ``openinference-sessions-openai``  the openai SDK (``OpenAI(max_retries=0)``) under openinference-instrumentation-openai
                              (``OpenAIInstrumentor``, content captured: its default), every scenario run inside
                              openinference-instrumentation's ``using_attributes(session_id=..., user_id=...,
                              metadata=..., tags=...)`` (context_attributes.py: the instrumentor copies them
                              onto each span as ``session.id``, ``user.id``, ``metadata``, ``tag.tags``); one
                              session per scenario (``sess-<scenario>``), one user (``USER``). The scenarios are
                              ``../py_vendors2/generate.py`` openai_scenarios, imported.
* ``pydantic-ai-v6-openai``  pydantic-ai's own instrumentation at its newest data format,
                              ``InstrumentationSettings(version=6)`` (models/instrumented.py: 2..6 accepted, 5 the
                              default the existing pydantic-ai-openai capture was made with; 6 sends tool results
                              as ``role='tool'`` messages), the scenarios of ``../py_semconv3/generate.py``
                              run_pydantic_ai, imported, over the fake OpenAI API
* ``pydantic-ai-v6-anthropic``  the same over the fake Anthropic API

Scenarios (the other captures' conventions): ``healthy``, ``cached``, ``streaming`` (the 2nd cut at max tokens),
``tool_use``, ``errors`` (a 429 then a 500 surfaced to the app, no retries) and ``duplicate`` (the identical
request twice, temperature 0).

Re-run (Python 3.11; venvs under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/ctx
    sed -n '/^# \\[oi\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ctx-oi.txt    # likewise [pai]
    python3 -m venv /tmp/ctx-oi && /tmp/ctx-oi/bin/pip install -r /tmp/ctx-oi.txt
    /tmp/ctx-oi/bin/python generate.py openinference-sessions-openai
    /tmp/ctx-pai/bin/python generate.py pydantic-ai-v6-openai
    /tmp/ctx-pai/bin/python generate.py pydantic-ai-v6-anthropic

Versions: openinference-instrumentation-openai 0.1.66, openinference-instrumentation 0.1.72, openai and
opentelemetry-sdk as in requirements.txt; pydantic-ai-slim 2.68.0 (per source, also in the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and sets its entry in
``tests/normalize/data/ctx-truth.json``: the fake server's truth per scenario, as its generator keeps it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "ctx-truth.json"
SOURCES = ("openinference-sessions-openai", "pydantic-ai-v6-openai", "pydantic-ai-v6-anthropic")
#: the user every session of the OpenInference capture is of, and its sessions
USER = "user-4711@acme.example"


def session_of(scenario: str) -> str:
    return f"sess-{scenario}"


def run_sessions(source: str) -> None:
    from openinference.instrumentation import using_attributes
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from py_native.generate import SCRIPT, TOOLS_OA, TRUTH_NOW, OpenAIHandler, oa
    from py_vendors2.generate import openai_scenarios, versions

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import openai

    client = openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)
    plain_root = rec.root

    @contextmanager
    def root(scenario: str, workflow: str) -> Iterator[Any]:
        with using_attributes(session_id=session_of(scenario), user_id=USER, tags=["support", scenario],
                              metadata={"tenant": "acme", "channel": "web"}), plain_root(scenario, workflow) as span:
            yield span

    rec.root = root  # type: ignore[method-assign]

    def msgs(turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"role": r, "content": t} for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        r = client.chat.completions.create(model="gpt-4o-mini", messages=msgs(turns), **kw)  # type: ignore[call-overload]
        return str(r.choices[0].message.content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=msgs(turns), stream=True,  # type: ignore[call-overload]
                                                stream_options={"include_usage": True}, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        from py_vendors2.generate import Q1, SYSTEM

        m = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else [
            {"role": "tool", "tool_call_id": h[1], "content": h[3]} if isinstance(h, tuple) else h for h in history]
        r = client.chat.completions.create(model="gpt-4o-mini", messages=m, tools=TOOLS_OA, max_tokens=512)  # type: ignore[call-overload]
        msg = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in msg.tool_calls or []]
        return calls, [*m, msg.model_dump(exclude_none=True)]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    srv.shutdown()
    rec.write(source, {"user": USER, "sessions": "sess-<scenario>",
                       "versions": versions("openinference-instrumentation-openai", "openinference-instrumentation",
                                            "openai", "opentelemetry-sdk")})


def run_pydantic_ai_v6(source: str) -> None:
    import functools

    import pydantic_ai
    from py_semconv3 import generate as semconv3

    # the newest data format pydantic_ai/models/instrumented.py InstrumentationSettings accepts (2..6)
    pydantic_ai.InstrumentationSettings = functools.partial(pydantic_ai.InstrumentationSettings, version=6)  # type: ignore[misc]
    semconv3.TRUTH = TRUTH
    api = semconv3.Api
    semconv3.Api = lambda name: api(name.rsplit("-", 1)[-1])  # type: ignore[misc]
    semconv3.run_pydantic_ai(source)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    (run_sessions if sys.argv[1] == SOURCES[0] else run_pydantic_ai_v6)(sys.argv[1])
