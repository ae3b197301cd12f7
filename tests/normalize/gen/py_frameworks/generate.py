"""Capture real spans from Python agent frameworks (CrewAI, DSPy, Haystack) against a fake OpenAI API.

Every model-call span in the output was emitted by a real library wrapping a real client, which talked HTTP
to a fake OpenAI Chat Completions server on 127.0.0.1 started by this script (usage numbers chosen here, cached
and reasoning tokens included; finish reasons stop / length / tool_calls; 429 and 500 with OpenAI's error
JSON; SSE streams with usage in the last chunk when asked). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``) and, in DSPy's ``tool_use`` scenario (where the app runs the tool), the
app-level tool span ``tool.get_order_status`` (attributes ``app.*``). CrewAI and Haystack's ToolInvoker run the
tool themselves.

Sources (one process each, so that instrumentations never meet):

* ``crewai-openinference``        crewai (its native OpenAI provider over ``openai``, ``LLM(max_retries=0)``) under
                                  openinference-instrumentation-crewai (default wrapper mode: Crew.kickoff,
                                  Task._execute_core and tool spans) with openinference-instrumentation-openai on
* ``crewai-openinference-events`` the same with the CrewAI instrumentor's event-listener mode
                                  (``instrument(use_event_listener=True)``): its own ``{model}.llm_call`` spans
                                  carry CrewAI's usage, beside the OpenAI span of the same call
* ``dspy-openinference``          dspy ``Predict`` (its default lm15 client) under openinference-instrumentation-
                                  dspy alone (content captured by default)
* ``dspy-openinference-litellm``  dspy on its LiteLLM engine (``dspy.LM(..., engine="litellm")``) with
                                  openinference-instrumentation-litellm too, as DSPy users add it for token counts
* ``haystack-otel``               haystack-ai 2.x ``Pipeline`` with ``OpenAIChatGenerator(max_retries=0)`` under
                                  Haystack's own ``haystack.tracing.OpenTelemetryTracer``, content tracing on
                                  (``HAYSTACK_CONTENT_TRACING_ENABLED=true``)

Scenarios (the other captures' conventions): ``healthy`` (2 calls), ``cached`` (a big static system prompt, 3
calls, the 2nd and 3rd with ``cached_tokens``), ``streaming`` (2 streamed calls, the 2nd cut at max_tokens),
``tool_use`` (o4-mini asks for get_order_status with reasoning tokens, the tool runs, the model answers),
``errors`` (a 429 then a 500 surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request
twice, temperature 0). Library behaviour that shapes them: CrewAI retries a 429 itself (crewai llms/retry.py,
no switch), so its ``errors`` is one kickoff whose retry gets the 500; CrewAI's prompts are its own
(``You are {role}. {backstory}...``, the role chosen so the system prompt starts as everywhere), so is DSPy's
(the signature's instructions inside its ChatAdapter system message).

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv)::

    cd tests/normalize/gen/py_frameworks
    sed -n '/^# \\[crewai\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/crewai.txt   # likewise [dspy], [haystack]
    python3 -m venv /tmp/gen-crewai && /tmp/gen-crewai/bin/pip install -r /tmp/crewai.txt
    /tmp/gen-crewai/bin/python generate.py crewai-openinference
    /tmp/gen-crewai/bin/python generate.py crewai-openinference-events
    /tmp/gen-dspy/bin/python generate.py dspy-openinference
    /tmp/gen-dspy/bin/python generate.py dspy-openinference-litellm
    /tmp/gen-haystack2/bin/python generate.py haystack-otel

Versions: crewai 1.15.30, openinference-instrumentation-crewai 1.1.21, openinference-instrumentation-openai
0.1.66, openai 2.54.0 (crewai's pin); dspy 3.4.1, openinference-instrumentation-dspy 0.1.48,
openinference-instrumentation-litellm 0.1.51, litellm 1.110.2; haystack-ai 2.31.0; openai 3.57.0 and
opentelemetry-sdk 1.45.2 elsewhere (all in requirements.txt and the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as
/app/) and sets its entry in ``tests/normalize/data/py_frameworks-truth.json``: per scenario ``calls`` (model
calls answered, failed included), ``failed``, ``input`` (``prompt_tokens``, which includes ``cached_tokens``),
``output`` (``completion_tokens``, reasoning included), ``cache_read``, ``cache_write`` (0: the API has none),
``reasoning``, ``finish_reasons``, ``models`` ([request model, served model] of the successful calls) and
``usage_unsent`` (calls whose usage the server did not send because the client did not ask for it).
"""


