"""Real spans of pydantic-ai's own instrumentation with content off (tests/normalize/data/
pydantic-ai-{openai,anthropic}-no-content.jsonl), read as the same calls as with content on
(pydantic-ai-{openai,anthropic}.jsonl), call for call.

Captured by tests/normalize/gen/modes2/generate.py (versions in its requirements.txt and in modes2-truth.json):
pydantic-ai-slim 2.68.0 ``Agent.instrument_all(InstrumentationSettings(include_content=False))`` at its default data
format (version 5), over the fake OpenAI Chat Completions API (``OpenAIChatModel``, openai 3.57.0) or the fake
Anthropic Messages API (``AnthropicModel``, anthropic 2.15.0) and the scenarios of
tests/normalize/gen/py_semconv3/generate.py run_pydantic_ai, unchanged. With content off pydantic-ai keeps the
message structure and drops the text, over either API (the parts are pydantic-ai's own, models/instrumented.py, not
the provider's):

* ``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``pydantic_ai.all_messages`` keep each message's role and
  part types, a text part being ``{"type": "text"}`` without its ``content`` (_otel_messages.py text_part:
  ``TextPart(type='text')`` unless include_content);
* a tool call part keeps its id and name, not its arguments (messages.py _tool_call_otel_part: ``arguments`` only
  ``if settings.include_content``), and so does the ``execute_tool`` span (capabilities/instrumentation.py
  _tool_span_attributes: the tool arguments attribute only ``if include_content``);
* no ``gen_ai.system_instructions`` (models/instrumented.py system_instructions_attributes: ``if instructions and
  self.include_content``); usage, request options (max_tokens, temperature), tool definitions (``gen_ai.tool.
  definitions``: names, descriptions and schemas, "not user content") and finish reasons stay.

pydantic-ai 2.68.0 has no ``event_mode`` (its data format versions 2 to 6 all keep the messages on the spans): there
is no log-event mode to capture.

A text part without its content is a request not known (content._part_text, content.input_messages): read as
content, each request would be its roles alone (``[["user", ""]]`` for every first call), and any two calls of a
model with one input size would be one request asked twice, whatever was asked.

Over Anthropic the input is pydantic-ai's, cache reads and writes included (models/anthropic.py _map_usage adds
cache_read_input_tokens and cache_creation_input_tokens to input_tokens), as with content on; the truth keeps the
API's own ``uncached_input``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.score.fingerprint import fingerprint
from tests.normalize.captured import DATA, capture_lines_are, counted, token_sums, trees

TRUTH: dict[str, Any] = json.loads((DATA / "modes2-truth.json").read_text())
SEMCONV3_TRUTH: dict[str, Any] = json.loads((DATA / "py_semconv3-truth.json").read_text())
#: each source with content off -> the capture of the same run with content on (py_semconv3)
SHOWN = {"pydantic-ai-openai-no-content": "pydantic-ai-openai",
         "pydantic-ai-anthropic-no-content": "pydantic-ai-anthropic"}
SOURCES = sorted(SHOWN)
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: pydantic_ai/models/openai.py _CHAT_FINISH_REASON_MAP, models/anthropic.py _FINISH_REASON_MAP: the semantic
#: conventions' finish reasons
FINISH = {"tool_calls": "tool_call", "end_turn": "stop", "max_tokens": "length", "tool_use": "tool_call"}


def truth(source: str, scenario: str) -> dict[str, Any]:
    """The server's truth in the semantic conventions' terms: input with the cache, finish reasons as written."""
    t = dict(TRUTH[source]["scenarios"][scenario])
    if TRUTH[source]["api"] == "anthropic":
        t["input"] = t["uncached_input"] + t["cache_read"] + t["cache_write"]
        t["reasoning"] = 0
        t["finish_reasons"] = t["stop_reasons"]
    t["finish_reasons"] = [FINISH.get(r, r) for r in t["finish_reasons"]]
    return t


def lines(source: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (DATA / f"{source}.jsonl").read_text().splitlines()]


def spans(source: str) -> list[dict[str, Any]]:
    return [s for d in lines(source) for rs in d["otlp"]["resourceSpans"] for ss in rs["scopeSpans"]
            for s in ss["spans"]]


def test_data_files_are_there_and_saw_the_pydantic_ai_captures_answers() -> None:
    assert sorted(TRUTH) == SOURCES
    for pai, shown in SHOWN.items():
        capture_lines_are(pai, SCENARIOS)
        assert TRUTH[pai]["scenarios"] == SEMCONV3_TRUTH[shown]["scenarios"]
        assert TRUTH[pai]["versions"] == SEMCONV3_TRUTH[shown]["versions"]
        assert TRUTH[pai]["api"] == SEMCONV3_TRUTH[shown]["api"]


@pytest.mark.parametrize("source", SOURCES)
def test_the_mode_is_on(source: str) -> None:
    """Every text part of every message has lost its content; no span keeps the instructions or tool arguments."""
    texts = 0
    for s in spans(source):
        a = {kv["key"]: kv["value"] for kv in s.get("attributes", [])}
        assert "gen_ai.system_instructions" not in a and "gen_ai.tool.call.arguments" not in a, s["name"]
        for key in ("gen_ai.input.messages", "gen_ai.output.messages", "pydantic_ai.all_messages"):
            for m in json.loads(a[key]["stringValue"]) if key in a else []:
                for p in m["parts"]:
                    assert "content" not in p and "arguments" not in p and "result" not in p, (s["name"], p)
                    texts += p["type"] == "text"
    assert texts > 20


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_calls_and_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    assert token_sums(calls) == {k: t[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning")}
    assert [(e.call.request_model, e.call.response_model) for e in calls] == [  # type: ignore[union-attr]
        tuple(m) for m in t["models"]]
    api = TRUTH[source]["api"]
    assert all(e.call.provider == api and e.call.kind == "inference" for e in calls)  # type: ignore[union-attr]
    assert [r for e in calls for r in e.call.finish_reasons] == t["finish_reasons"]  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_no_content_is_read_and_nothing_is_unreadable(source: str) -> None:
    for _, tree in trees(source):
        for e in tree.spans:
            assert e.get(semconv.NOT_NORMALIZABLE) is None, e.view.name
            if e.call is not None and e.call.kind == "inference":
                assert e.call.input_content is None and e.call.system_content is None, e.view.name


@pytest.mark.parametrize("source", SOURCES)
def test_calls_read_as_with_content_on(source: str) -> None:
    """Field for field the calls of the capture with content on, but for what content off takes away: the
    request's text, and the tool call's arguments (their hash); the response ids and run ids are each run's own."""
    hidden = ("input_content", "system_content", "response_id", "conversation_id", "tool_args_hash", "requested_tools")

    def calls(source: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(e.call).items() if k not in hidden}  # type: ignore[call-overload]
                for _, t in trees(source) for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
                if e.call is not None and e.call.kind != "other"]

    off, on = calls(source), calls(SHOWN[source])
    assert len(off) == len(on) == 26
    assert off == on
    tool_calls = [e.call.requested_tools for e in counted(source, "tool_use")]  # type: ignore[union-attr]
    assert tool_calls == [(("get_order_status", None),), ()]  # the name is kept, the arguments are not


