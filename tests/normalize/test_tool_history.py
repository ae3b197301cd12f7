"""An agent's step after a tool call carries, in its prompt, what the model asked the tool: the tool
call's name and arguments are part of the request, in whatever shape the instrumentation records the
history (the semantic conventions' parts, OpenAI's ``tool_calls``, Anthropic's ``tool_use`` blocks, the
AI SDK's ``tool-call`` parts, Gemini's ``functionCall``, Genkit's ``toolRequest``, Haystack's ``tool_call``,
OpenInference's and OpenLLMetry's flattened messages). Read as empty, two steps alike but for a tool's
arguments would be one request twice (an exact duplicate), and a re-ask would match a step it never
repeated.

Checked on real captures (tests/normalize/data/), each source's ``tool_use`` scenario: the model asks
``get_order_status`` for order A-1001, the app runs it and calls the model again."""

from __future__ import annotations

import pytest

from tests.normalize.captured import trees

#: one or more sources per shape of recorded history
SHAPES = {
    "semconv parts (gen_ai.input.messages)": ["async-openai-v2", "fireworks-openai-v2"],
    "OpenAI tool_calls messages": ["embed-openllmetry", "langfuse-py-openai", "logfire-openai", "pipecat-openai"],
    "Anthropic tool_use blocks": ["anthropic-sdk", "logfire-anthropic", "anthropic-openllmetry"],
    "AI SDK tool-call parts": ["vercel-ai-google", "vercel-ai-bedrock"],
    "Gemini functionCall parts": ["openlit-google-genai", "google-adk"],
    "Genkit toolRequest parts": ["genkit-openai"],
    "OpenInference flattened messages": ["openinference-js-openai", "langgraph-openinference",
                                         "anthropic-openinference"],
    "OpenLLMetry flattened prompts": ["ollama-openllmetry"],
    "OpenAI tool_calls beside empty semconv parts (LiteLLM)": ["litellm-otel", "litellm-proxy-openai"],
    "Haystack ChatMessage tool_call content": ["haystack-otel"],
}
SOURCES = [s for group in SHAPES.values() for s in group]


@pytest.mark.parametrize("source", SOURCES)
def test_the_step_after_a_tool_call_names_the_call_in_its_prompt(source: str) -> None:
    steps = []
    for scenario, tree in trees(source):
        if scenario != "tool_use":
            continue
        calls = sorted((e for e in tree.spans if e.call is not None and e.call.kind == "inference" and e.call.counted
                        and e.call.input_content), key=lambda e: int(e.view.start_time_unix_nano))
        assert len(calls) >= 2, f"{source}: the tool_use scenario has a step after the tool call"
        steps.append(calls[-1].call)
    assert steps, source
    for c in steps:
        assert c is not None and c.input_content is not None
        assert "get_order_status" in c.input_content, f"{source}: the tool call is missing from the step's prompt"
        assert "A-1001" in c.input_content