from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_frameworks-truth.json"
SOURCES = ("crewai-openinference", "crewai-openinference-events", "dspy-openinference", "dspy-openinference-litellm",
           "haystack-otel")

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60


# --------------------------------------------------------------------------------------------------------
# the fake OpenAI Chat Completions API and its truth: py_native's (../py_native/generate.py), shared
# --------------------------------------------------------------------------------------------------------

from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": versions(*packages)})


# --------------------------------------------------------------------------------------------------------
# CrewAI under OpenInference (its own instrumentor and the OpenAI SDK's, as users run them)
# --------------------------------------------------------------------------------------------------------

def react(answer: str) -> str:
    """CrewAI's agent executor parses the model's text (agents/parser.py): a final answer is
    ``Thought: ... Final Answer: ...``."""
    return f"Thought: I now know the final answer\nFinal Answer: {answer}"


def run_crewai(source: str) -> None:
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"  # no calls home (telemetry.crewai.com)
    os.environ["CREWAI_TRACING_ENABLED"] = "false"
    os.environ["OTEL_SDK_DISABLED"] = "false"
    rec = recorder(source)
    from openinference.instrumentation.crewai import CrewAIInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    if source == "crewai-openinference-events":
        # the event-listener mode (openinference-instrumentation-crewai 1.1.21 __init__.py _instrument:
        # use_event_listener, create_llm_spans defaults to True): CrewAI's own LLM spans with the usage CrewAI
        # tracked, beside the OpenAI SDK's span of the same call
        CrewAIInstrumentor().instrument(tracer_provider=rec.tp, use_event_listener=True)
    else:
        # the default wrapper mode: Crew.kickoff / Task._execute_core / ToolUsage spans, no LLM span of its own
        CrewAIInstrumentor().instrument(tracer_provider=rec.tp)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    from crewai import LLM, Agent, Crew, Task
    from crewai.events.event_bus import crewai_event_bus
    from crewai.tools import tool

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return LLM(model=f"openai/{model}", api_key="sk-fake", base_url=base, max_retries=0, **kw)

    def crew(question: str, m: Any, backstory: str = "Answer briefly and politely.", tools: list[Any] | None = None) -> Any:
        # CrewAI's system prompt is ``You are {role}. {backstory}\nYour personal goal is: {goal}``
        # (translations/en.json role_playing): the role makes it start as every capture's system prompt does
        a = Agent(role="a support assistant for ACME", goal="Tell customers where their orders are.",
                  backstory=backstory, llm=m, tools=tools or [], max_iter=3, max_retry_limit=0, verbose=False,
                  allow_delegation=False)
        t = Task(description=question, expected_output="One short sentence.", agent=a)
        out = Crew(agents=[a], tasks=[t], verbose=False).kickoff()
        # CrewAI hands its events to handler threads (crewai 1.15 events/event_bus.py emit returns a Future); the
        # event listener ends its spans there: wait for them, so that a trace's spans are all in its line
        crewai_event_bus.flush()
        return out

    # healthy: two questions, one crew run each
    SCRIPT[:] = [oa(1200, 150, "stop", react("Order A-1001 shipped yesterday and arrives Friday.")),
                 oa(1350, 90, "stop", react("Order A-1002 is still being packed."))]
    with rec.root("healthy", "order-status"):
        m = llm(max_tokens=200)
        crew(Q1, m)
        crew(Q2, m)
    rec.flush("healthy")

    # cached: a big static backstory (the system prompt); the 2nd and 3rd call hit OpenAI's prompt cache
    SCRIPT[:] = [oa(9200, 120, "stop", react("Refunds take 5 business days.")),
                 oa(9260, 110, "stop", react("Order A-1001 shipped."), cached=8960),
                 oa(9310, 100, "stop", react("Order A-1002 is packing."), cached=8960)]
    with rec.root("cached", "policy-qa"):
        m = llm(max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            crew(q, m, backstory=BIG[len("You are a support assistant for ACME. "):])
    rec.flush("cached")

    # streaming: 2 streamed calls (LLM(stream=True): stream_options.include_usage, llms/providers/openai/
    # completion.py), the 2nd cut at max_tokens (finish_reason length)
    SCRIPT[:] = [oa(640, 48, "stop", react("Your order A-1001 shipped yesterday and arrives Friday.")),
                 oa(700, 64, "length", react("Here is every shipment event recorded for order A-1002 so far"))]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            crew(q, llm(max_tokens=mx, stream=True))
    rec.flush("streaming")

    # tool_use: o4-mini asks for get_order_status (native tool calling), CrewAI runs it, then the model answers
    @tool("get_order_status")
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                     {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
    with rec.root("tool_use", "order-agent"):
        crew(Q1, llm("o4-mini"), tools=[get_order_status])
    rec.flush("tool_use")

    # errors: a 429 then a 500. CrewAI retries a rate limit itself whatever the SDK's max_retries (crewai 1.15
    # llms/retry.py run_with_rate_limit_retry, wrapped around every provider's call by llms/base_llm.py: up to
    # 3 attempts, Retry-After honoured, no switch), so one kickoff makes both calls: the 429, then its retry
    # answered 500, which is not a throttle and reaches the app (Agent max_retry_limit=0: no task re-run)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        try:
            crew(Q1, llm(max_tokens=200))
        except Exception as exc:  # noqa: BLE001 - CrewAI re-raises the openai error
            surfaced.append(type(exc).__name__)
        crewai_event_bus.flush()
    assert surfaced == ["InternalServerError"], surfaced
    rec.flush("errors")

    # duplicate: the identical request twice (temperature 0)
    SCRIPT[:] = [oa(520, 30, "stop", react("Order A-1001 shipped yesterday.")),
                 oa(520, 30, "stop", react("Order A-1001 shipped yesterday."))]
    with rec.root("duplicate", "order-status"):
        m = llm(max_tokens=100, temperature=0.0)
        for _ in range(2):
            crew(Q1, m)
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "crewai", "openinference-instrumentation-crewai", "openinference-instrumentation-openai",
               "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# DSPy under OpenInference (alone, and with OpenInference's LiteLLM instrumentor, DSPy's client)
# --------------------------------------------------------------------------------------------------------

def chat_fields(**fields: str) -> str:
    """DSPy's ChatAdapter parses the model's text by field markers (dspy/adapters/chat_adapter.py)."""
    return "".join(f"[[ ## {k} ## ]]\n{v}\n\n" for k, v in fields.items()) + "[[ ## completed ## ]]"


def run_dspy(source: str) -> None:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM's bundled prices, no fetch from GitHub
    rec = recorder(source)
    from openinference.instrumentation.dspy import DSPyInstrumentor

    DSPyInstrumentor().instrument(tracer_provider=rec.tp)  # content is captured by default (TraceConfig)
    if source == "dspy-openinference-litellm":
        # DSPy calls LiteLLM (dspy/clients/lm.py litellm_completion); OpenInference's DSPy spans carry no token
        # counts (openinference-instrumentation-dspy 0.1.48 _LMCallWrapper: messages and parameters only), so
        # users add its LiteLLM instrumentor for them: each call is then reported twice, nested
        from openinference.instrumentation.litellm import LiteLLMInstrumentor

        LiteLLMInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import dspy

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def lm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        # num_retries=0: nothing retried (DSPy's default is 3); cache=False: every call reaches the API. DSPy 3.4
        # picks its own lm15 client by default (engine "auto", dspy/clients/backend_selection.py); LiteLLM is the
        # "compatibility backend", engine="litellm", which the LiteLLM instrumentor sees
        if source == "dspy-openinference-litellm":
            kw["engine"] = "litellm"
        return dspy.LM(f"openai/{model}", api_key="sk-fake", api_base=base, num_retries=0, cache=False, **kw)

    def signature(instructions: str, **extra: Any) -> Any:
        # built from types, not annotations (this module's annotations are strings, ``from __future__``)
        fields = {"question": (str, dspy.InputField()), **extra, "answer": (str, dspy.OutputField())}
        return dspy.make_signature(fields, instructions)

    ask = dspy.Predict(signature(SYSTEM))
    dspy.configure(track_usage=True)

    # healthy: two questions
    SCRIPT[:] = [oa(1200, 150, "stop", chat_fields(answer="Order A-1001 shipped yesterday and arrives Friday.")),
                 oa(1350, 90, "stop", chat_fields(answer="Order A-1002 is still being packed."))]
    with rec.root("healthy", "order-status"), dspy.context(lm=lm(max_tokens=200)):
        ask(question=Q1)
        ask(question=Q2)
    rec.flush("healthy")

    # cached: a big static instruction; the 2nd and 3rd call hit OpenAI's prompt cache
    policy = dspy.Predict(signature(BIG))
    SCRIPT[:] = [oa(9200, 120, "stop", chat_fields(answer="Refunds take 5 business days.")),
                 oa(9260, 110, "stop", chat_fields(answer="Order A-1001 shipped."), cached=8960),
                 oa(9310, 100, "stop", chat_fields(answer="Order A-1002 is packing."), cached=8960)]
    with rec.root("cached", "policy-qa"), dspy.context(lm=lm(max_tokens=300)):
        for q in ("When is my refund?", Q1, Q2):
            policy(question=q)
    rec.flush("cached")

    # streaming: dspy.streamify (LiteLLM streams; stream_options.include_usage with track_usage, dspy/clients/
    # lm.py _get_stream_completion_fn), the 2nd cut at max_tokens
    SCRIPT[:] = [oa(640, 48, "stop", chat_fields(answer="Your order A-1001 shipped yesterday and arrives Friday.")),
                 oa(700, 64, "length", chat_fields(answer="Here is every shipment event recorded for order A-1002"))]

    async def stream_all() -> None:
        for q, mx in ((Q1, 256), (Q2, 64)):
            with dspy.context(lm=lm(max_tokens=mx)):
                program = dspy.streamify(ask, stream_listeners=[dspy.streaming.StreamListener(signature_field_name="answer")])
                async for _ in program(question=q):
                    pass

    with rec.root("streaming", "order-updates"):
        asyncio.run(stream_all())
    rec.flush("streaming")

    # tool_use: native function calling (ChatAdapter(use_native_function_calling=True)): o4-mini asks for
    # get_order_status, the app runs it, then the model answers
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    agent = dspy.Predict(signature(SYSTEM, history=(dspy.History, dspy.InputField()),
                                   tools=(list[dspy.Tool], dspy.InputField())).append(
        "tool_calls", dspy.OutputField(), type_=dspy.ToolCalls))
    tool = dspy.Tool(get_order_status)
    SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                     {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", chat_fields(answer="Order A-1001 has shipped."), reasoning=64)]
    with rec.root("tool_use", "order-agent"), dspy.context(
            lm=lm("o4-mini", temperature=1.0, max_tokens=16000),
            adapter=dspy.ChatAdapter(use_native_function_calling=True)):
        history = dspy.History(messages=[])
        out = agent(question=Q1, history=history, tools=[tool])
        calls = out.tool_calls.tool_calls if out.tool_calls else []
        assert calls, out
        results = []
        for n, tc in enumerate(calls, 1):
            with rec.app.start_as_current_span("tool.get_order_status", attributes={
                    "app.tool.name": tc.name, "app.tool.arguments": json.dumps(tc.args), "app.iteration": n}):
                results.append(tool(**tc.args))
        # the app hands the tool's result back as the next turn's history (DSPy's History of field dicts)
        history = dspy.History(messages=[{"question": Q1, "tool_calls": out.tool_calls,
                                          "answer": f"get_order_status returned: {results[0]}"}])
        agent(question=Q1, history=history, tools=[tool])
    rec.flush("tool_use")

    # errors: a 429 then a 500 surfaced to the app (num_retries=0)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[str] = []
    with rec.root("errors", "order-status"), dspy.context(lm=lm(max_tokens=200)):
        for _ in range(2):
            try:
                ask(question=Q1)
            except Exception as exc:  # noqa: BLE001 - DSPy re-raises its client's error as its own
                # (dspy/clients/errors.py error_boundary: LMRateLimitError, LMServerError, ``from`` it)
                surfaced.append(type(exc.__cause__ or exc).__name__)
    # the cause: LiteLLM's RateLimitError / InternalServerError, or lm15's RateLimitError / ServerError
    assert surfaced in (["RateLimitError", "InternalServerError"], ["RateLimitError", "ServerError"]), surfaced
    rec.flush("errors")

    # duplicate: the identical request twice (temperature 0)
    SCRIPT[:] = [oa(520, 30, "stop", chat_fields(answer="Order A-1001 shipped yesterday.")),
                 oa(520, 30, "stop", chat_fields(answer="Order A-1001 shipped yesterday."))]
    with rec.root("duplicate", "order-status"), dspy.context(lm=lm(max_tokens=100, temperature=0.0)):
        for _ in range(2):
            ask(question=Q1)
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "dspy", "litellm", "openinference-instrumentation-dspy", "openinference-instrumentation-litellm",
               "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# Haystack 2.x with its own OpenTelemetry tracer
# --------------------------------------------------------------------------------------------------------

def run_haystack(source: str) -> None:
    # content tags (haystack.component.input / output) only with this set (haystack 2.31 tracing/tracer.py
    # ProxyTracer: read from the environment when the tracer is made)
    os.environ["HAYSTACK_CONTENT_TRACING_ENABLED"] = "true"
    os.environ["HAYSTACK_TELEMETRY_ENABLED"] = "False"  # no posthog calls home
    rec = recorder(source)
    from haystack import Pipeline, tracing
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.components.tools import ToolInvoker
    from haystack.dataclasses import ChatMessage
    from haystack.tools import Tool
    from haystack.tracing.opentelemetry import OpenTelemetryTracer
    from haystack.utils import Secret

    tracing.enable_tracing(OpenTelemetryTracer(rec.tp.get_tracer("haystack")))
    tracing.tracer.is_content_tracing_enabled = True
    # importing haystack checks its auto-enabled tracer with a span of its own (tracing/tracer.py
    # auto_enable_tracing: ``haystack.tracing.auto_enable``), before any scenario: not part of one
    rec.tp.force_flush()
    rec.spans.clear()
    srv = serve(OpenAIHandler)
    import openai

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def pipe(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        p = Pipeline()
        p.add_component("llm", OpenAIChatGenerator(api_key=Secret.from_token("sk-fake"), model=model,
                                                   api_base_url=base, max_retries=0, **kw))
        return p

    def msgs(*turns: tuple[str, str], system: str = SYSTEM) -> list[Any]:
        out = [ChatMessage.from_system(system)]
        for role, text in turns:
            out.append(ChatMessage.from_user(text) if role == "user" else ChatMessage.from_assistant(text))
        return out

    def ask(p: Any, messages: list[Any]) -> Any:
        return p.run({"llm": {"messages": messages}})["llm"]["replies"][0]

    # healthy: a two-turn conversation
    SCRIPT[:] = [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                 oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        p = pipe(generation_kwargs={"max_tokens": 200})
        a1 = ask(p, msgs(("user", Q1)))
        ask(p, msgs(("user", Q1), ("assistant", a1.text), ("user", Q2)))
    rec.flush("healthy")

    # cached
    SCRIPT[:] = [oa(9200, 120, "stop", "Refunds take 5 business days."),
                 oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                 oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        p = pipe(generation_kwargs={"max_tokens": 300})
        for q in ("When is my refund?", Q1, Q2):
            ask(p, msgs(("user", q), system=BIG))
    rec.flush("cached")

    # streaming: 2 streamed calls (a streaming_callback), the 2nd cut at max_tokens. OpenAIChatGenerator asks
    # for no usage in streams by itself (components/generators/chat/openai.py: ``stream_options`` only from
    # generation_kwargs): the app asks, as Haystack's docs show
    SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                 oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            ask(pipe(streaming_callback=lambda chunk: None,
                     generation_kwargs={"max_tokens": mx, "stream_options": {"include_usage": True}}),
                msgs(("user", q)))
    rec.flush("streaming")

    # tool_use: o4-mini asks for get_order_status, Haystack's ToolInvoker runs it, then the model answers
    def get_order_status(order_id: str) -> str:
        return "shipped" if order_id == "A-1001" else "packing"

    tool = Tool(name="get_order_status", description="Look up the shipping status of an order.",
                parameters={"type": "object", "properties": {"order_id": {"type": "string"}},
                            "required": ["order_id"]}, function=get_order_status)
    SCRIPT[:] = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                     {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
    with rec.root("tool_use", "order-agent"):
        p = pipe("o4-mini", tools=[tool])
        tools = Pipeline()
        tools.add_component("tools", ToolInvoker(tools=[tool]))
        history = msgs(("user", Q1))
        reply = ask(p, history)
        assert reply.tool_calls, reply
        history.append(reply)
        history += tools.run({"tools": {"messages": [reply]}})["tools"]["tool_messages"]
        ask(p, history)
    rec.flush("tool_use")

    # errors: a 429 then a 500 surfaced to the app (max_retries=0)
    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        p = pipe(generation_kwargs={"max_tokens": 200})
        for _ in range(2):
            try:
                ask(p, msgs(("user", Q1)))
            except Exception as exc:  # noqa: BLE001 - Haystack wraps it in PipelineRuntimeError
                cause = exc
                while cause is not None and not isinstance(cause, openai.APIStatusError):
                    cause = cause.__cause__ or cause.__context__
                surfaced.append(type(cause or exc).__name__)
    assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
    rec.flush("errors")

    # duplicate: the identical request twice (temperature 0)
    SCRIPT[:] = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                 oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        p = pipe(generation_kwargs={"max_tokens": 100, "temperature": 0.0})
        for _ in range(2):
            ask(p, msgs(("user", Q1)))
    rec.flush("duplicate")
    srv.shutdown()
    write(rec, "haystack-ai", "openai", "opentelemetry-sdk")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    {"crewai-openinference": run_crewai, "crewai-openinference-events": run_crewai, "dspy-openinference": run_dspy,
     "dspy-openinference-litellm": run_dspy, "haystack-otel": run_haystack}[sys.argv[1]](sys.argv[1])
