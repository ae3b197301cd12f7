"""Capture real spans of pydantic-ai's built-in instrumentation over its Google (Gemini API) and Bedrock models,
against fakes, with nothing sent beyond loopback.

Every model-call span in the output was emitted by pydantic-ai's own instrumentation (``Agent.instrument_all(
InstrumentationSettings(tracer_provider=..., include_content=True))``, its default data format; spans of scope
``pydantic-ai``: ``invoke_agent support`` > ``chat {model}`` / ``execute_tool get_order_status``) around a real
client SDK that talked HTTP to a fake on 127.0.0.1 started by this script. The only spans made here are the trace
roots (``workflow``, scope ``fixgen.app``); pydantic-ai runs its tool itself.

The fakes are the other generators' own, imported unchanged with their truth keeping:

* ``pydantic-ai-google``   ``GoogleModel`` with ``GoogleProvider(api_key=..., base_url=<the fake>)`` (google-genai's
                           async client; the Gemini API's ``/v1beta/models/{model}:generateContent`` and
                           ``:streamGenerateContent?alt=sse``) against ``GeminiHandler`` of
                           ``../gemini_langchain/generate.py``: usageMetadata as the Gemini API documents it
                           (promptTokenCount includes cachedContentTokenCount, candidatesTokenCount excludes
                           thoughtsTokenCount); its truth ``input`` is prompt + toolUsePrompt, ``output`` candidates +
                           thoughts, ``reasoning`` the thoughts. No SDK retries (``retry_options`` unset).
* ``pydantic-ai-bedrock``  ``BedrockConverseModel`` with ``BedrockProvider(bedrock_client=boto3.client(
                           "bedrock-runtime", endpoint_url=<the fake>, total_max_attempts=1))`` (Converse and
                           ConverseStream) against ``BedrockHandler`` of ``../bedrock/generate.py``: Converse
                           TokenUsage (``inputTokens`` leaves cacheRead/cacheWriteInputTokens out); dummy AWS
                           credentials from the environment.

Scenarios: healthy (two runs, the second with the first's history), cached (a big instruction prefix; Gemini:
cachedContentTokenCount and, on the third call, thoughts; Bedrock: ``bedrock_cache_instructions``, a cache write then
reads), streaming (``run_stream``; the second cut at max tokens), tool_use (pydantic-ai's tool loop; Gemini 2.5 Pro
with thoughts and a toolUsePromptTokenCount), errors (Gemini: a 429 then a 500 reach the app; Bedrock, as its group
does: a 429, a 500, then the app's third try succeeds), duplicate (the identical run twice).

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    python3 -m venv /tmp/venv-pydgem && /tmp/venv-pydgem/bin/pip install -r requirements.txt
    /tmp/venv-pydgem/bin/python generate.py pydantic-ai-google
    /tmp/venv-pydgem/bin/python generate.py pydantic-ai-bedrock

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/pydgem-truth.json`` (the fake's truth per scenario, ``api`` and the versions).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, Recorder, loopback_only, serve

TRUTH = HERE.parent.parent / "data" / "pydgem-truth.json"
SOURCES = ("pydantic-ai-google", "pydantic-ai-bedrock")
SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
FLASH, PRO = "gemini-2.5-flash", "gemini-2.5-pro"



def _load(name: str, folder: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / folder / "generate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def get_order_status(order_id: str) -> str:
    """Look up the shipping status of an order."""
    return "shipped" if order_id == "A-1001" else "packing"


def gemini_answers(gu: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        "healthy": [{"usage": gu(1200, 150), "finish": "STOP", "text": "Order A-1001 shipped yesterday."},
                    {"usage": gu(1350, 90), "finish": "STOP", "text": "Order A-1002 is still being packed."}],
        "cached": [{"usage": gu(9200, 120), "finish": "STOP", "text": "Refunds take 5 business days."},
                   {"usage": gu(9260, 110, cached=8960), "finish": "STOP", "text": "Order A-1001 shipped."},
                   {"usage": gu(9310, 100, cached=8960, thoughts=512), "finish": "STOP",
                    "text": "Order A-1002 is packing.", "thought_text": "The policy says packing orders ship soon."}],
        "streaming": [{"usage": gu(640, 48), "finish": "STOP",
                       "text": "Your order A-1001 shipped yesterday and arrives Friday."},
                      {"usage": gu(700, 64, cached=512), "finish": "MAX_TOKENS",
                       "text": "Here is every shipment event recorded for order A-1002 so far"}],
        "tool_use": [{"usage": gu(420, 22, thoughts=128), "finish": "STOP", "thought_text": "I should look it up.",
                      "function_call": {"name": "get_order_status", "args": {"order_id": "A-1001"}}},
                     {"usage": gu(470, 26, thoughts=64, tool_use=32), "finish": "STOP",
                      "text": "Order A-1001 has shipped."}],
        "errors": [{"status": 429, "message": "Resource has been exhausted (e.g. check quota)."},
                   {"status": 500, "message": "An internal error has occurred."}],
        "duplicate": [{"usage": gu(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."},
                      {"usage": gu(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."}],
    }


def bedrock_answers() -> dict[str, list[dict[str, Any]]]:
    return {
        "healthy": [{"usage": {"in": 1200, "out": 150}, "stop": "end_turn",
                     "text": "Order A-1001 shipped on Monday and arrives tomorrow."},
                    {"usage": {"in": 800, "out": 90}, "stop": "end_turn", "text": "Order A-1002 is being packed."}],
        "cached": [{"usage": {"in": 40, "out": 30, "write": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."},
                   {"usage": {"in": 35, "out": 28, "read": 2048}, "stop": "end_turn", "text": "It shipped."},
                   {"usage": {"in": 38, "out": 26, "read": 2048}, "stop": "end_turn", "text": "It is packing."}],
        "streaming": [{"usage": {"in": 500, "out": 200}, "stop": "end_turn",
                       "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                      {"usage": {"in": 700, "out": 64, "read": 2048}, "stop": "max_tokens",
                       "text": "Here is a detailed history of every shipment event recorded for order A-1002 so far"}],
        "tool_use": [{"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                      "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                     {"usage": {"in": 690, "out": 40}, "stop": "end_turn", "text": "Order A-1001 has shipped."}],
        "errors": [{"status": 429}, {"status": 500},
                   {"usage": {"in": 400, "out": 60}, "stop": "end_turn", "text": "Order A-1002 is being packed."}],
        "duplicate": [{"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                      {"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}],
    }


def run(source: str) -> None:
    google = source == "pydantic-ai-google"
    if google:
        fake = _load("gemini_langchain_generate", "gemini_langchain")
        answers = gemini_answers(fake.gemini_usage)
        handler = fake.GeminiHandler
        chat, big_model, reasoner = FLASH, FLASH, PRO
    else:
        os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                           "AWS_DEFAULT_REGION": "us-east-1"})
        for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            os.environ.pop(k, None)
        fake = _load("bedrock_generate", "bedrock")
        answers = bedrock_answers()
        handler = fake.BedrockHandler
        chat, big_model, reasoner = fake.HAIKU, fake.SONNET, fake.SONNET
    script, truth = fake.SCRIPT, fake.TRUTH_NOW
    rec = Recorder(source, TRUTH, truth.begin, lambda: truth.by_scenario, HERE)
    srv = serve(handler)
    url = f"http://127.0.0.1:{srv.server_address[1]}"

    from pydantic_ai import Agent, InstrumentationSettings
    from pydantic_ai.exceptions import ModelHTTPError

    Agent.instrument_all(InstrumentationSettings(tracer_provider=rec.tp, include_content=True))

    if google:
        from pydantic_ai.models.google import GoogleModel
        from pydantic_ai.providers.google import GoogleProvider

        provider: Any = GoogleProvider(api_key="fake-key", base_url=url)

        def model(name: str) -> Any:
            return GoogleModel(name, provider=provider)
    else:
        import boto3
        from botocore.config import Config
        from pydantic_ai.models.bedrock import BedrockConverseModel
        from pydantic_ai.providers.bedrock import BedrockProvider

        client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=url,
                              config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        provider = BedrockProvider(bedrock_client=client)

        def model(name: str) -> Any:
            return BedrockConverseModel(name, provider=provider)

    def agent(name: str, system: str = SYSTEM, tools: Any = ()) -> Any:
        return Agent(model(name), instructions=system, tools=list(tools), name="support")

    def load(scenario: str) -> None:
        script[:] = list(answers[scenario])

    async def main() -> None:
        load("healthy")
        with rec.root("healthy", "order-status"):
            a = agent(chat)
            r = await a.run(Q1, model_settings={"max_tokens": 200})
            second = a if google else agent(fake.NOVA)  # Bedrock: Claude, then Amazon Nova
            await second.run(Q2, message_history=r.all_messages(), model_settings={"max_tokens": 200})
        rec.flush("healthy")

        load("cached")
        with rec.root("cached", "policy-qa"):
            settings: dict[str, Any] = {"max_tokens": 300}
            if not google:
                settings["bedrock_cache_instructions"] = True
            for q in ("When is my refund?", Q1, Q2):
                await agent(big_model, BIG).run(q, model_settings=settings)
        rec.flush("cached")

        load("streaming")
        with rec.root("streaming", "order-updates"):
            for name, q, mx in ((chat, Q1, 256), (big_model, Q2 + " List every shipment event.", 64)):
                async with agent(name).run_stream(q, model_settings={"max_tokens": mx}) as s:
                    async for _ in s.stream_text(delta=True):
                        pass
        rec.flush("streaming")

        load("tool_use")
        with rec.root("tool_use", "order-agent"):
            await agent(reasoner, tools=[get_order_status]).run(Q1)
        rec.flush("tool_use")

        load("errors")
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2 if google else 3):
                try:
                    await agent(chat).run(Q2, model_settings={"max_tokens": 128})
                    break
                except ModelHTTPError as exc:
                    surfaced.append(exc.status_code)
        assert surfaced == [429, 500], surfaced
        rec.flush("errors")

        load("duplicate")
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent(chat).run(Q1, model_settings={"max_tokens": 100, "temperature": 0.0})
        rec.flush("duplicate")

    asyncio.run(main())
    assert not script, f"unused answers: {script}"
    srv.shutdown()
    libs = ("pydantic-ai-slim", "google-genai") if google else ("pydantic-ai-slim", "boto3", "botocore")
    rec.write(source, {"api": "gemini" if google else "bedrock",
                       "versions": {n: version(n) for n in (*libs, "genai-prices", "opentelemetry-sdk")}})


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    run(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
