"""Capture real spans of pydantic-ai's own instrumentation with content off, as production runs it.

Every model-call span in the output was emitted by pydantic-ai wrapping the real ``openai`` SDK, which talked HTTP to
the fake OpenAI Chat Completions API of ``../py_native/generate.py`` (``OpenAIHandler``), or the real ``anthropic``
SDK, which talked to the fake Messages API of ``../anthropic/generate.py`` (``AnthropicHandler``), through the
scenarios of ``../py_semconv3/generate.py`` run_pydantic_ai (the pydantic-ai-openai and pydantic-ai-anthropic
captures'), imported and run unchanged; only the instrumentation's settings differ from those captures (content on).
The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``); pydantic-ai runs its tool itself.
Every connection beyond loopback is refused (``../capture.py`` ``loopback_only``).

Sources (one process each):

* ``pydantic-ai-openai-no-content``  pydantic-ai-slim 2.68.0 ``Agent.instrument_all(InstrumentationSettings(
                                     include_content=False))`` at its default data format (version 5,
                                     _instrumentation.py DEFAULT_INSTRUMENTATION_VERSION), ``AsyncOpenAI(max_retries=0)``:
                                     the messages keep their roles and part types but no text (_otel_messages.py
                                     text_part: ``TextPart(type='text')`` without ``content``; messages.py: tool call
                                     arguments and results only ``if settings.include_content``), and no
                                     ``gen_ai.system_instructions`` (models/instrumented.py
                                     system_instructions_attributes)
* ``pydantic-ai-anthropic-no-content`` the same over ``AnthropicModel`` with ``AsyncAnthropic(max_retries=0)`` (the
                                     anthropic SDK's own tracing off, ``ANTHROPIC_OPEN_TELEMETRY=false``, as in
                                     pydantic-ai-anthropic)

pydantic-ai 2.68.0 has no ``event_mode`` any more (InstrumentationSettings takes data format versions 2 to 6, all of
which keep the messages in span attributes): there is no log-event mode to capture.

Re-run (Python 3.11, a venv of its own, never the project's .venv; the py_semconv3 set, unchanged)::

    cd tests/normalize/gen/modes2
    grep -v '^#' requirements.txt > /tmp/modes2-pai.txt
    python3 -m venv /tmp/venv-modes2-pai && /tmp/venv-modes2-pai/bin/pip install -r /tmp/modes2-pai.txt
    /tmp/venv-modes2-pai/bin/python generate.py pydantic-ai-openai-no-content
    /tmp/venv-modes2-pai/bin/python generate.py pydantic-ai-anthropic-no-content

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/modes2-truth.json``
(the py_semconv3 truth's fields per scenario; the versions).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "modes2-truth.json"
SOURCES = ("pydantic-ai-openai-no-content", "pydantic-ai-anthropic-no-content")


def run_pydantic_ai_no_content(source: str) -> None:
    import pydantic_ai
    from py_semconv3 import generate as semconv3

    settings = pydantic_ai.InstrumentationSettings

    def no_content(**kw: Any) -> Any:
        # run_pydantic_ai asks for include_content=True (its capture's mode): this one turns it off, nothing else
        return settings(**{**kw, "include_content": False})

    pydantic_ai.InstrumentationSettings = no_content  # type: ignore[misc,assignment]
    semconv3.TRUTH = TRUTH
    api = semconv3.Api
    semconv3.Api = lambda name: api(name.removesuffix("-no-content"))  # type: ignore[misc]
    semconv3.run_pydantic_ai(source)
    print("refused:", REFUSED or "none")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    run_pydantic_ai_no_content(sys.argv[1])
