"""Capture real spans of OpenLIT over DSPy (on LiteLLM) and over the Vertex AI SDK, against fake provider APIs.

OpenLIT (``openlit.init(capture_message_content=True)``, ``../py_vendors2`` ``openlit_init``: the Recorder's global
TracerProvider, no metrics or events, local prices) instruments every library it finds. Nothing is copied: the fake
servers, their truth keeping and the scenario scripts are the other generators', imported and run unchanged with
OpenLIT in place of their instrumentations:

* ``dspy-openlit``  dspy 3.4.1 ``Predict`` on its LiteLLM engine (``dspy.LM(..., engine="litellm")``, litellm
                    1.110.2, ``openai/gpt-4o-mini`` and ``openai/o4-mini``) against the fake OpenAI Chat Completions
                    API of ``../py_native``, ``../py_frameworks`` ``run_dspy`` run as its ``dspy-openinference-litellm``
                    source (the LiteLLM engine), both OpenInference instrumentors it turns on stubbed: OpenLIT
                    instead. openlit 1.45.0 has no DSPy instrumentation (openlit/_instrumentors.py lists none;
                    nothing under openlit/instrumentation/ names dspy), so only its LiteLLM spans appear
                    (instrumentation/litellm/__init__.py wraps ``litellm.completion`` / ``acompletion`` in both
                    ``litellm`` and ``litellm.main``; dspy/clients/lm.py ``litellm_completion`` and
                    ``_get_stream_completion_fn`` call ``_get_litellm().completion`` / ``.acompletion``, the module's
                    attribute: one wrapper each). LiteLLM's OpenAI provider does not go through the openai SDK's
                    ``Completions.create``, which OpenLIT also wraps (instrumentation/openai/__init__.py): litellm
                    1.110.2 llms/openai/openai.py ``make_sync_openai_chat_completion_request`` (and its async twin)
                    calls ``openai_client.post("/chat/completions", ...)`` itself, so no OpenAI span appears: one
                    span per call
* ``openlit-vertexai``  google-cloud-aiplatform 2.7.0 ``vertexai.generative_models.GenerativeModel``
                    (``gemini-2.5-flash``, ``vertexai.init(api_transport="rest", api_endpoint=<loopback>,
                    credentials=AnonymousCredentials())``) against the fake Vertex AI REST API of ``../contrib3``
                    (``vertex_handler`` over ``../gemini_langchain``'s Gemini truth), its ``run_vertex`` unchanged
                    with the OTel contrib instrumentor it turns on stubbed: OpenLIT instead (as ``../oi3`` does with
                    OpenInference's). OpenLIT's instrumentation/vertexai wraps ``GenerativeModel.generate_content``
                    (and ChatSession's); the SDK does not call google-genai (installed beside it, instrumented
                    too), so one span per call. openlit 1.45.0 fails on most of these calls AFTER the SDK answered
                    and returns the answer all the same (vertexai.py ``try: process_chat_response(...) except
                    Exception as e: handle_exception(span, e)``): on a ``GenerationConfig`` object (utils.py
                    common_chat_logic ``inference_config.get(key)``, a dict's method), on every stream (utils.py
                    format_content ``part.video_metadata``, not an attribute of the SDK's Part) and on a
                    function-call answer (process_chat_response ``getattr(response, "text", "")``: the SDK's
                    ``text`` raises ValueError)
* ``openlit-vertexai-dict-config``  the same with each ``GenerationConfig(...)`` given as its dict (the SDK takes
                    either), so OpenLIT's non-streamed path works: its usage, cache reads and finish reasons

Scenarios (``../py_frameworks``' and ``../contrib3``'): ``healthy`` (2 calls), ``cached`` (3 calls over a big
system prompt, the 2nd and 3rd with cached tokens), ``streaming`` (2 streamed calls, DSPy's through
``dspy.streamify``, the 2nd cut at max tokens), ``tool_use`` (the model asks for get_order_status, with reasoning
tokens, the app runs the tool, the model answers), ``errors`` (a 429 then a 500 surfaced to the app: 2 failed
calls) and ``duplicate`` (the identical request twice, temperature 0).

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; exact versions in requirements.txt,
one section per venv, installed ``--no-deps``: openlit 1.45.0's full dependency set does not resolve)::

    cd tests/normalize/gen/olmore
    sed -n '/^# \\[dspy\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/olm-dspy.txt
    python3 -m venv /tmp/olm-dspy && /tmp/olm-dspy/bin/pip install --no-deps -r /tmp/olm-dspy.txt
    /tmp/olm-dspy/bin/python generate.py dspy-openlit
    sed -n '/^# \\[vertex\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/olm-vertex.txt
    python3 -m venv /tmp/olm-vertex && /tmp/olm-vertex/bin/pip install --no-deps -r /tmp/olm-vertex.txt
    /tmp/olm-vertex/bin/python generate.py openlit-vertexai
    /tmp/olm-vertex/bin/python generate.py openlit-vertexai-dict-config

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/olmore-truth.json`` (the fake server's truth as its generator keeps
it) with the versions that made it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # openlit.init imports litellm: its bundled prices, no fetch
import openlit2.generate as ol2
import py_native.generate as native
from capture import Recorder

TRUTH = HERE.parent.parent / "data" / "olmore-truth.json"
#: the libraries each source calls (their versions go to the truth file)
LIBS = {"dspy-openlit": ("dspy", "litellm", "openai"), "openlit-vertexai": ("google-cloud-aiplatform",),
        "openlit-vertexai-dict-config": ("google-cloud-aiplatform",)}


def recorder(source: str, **kw: Any) -> Recorder:
    return Recorder(source, TRUTH, native.TRUTH_NOW.begin, lambda: native.TRUTH_NOW.by_scenario, HERE, **kw)


def write(rec: Recorder, *_: str) -> None:
    from importlib.metadata import version

    assert not native.SCRIPT, f"unused answers: {native.SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in (*LIBS[rec.source], "openlit", "opentelemetry-sdk")}})


class _Nothing:
    """OpenInference's LiteLLM instrumentor, which py_frameworks' LiteLLM-engine source adds: OpenLIT's init has
    instrumented LiteLLM already."""

    def instrument(self, **_: Any) -> None:
        pass


def run_dspy(source: str) -> None:
    import py_frameworks.generate as pf

    ol2._stub("openinference.instrumentation.dspy", DSPyInstrumentor=ol2.OpenLITInstead)
    ol2._stub("openinference.instrumentation.litellm", LiteLLMInstrumentor=_Nothing)
    # py_frameworks' runner keeps logs (logs=True) as its own recorder does; the source it runs is its LiteLLM
    # engine's (engine="litellm"), the capture is named ours
    pf.recorder = lambda _s: recorder(source, logs=True)
    pf.write = write
    pf.run_dspy("dspy-openinference-litellm")


class _OpenLITForContrib:
    """What contrib3's run_vertex instruments with (``VertexAIInstrumentor().instrument(tracer_provider=,
    logger_provider=)``): OpenLIT instead, py_vendors2's init (the Recorder's global TracerProvider)."""

    def instrument(self, **_: Any) -> None:
        ol2.pv2.openlit_init()


def run_vertex(source: str) -> None:
    import contrib3.generate as c3

    # run_vertex imports ``opentelemetry.instrumentation.vertexai.VertexAIInstrumentor`` as it runs (as oi3's does)
    ol2._stub("opentelemetry.instrumentation.vertexai", VertexAIInstrumentor=_OpenLITForContrib)
    c3.TRUTH = TRUTH
    if source == "openlit-vertexai-dict-config":
        # the SDK takes ``generation_config`` as a GenerationConfig or a dict (vertexai/generative_models/
        # _generative_models.py ``GenerationConfigType = Union["GenerationConfig", GenerationConfigDict]``); OpenLIT reads it
        # as a dict only (instrumentation/vertexai/utils.py common_chat_logic ``inference_config.get(key)``): the
        # same scenarios with each GenerationConfig(...) given as its dict
        import vertexai.generative_models as gm

        gm.GenerationConfig = lambda **kw: dict(kw)  # type: ignore[assignment,misc]
    c3.versions = lambda *_: {n: version(n) for n in (*LIBS[source], "openlit", "opentelemetry-sdk")}
    c3.run_vertex(source)


def version(name: str) -> str:
    from importlib.metadata import version as v

    return v(name)


RUNNERS = {"dspy-openlit": run_dspy, "openlit-vertexai": run_vertex, "openlit-vertexai-dict-config": run_vertex}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
