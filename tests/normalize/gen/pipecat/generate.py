"""Capture real spans of Pipecat's built-in OpenTelemetry tracing (PyPI ``pipecat-ai[openai,tracing]``) around a
text-only pipeline whose ``OpenAILLMService`` talks to the OpenAI fake, with nothing sent beyond loopback.

Every span but the trace root was written by Pipecat 1.14.0 itself (pipecat/utils/tracing/): ``setup_tracing``
(setup.py) builds and sets the global TracerProvider, with our in-memory exporter behind its BatchSpanProcessor;
a ``PipelineWorker(..., enable_tracing=True, enable_turn_tracking=True, conversation_id=...)`` (pipeline/worker.py;
``PipelineTask`` is its deprecated alias) adds the TurnTraceObserver (turn_trace_observer.py, tracer
``pipecat.turn``), which opens a ``conversation`` span on the StartFrame (``conversation.id``, ``conversation.type``
"voice") and a ``turn`` span per turn of the TurnTrackingObserver (``turn.number``, ``conversation.id``,
``turn.duration_seconds``, ``turn.was_interrupted``); the LLM service's ``_process_context`` is ``@traced_llm``
(service_decorators.py, tracer ``pipecat``): one ``llm`` span per inference, child of the turn, with
service_attributes.py add_llm_span_attributes (gen_ai.provider.name from the service's class name,
gen_ai.request.model, gen_ai.operation.name "chat", ``stream``, ``input`` the messages as JSON, ``output`` the text
streamed, ``tools``, gen_ai.system_instructions, gen_ai.request.max_tokens / temperature, ``param.*`` the other
settings) and the usage the service reports (_add_token_usage_to_span: gen_ai.usage.input_tokens / output_tokens,
cache_read.input_tokens, reasoning.output_tokens).

The app is what a text chat front end over Pipecat is: the user's messages come in as ``LLMMessagesAppendFrame``
(``run_llm=True``, what RTVI's ``send-text`` pushes: processors/frameworks/rtvi/processor.py _handle_send_text)
through an ``LLMContextAggregatorPair``; the tool ``get_order_status`` is registered with ``register_function`` and
offered in the context's ToolsSchema. A text pipeline has no audio, so nothing says when the user or the bot speaks,
and turns are told by those frames only (observers/turn_tracking_observer.py): the generator queues
``UserStartedSpeakingFrame`` / ``UserStoppedSpeakingFrame`` before each message, and ``ChatOutput`` (in place of an
output transport) pushes ``BotStartedSpeakingFrame`` on the first text of a response and ``BotStoppedSpeakingFrame``
at its end, both ways, as BaseOutputTransport does for audio (transports/base_output.py _bot_started_speaking /
_bot_stopped_speaking). A conversation is one worker run; the app waits for the last turn to end on its own (the
tracker's 2.5 s after the bot stopped) before the EndFrame.

``OpenAILLMService`` builds its own AsyncOpenAI client (services/openai/base_llm.py create_client: the SDK's
default retries); the app replaces it by a copy with ``max_retries=0`` (``llm._client.with_options``), so the 429
and the 500 reach the service, which pushes them as ErrorFrames and goes on. The service always streams and asks ``stream_options.include_usage``
(build_chat_completion_params); the OpenAI fake and the shared scripted answers are ``../py_native/generate.py``'s
and ``../chat_script.py``'s, as the other OpenAI generators use them.

Source (one process): ``pipecat-openai``. Scenarios: healthy (one conversation, two turns), cached (a big system
instruction, three turns: the 2nd and 3rd hit the prompt cache), streaming (two one-turn conversations, max_tokens
256 then 64: the 2nd cut at it), tool_use (o4-mini asks for get_order_status, Pipecat runs it and asks again: one turn, two calls),
errors (two turns, a 429 and a 500), duplicate (the same one-turn conversation twice, temperature 0: two workers).
``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/pipecat
    python3 -m venv /tmp/venv-pipecat && /tmp/venv-pipecat/bin/pip install -r requirements.txt
    /tmp/venv-pipecat/bin/python generate.py pipecat-openai

It writes ``tests/normalize/data/pipecat-openai.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/pipecat-truth.json`` (py_native's truth fields, with the versions that made it).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE
from langtrace.generate import REFUSED, loopback_only
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler
from py_vendors2.generate import versions

TRUTH = HERE.parent.parent / "data" / "pipecat-truth.json"
SOURCE = "pipecat-openai"
#: setup_tracing's resource (setup.py): service.instance.id from HOSTNAME, deployment.environment from ENVIRONMENT
os.environ["HOSTNAME"] = "support-bot-1"
os.environ["ENVIRONMENT"] = "fixture"


def main() -> None:
    loopback_only()
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from pipecat.utils.tracing.setup import setup_tracing

    spans = InMemorySpanExporter()
    assert setup_tracing("support-bot", exporter=spans)
    rec = Recorder(SOURCE, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE,
                   tracer_provider=trace.get_tracer_provider(), spans=spans)
    srv = serve(OpenAIHandler)
    asyncio.run(scenarios(rec, f"http://127.0.0.1:{srv.server_address[1]}/v1"))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(SOURCE, {"versions": versions("pipecat-ai", "openai", "opentelemetry-sdk")})
    print(f"{SOURCE}: connections refused beyond loopback: {REFUSED or 'none'}")


async def scenarios(rec: Recorder, base: str) -> None:
    from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
    from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
    from pipecat.frames.frames import (
        BotStartedSpeakingFrame,
        BotStoppedSpeakingFrame,
        EndFrame,
        ErrorFrame,
        LLMFullResponseEndFrame,
        LLMMessagesAppendFrame,
        LLMTextFrame,
        UserStartedSpeakingFrame,
        UserStoppedSpeakingFrame,
    )
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.services.llm_service import FunctionCallParams
    from pipecat.services.openai.llm import OpenAILLMService
    from pipecat.workers.runner import WorkerRunner

    class ChatOutput(FrameProcessor):
        """The chat client's end of the pipeline: says when the bot speaks (see the module docstring), counts the
        responses that ended and keeps the errors pushed upstream to it."""

        def __init__(self) -> None:
            super().__init__()
            self.ended, self.speaking, self.changed = 0, False, asyncio.Event()

        async def process_frame(self, frame: Any, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, LLMTextFrame) and not self.speaking:
                self.speaking = True
                await self.push_frame(BotStartedSpeakingFrame())
                await self.push_frame(BotStartedSpeakingFrame(), FrameDirection.UPSTREAM)
            await self.push_frame(frame, direction)
            if isinstance(frame, LLMFullResponseEndFrame):
                if self.speaking:
                    self.speaking = False
                    await self.push_frame(BotStoppedSpeakingFrame())
                    await self.push_frame(BotStoppedSpeakingFrame(), FrameDirection.UPSTREAM)
                self.ended += 1
                self.changed.set()

    async def get_order_status(params: FunctionCallParams) -> None:
        oid = params.arguments["order_id"]
        await params.result_callback({"order_id": oid, "status": "shipped" if oid == "A-1001" else "packing"})

    tools = ToolsSchema(standard_tools=[FunctionSchema(
        name="get_order_status", description="Look up the shipping status of an order.",
        properties={"order_id": {"type": "string"}}, required=["order_id"])])
    errors: list[str] = []

    async def conversation(cid: str, turns: list[tuple[str, int]], *, model: str = "gpt-4o-mini",
                           system: str = SYSTEM, **settings: Any) -> None:
        """One worker run: each turn's user message, then ``n`` LLM responses (a tool call and its answer: 2)."""
        llm = OpenAILLMService(api_key="sk-fake", base_url=base, settings=OpenAILLMService.Settings(
            model=model, system_instruction=system, **settings))
        llm._client = llm._client.with_options(max_retries=0)  # the service's own client (create_client)
        llm.register_function("get_order_status", get_order_status)
        pair = LLMContextAggregatorPair(LLMContext(tools=tools))
        out = ChatOutput()
        worker = PipelineWorker(Pipeline([pair.user(), llm, out, pair.assistant()]),
                                params=PipelineParams(enable_metrics=True, enable_usage_metrics=True),
                                enable_tracing=True, enable_turn_tracking=True, conversation_id=cid,
                                idle_timeout_secs=None)

        @worker.event_handler("on_pipeline_error")
        async def on_error(_: Any, frame: ErrorFrame) -> None:
            errors.append(type(frame.exception).__name__)

        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        run = asyncio.create_task(runner.run())
        for text, n in turns:
            want = out.ended + n
            await worker.queue_frames([UserStartedSpeakingFrame(), UserStoppedSpeakingFrame(),
                                       LLMMessagesAppendFrame(messages=[{"role": "user", "content": text}],
                                                              run_llm=True)])
            while out.ended < want:
                out.changed.clear()
                await asyncio.wait_for(out.changed.wait(), 30)
        await asyncio.sleep(3.0)  # the last turn ends on its own (TurnTrackingObserver turn_end_timeout_secs 2.5)
        await worker.queue_frame(EndFrame())
        await asyncio.wait_for(run, 30)

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        await conversation("conv-healthy", [(Q1, 1), (Q2, 1)], max_tokens=200)
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        await conversation("conv-cached", [("When is my refund?", 1), (Q1, 1), (Q2, 1)], system=BIG, max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        await conversation("conv-streaming-1", [(Q1, 1)], max_tokens=256)
        await conversation("conv-streaming-2", [(Q2, 1)], max_tokens=64)
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        await conversation("conv-tool-use", [(Q1, 2)], model="o4-mini")
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    with rec.root("errors", "order-status"):
        await conversation("conv-errors", [(Q1, 1), (Q1, 1)], max_tokens=200)
    assert errors == ["RateLimitError", "InternalServerError"], errors
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for n in (1, 2):
            await conversation(f"conv-duplicate-{n}", [(Q1, 1)], max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


if __name__ == "__main__":
    if sys.argv[1:] != [SOURCE]:
        raise SystemExit(f"usage: generate.py {SOURCE}")
    main()
