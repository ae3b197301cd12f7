"""Capture real spans of OpenLIT over agent frameworks (Google ADK, Agno, LlamaIndex), against fake provider APIs.

OpenLIT (``openlit.init(capture_message_content=True)``, ``../py_vendors2`` ``openlit_init``: the Recorder's global
TracerProvider, no metrics or events, local prices) instruments the framework AND the client SDK under it, so one
model call may be reported by a framework span and by the client span beside it: the counted-once rules must hold.
Nothing is copied: the fake servers, their truth keeping and the scenario scripts are the other generators',
imported and run unchanged with OpenLIT in place of their instrumentations:

* ``openlit-google-adk``  google-adk 2.13.0 ``LlmAgent`` (``gemini-2.5-flash`` via google-genai 2.34.0) against the
                          fake Gemini API of ``../sk_adk_llamaindex`` (``GeminiHandler``: ``cachedContentTokenCount``,
                          ``thoughtsTokenCount``, SSE, Google's error JSON for 429 / 500), its ``run_adk`` unchanged;
                          ADK's own spans (scope ``gcp.vertex.agent``) come beside OpenLIT's, as an app gets them
* ``openlit-agno``        agno 3.1.10 ``Agent(OpenAIChat(max_retries=0))`` (openai 3.57.0) over the fake OpenAI Chat
                          Completions API of ``../py_native``, ``../oi2`` ``run_agno`` with OpenInference's
                          instrumentor replaced by ``openlit.init``
* ``openlit-llamaindex``  llama-index-core 0.14.25 + llama-index-llms-openai 0.8.3 ``OpenAI(max_retries=0)`` (plain
                          chat, ``chat_with_tools`` with the app running the tool), ``../sk_adk_llamaindex``
                          ``run_llamaindex`` with OpenInference's instrumentor replaced by ``openlit.init``
                          (the ``llama-index`` 0.14.25 distribution installed ``--no-deps``: OpenLIT's
                          LlamaIndexInstrumentor checks that name); OpenLIT's LlamaIndex instrumentation wraps the
                          base class (llamaindex/__init__.py ``("llama_index.core.llms.llm", "LLM.chat")``), which
                          llama_index/llms/openai/base.py ``OpenAI.chat`` / ``stream_chat`` override: only OpenLIT's
                          OpenAI ``chat`` spans appear, as an app gets them

* ``openlit-haystack``    haystack-ai 2.31.0 ``Pipeline`` with ``OpenAIChatGenerator(max_retries=0)`` (openai 3.57.0),
                          ``../py_frameworks`` ``run_haystack`` unchanged (its Haystack ``OpenTelemetryTracer`` on
                          too, scope ``haystack``, beside OpenLIT's ``haystack`` and ``openai`` spans)

DSPy: not captured (time; openlit 1.45.0 has no DSPy instrumentation, only its client's spans would appear).

Scenarios (the other captures'): ``healthy`` (2 calls), ``cached`` (3 calls over a big system prompt, the 2nd and
3rd with cached tokens), ``streaming`` (2 streamed calls, the 2nd cut at max tokens), ``tool_use`` (the model asks
for get_order_status, the tool runs, the model answers), ``errors`` (a 429 then a 500 surfaced to the app: 2 failed
calls) and ``duplicate`` (the identical request twice, temperature 0).

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; exact versions in requirements.txt,
one section per venv; openlit 1.45.0 installed ``--no-deps`` beside its needed exporters, its full dependency set
does not resolve; each venv also holds the OpenInference instrumentor its runner imports, stubbed here)::

    cd tests/normalize/gen/openlit3
    sed -n '/^# \\[adk\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/ol3-adk.txt   # likewise [agno], [li], [haystack]
    python3 -m venv /tmp/ol3-adk && /tmp/ol3-adk/bin/pip install --no-deps -r /tmp/ol3-adk.txt
    /tmp/ol3-adk/bin/python generate.py openlit-google-adk
    /tmp/ol3-agno/bin/python generate.py openlit-agno
    /tmp/ol3-li/bin/python generate.py openlit-llamaindex
    /tmp/ol3-haystack/bin/python generate.py openlit-haystack

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/openlit3-truth.json`` (the fake server's truth as its generator keeps
it) with the versions that made it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import oi2.generate as oi2
import openlit2.generate as ol2
import py_native.generate as native
import py_vendors2.generate as pv2
import sk_adk_llamaindex.generate as sal
from capture import Recorder

TRUTH = HERE.parent.parent / "data" / "openlit3-truth.json"
#: the libraries each source calls (their versions go to the truth file)
LIBS = {"openlit-google-adk": ("google-adk", "google-genai"), "openlit-agno": ("agno", "openai"),
        "openlit-llamaindex": ("llama-index-core", "llama-index-llms-openai", "openai"),
        "openlit-haystack": ("haystack-ai", "openai")}


def recorder(source: str, **kw: Any) -> Recorder:
    rec = Recorder(source, TRUTH, native.TRUTH_NOW.begin, lambda: native.TRUTH_NOW.by_scenario, HERE, **kw)
    if source in ("openlit-google-adk", "openlit-haystack"):  # their runners turn on no instrumentor of their own
        pv2.openlit_init()
    return rec


def write(rec: Recorder, *_: str) -> None:
    from importlib.metadata import version

    assert not native.SCRIPT, f"unused answers: {native.SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in (*LIBS[rec.source], "openlit", "opentelemetry-sdk")}})


def run_adk(source: str) -> None:
    sal.recorder, sal.write = recorder, write
    sal.run_adk(source)


def run_agno(source: str) -> None:
    ol2._stub("openinference.instrumentation.agno", AgnoInstrumentor=ol2.OpenLITInstead)
    oi2.recorder, oi2.write = recorder, write
    oi2.run_agno(source)


def run_llamaindex(source: str) -> None:
    ol2._stub("openinference.instrumentation.llama_index", LlamaIndexInstrumentor=ol2.OpenLITInstead)
    sal.recorder, sal.write = recorder, write
    sal.run_llamaindex(source)


def run_haystack(source: str) -> None:
    import py_frameworks.generate as pf

    pf.recorder, pf.write = recorder, write
    pf.run_haystack(source)


RUNNERS = {"openlit-google-adk": run_adk, "openlit-agno": run_agno, "openlit-llamaindex": run_llamaindex,
           "openlit-haystack": run_haystack}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
