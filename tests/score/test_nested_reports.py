"""One model call reported by a framework span and the client span below it is one call, never a re-ask.

Double instrumentation nests spans this way (a LangChain or Langfuse generation span made current, the
OpenAI SDK's instrumentation beneath it, both with the call's usage and messages): the child counts, and
the scorer must not match the child against its own wrapper as an exact duplicate.
"""

from __future__ import annotations

import json

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.normalize.spans import tree_of

MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Where is order A-1001?"}]}])
CALL = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 80,
        "gen_ai.input.messages": MESSAGES, "gen_ai.response.finish_reasons": ["stop"]}


def _chain() -> ProcessorChain:
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    return ProcessorChain(stages)


def test_wrapper_and_client_span_are_one_call_not_a_duplicate() -> None:
    tree = tree_of((1, 0, "workflow", {"app.workflow": "support"}),
                   (2, 1, "chat gpt-4o-mini", dict(CALL)),  # the framework's span
                   (3, 2, "chat gpt-4o-mini", dict(CALL)))  # the client SDK's span inside it
    _chain().process_many([tree])
    counted = [e for e in tree.spans if e.call is not None and e.call.counted]
    assert [e.span_id[-1] for e in counted] == [3]
    assert all(e.get(semconv.WASTE_REASON) is None for e in tree.spans)
    root = tree.root()
    assert root is not None
    assert root.get(semconv.TRACE_INPUT_TOKENS) == 1200 and root.get(semconv.TRACE_WASTED) in (None, 0, 0.0)


def test_the_same_call_asked_twice_is_still_a_duplicate() -> None:
    """The pairing above must not hide a real re-ask: two sibling calls with the same messages."""
    tree = tree_of((1, 0, "workflow", {"app.workflow": "support"}),
                   (2, 1, "chat gpt-4o-mini", dict(CALL)),
                   (3, 1, "chat gpt-4o-mini", dict(CALL)))
    _chain().process_many([tree])
    assert sum(1 for e in tree.spans if e.call is not None and e.call.counted) == 2
    assert [e.get(semconv.WASTE_REASON) for e in tree.spans if e.span_id[-1] == 3] == ["duplicate"]