@pytest.mark.parametrize("source", SOURCES)
def test_the_shape_tells_requests_apart(source: str) -> None:
    """Without content each call is its shape (operation, model, tools, max_tokens, temperature, input tokens,
    parent): within a trace no two answered calls share one. The duplicate scenario's identical request asked in two
    agent runs is not one either: each call's parent is its own ``invoke_agent support`` span (the score test's
    KNOWN table, with the reason)."""
    for scenario, tree in trees(source):
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        fps = [fingerprint(e, e.call) for e in calls]  # type: ignore[arg-type]
        assert {basis for _, basis in fps} <= {"shape"}, scenario
        assert len({fp for fp, _ in fps}) == len(fps), scenario
        if scenario == "duplicate":
            a, b = (e.call for e in calls)
            assert (a.input_tokens, a.max_tokens, a.temperature) == (b.input_tokens, b.max_tokens, b.temperature)  # type: ignore[union-attr]
            assert calls[0].parent_id != calls[1].parent_id


@pytest.mark.parametrize("source", SOURCES)
def test_streams_are_streams(source: str) -> None:
    streamed = [e.call.streaming for e in counted(source, "streaming")]  # type: ignore[union-attr]
    assert streamed == [True, True]


def test_text_parts_without_content_are_no_content() -> None:
    """The semconv's TextPart requires ``content``: one without it is left out, and so the request is not known;
    an empty text is a text (content._part_text)."""
    from otel_tokenwatch.pipeline.normalize.content import input_messages

    hidden = json.dumps([{"role": "user", "parts": [{"type": "text"}]}])
    assert input_messages({"gen_ai.input.messages": hidden}) is None
    part_hidden = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Where is order A-1001?"}]},
                              {"role": "user", "parts": [{"type": "text"}]}])
    assert input_messages({"gen_ai.input.messages": part_hidden}) is None
    empty = json.dumps([{"role": "user", "parts": [{"type": "text", "content": ""}]}])
    assert input_messages({"gen_ai.input.messages": empty}) == [("user", "")]
    call = json.dumps([{"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_order_status"}]}])
    assert input_messages({"gen_ai.input.messages": call}) == [
        ("assistant", '{"arguments":null,"tool_call":"get_order_status"}')]
