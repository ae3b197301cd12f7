"""Capture real spans of the main OpenAI instrumentations in the modes production runs them in: content hidden,
or moved off the spans into log events.

Every model-call span in the output was emitted by a real instrumentation wrapping the real ``openai`` SDK, which
talked HTTP to a fake OpenAI API on 127.0.0.1: the embed generator's fake Chat Completions + Embeddings server and
its scenarios (``../embed/generate.py`` ``EmbedHandler``, ``scenarios``; truth kept by ``../py_native/generate.py``
``TRUTH_NOW``), imported and run unchanged; only the instrumentation's configuration differs from the embed
captures (which all run with content on the spans). The only spans made here are the trace roots (``workflow``,
scope ``fixgen.app``) and the app's ``tool.get_order_status``. Every connection beyond loopback is refused
(``../capture.py`` ``loopback_only``).

Sources (one process each, ``OpenAI(max_retries=0)``):

* ``openai-v2-events``             OTel contrib's opentelemetry-instrumentation-openai-v2 2.4b0 (opentelemetry-util-genai
                                   1.1b0), ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``,
                                   ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY``: the messages go to
                                   one ``gen_ai.client.inference.operation.details`` log event per call (``otlp_logs``),
                                   none onto the span (util/genai/_invocation.py: ``for_span`` serializes them only
                                   under SPAN_ONLY / SPAN_AND_EVENT; tool definitions are always kept)
* ``openllmetry-openai-events``    OpenLLMetry's opentelemetry-instrumentation-openai 0.62.4,
                                   ``OpenAIInstrumentor(use_attributes=False)`` (the name 0.62.4 gives the former
                                   ``use_legacy_attributes=False``, __init__.py) with a logger provider,
                                   ``TRACELOOP_TRACE_CONTENT=true``: prompts and completions as log events
                                   (shared/event_emitter.py: ``gen_ai.{system,user,assistant,tool}.message``,
                                   ``gen_ai.choice``), none on the span
* ``openinference-openai-hidden``  openinference-instrumentation-openai 0.1.66 (openinference-instrumentation 0.1.72)
                                   with ``OPENINFERENCE_HIDE_INPUTS=true``, ``OPENINFERENCE_HIDE_OUTPUTS=true`` (read by
                                   config.py TraceConfig): ``input.value`` / ``output.value`` are ``"__REDACTED__"``,
                                   the ``llm.input_messages.*`` / ``llm.output_messages.*`` and ``llm.tools.*`` keys
                                   dropped (TraceConfig.mask)
* ``openlit-openai-no-content``    openlit 1.45.0, ``openlit.init(capture_message_content=False)`` (metrics and events
                                   off), with openai 2.54.0 in a venv of its own as embed-openlit
* ``openai-v2-no-content``         openai-v2 2.4b0 as above with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=
                                   NO_CONTENT``: no messages on the span, and no operation details event either
                                   (util/genai/utils.py should_emit_event: False for NO_CONTENT / SPAN_ONLY unless
                                   OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT says otherwise)
* ``openllmetry-openai-no-content`` OpenLLMetry's OpenAI instrumentation 0.62.4 in its default (attribute) mode with
                                   ``TRACELOOP_TRACE_CONTENT=false``: utils.py should_send_prompts is False, so
                                   shared/chat_wrappers.py / embeddings_wrappers.py set no ``gen_ai.prompt.*`` /
                                   ``gen_ai.completion.*`` keys (the request options, usage and finish reasons stay)
* ``openinference-openai-no-params`` openinference-instrumentation-openai 0.1.66 with
                                   ``OPENINFERENCE_HIDE_LLM_INVOCATION_PARAMETERS=true`` (TraceConfig.mask drops
                                   ``llm.invocation_parameters``, with the stream flag and max_tokens in it; the
                                   messages and ``input.value``, the request's JSON, stay)

Re-run (Python 3.11, a venv per section of requirements.txt, never the project's .venv)::

    cd tests/normalize/gen/modes
    sed -n '/^# \\[main\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/modes-main.txt   # likewise [openlit]
    python3 -m venv /tmp/gen-modes && /tmp/gen-modes/bin/pip install -r /tmp/modes-main.txt
    python3 -m venv /tmp/gen-modes-lit && /tmp/gen-modes-lit/bin/pip install --no-deps -r /tmp/modes-openlit.txt
    for s in openai-v2-events openllmetry-openai-events openinference-openai-hidden openai-v2-no-content \
             openllmetry-openai-no-content openinference-openai-no-params; do
        /tmp/gen-modes/bin/python generate.py $s; done
    /tmp/gen-modes-lit/bin/python generate.py openlit-openai-no-content

requirements.txt is the pip freeze of those venvs (the embed generator's two sets, unchanged). Each run writes
``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/modes-truth.json`` (the embed truth's
fields per scenario; the versions).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, Recorder, loopback_only, serve
from embed.generate import EmbedHandler, scenarios
from py_native.generate import SCRIPT, TRUTH_NOW, versions

TRUTH = HERE.parent.parent / "data" / "modes-truth.json"
SOURCES = ("openai-v2-events", "openllmetry-openai-events", "openinference-openai-hidden",
           "openlit-openai-no-content", "openai-v2-no-content", "openllmetry-openai-no-content",
           "openinference-openai-no-params")


def instrument(source: str, rec: Recorder) -> tuple[str, ...]:
    """Turns the source's instrumentation on in its mode; the packages whose versions made the capture."""
    if source in ("openai-v2-events", "openai-v2-no-content"):
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = (
            "EVENT_ONLY" if source == "openai-v2-events" else "NO_CONTENT")
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=rec.tp, logger_provider=rec.lp)
        return ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")
    if source == "openllmetry-openai-events":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TLInstrumentor

        # v1/__init__.py _instrument: Config.event_logger from logger_provider; utils.py should_emit_events needs it
        TLInstrumentor(use_attributes=False).instrument(tracer_provider=rec.tp, logger_provider=rec.lp)
        return ("opentelemetry-instrumentation-openai",)
    if source == "openllmetry-openai-no-content":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "false"
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TLInstrumentor

        TLInstrumentor().instrument(tracer_provider=rec.tp)  # attributes on the span (the default), no content
        return ("opentelemetry-instrumentation-openai",)
    if source in ("openinference-openai-hidden", "openinference-openai-no-params"):
        if source == "openinference-openai-hidden":
            os.environ["OPENINFERENCE_HIDE_INPUTS"] = "true"
            os.environ["OPENINFERENCE_HIDE_OUTPUTS"] = "true"
        else:
            os.environ["OPENINFERENCE_HIDE_LLM_INVOCATION_PARAMETERS"] = "true"
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        OIInstrumentor().instrument(tracer_provider=rec.tp)  # TraceConfig() reads the environment
        return ("openinference-instrumentation-openai", "openinference-instrumentation")
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=False,
                 pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                 disable_events=True)
    return ("openlit",)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    loopback_only()
    recorder = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    packages = instrument(src, recorder)
    srv = serve(EmbedHandler)
    import openai

    scenarios(recorder, openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                                      max_retries=0))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    print("refused:", REFUSED or "none")
    recorder.write(src, {"versions": versions("openai", "opentelemetry-sdk", *packages)})
