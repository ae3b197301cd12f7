"""Real spans of the main OpenAI instrumentations with content hidden or moved to log events (tests/normalize/data/
openai-v2-events.jsonl, openllmetry-openai-events.jsonl, openinference-openai-hidden.jsonl,
openlit-openai-no-content.jsonl, openai-v2-no-content.jsonl, openllmetry-openai-no-content.jsonl), or with the request
options hidden (openinference-openai-no-params.jsonl), read as the same calls as with content on, call for call.

Captured by tests/normalize/gen/modes/generate.py (versions in its requirements.txt and in modes-truth.json): the embed
generator's fake OpenAI API and scenarios (chat and embeddings calls, ``OpenAI(max_retries=0)``), unchanged, under:

* opentelemetry-instrumentation-openai-v2 2.4b0 (opentelemetry-util-genai 1.1b0) with
  ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=EVENT_ONLY``: util/genai/_invocation.py serializes
  gen_ai.input.messages / gen_ai.output.messages ``for_span`` only under SPAN_ONLY / SPAN_AND_EVENT; under
  EVENT_ONLY they are on the ``gen_ai.client.inference.operation.details`` log record, the span keeps names, request
  options, usage and finish reasons;
* opentelemetry-instrumentation-openai 0.62.4 (OpenLLMetry) with ``OpenAIInstrumentor(use_attributes=False)``
  (__init__.py: the former ``use_legacy_attributes=False``; utils.py should_emit_events): the messages are
  shared/event_emitter.py's ``gen_ai.{system,user,assistant,tool}.message`` / ``gen_ai.choice`` log events, and
  shared/chat_wrappers.py sets no prompt or completion on the span (``if should_send_prompts() and not
  should_emit_events()``);
* openinference-instrumentation-openai 0.1.66 with ``OPENINFERENCE_HIDE_INPUTS`` / ``OPENINFERENCE_HIDE_OUTPUTS``
  (openinference-instrumentation 0.1.72 config.py TraceConfig.mask): ``input.value`` / ``output.value`` are
  ``"__REDACTED__"``, the ``llm.input_messages.*`` / ``llm.output_messages.*`` / ``llm.tools.*`` keys are dropped;
  ``llm.invocation_parameters`` (stream flag, max_tokens) and ``llm.finish_reason`` stay, and so do an embedding's
  ``embedding.embeddings.N.embedding.text`` (hide_embeddings_text is a switch of its own);
* openlit 1.45.0 with ``openlit.init(capture_message_content=False)``: instrumentation/openai/utils.py
  common_chat_logic / common_embedding_logic write the messages only ``if capture_message_content``;
* opentelemetry-instrumentation-openai-v2 2.4b0 with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=NO_CONTENT``:
  no messages on the span (_invocation.py, as under EVENT_ONLY) and no operation details event either
  (util/genai/utils.py should_emit_event: False for NO_CONTENT unless OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT is set);
* opentelemetry-instrumentation-openai 0.62.4 (OpenLLMetry) in its default attribute mode with
  ``TRACELOOP_TRACE_CONTENT=false``: utils.py should_send_prompts reads the variable, and shared/chat_wrappers.py /
  embeddings_wrappers.py set the ``gen_ai.prompt.*`` / ``gen_ai.completion.*`` keys only ``if should_send_prompts()``
  (no log events: no logger provider);
* openinference-instrumentation-openai 0.1.66 with ``OPENINFERENCE_HIDE_LLM_INVOCATION_PARAMETERS=true``
  (TraceConfig.mask drops ``llm.invocation_parameters``, with the request's stream flag and max_tokens): the
  messages stay, and so does ``input.value``, the request's own parameters as JSON (_request.py
  _get_attributes_from_request), where the reader finds them instead (dialects._Plan.oi_request_input).

The fake server's answers are the truth, the same as the embed captures' (tests/normalize/test_captured_embed.py):
with no content to compare, every call must still count its tokens exactly, and the duplicate scenario's two
identical embeddings requests must still be one request twice while no other two calls are (score/fingerprint.py's
shape basis: operation, model, tools, max_tokens, temperature, input tokens, parent).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.content import REDACTED
from otel_tokenwatch.pipeline.score.fingerprint import fingerprint
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, token_sums, trees, with_gaps

TRUTH: dict[str, Any] = json.loads((DATA / "modes-truth.json").read_text())
EMBED_TRUTH: dict[str, Any] = json.loads((DATA / "embed-truth.json").read_text())
V2, OLLM, OI, LIT = ("openai-v2-events", "openllmetry-openai-events", "openinference-openai-hidden",
                     "openlit-openai-no-content")
V2N, OLLN, OIP = "openai-v2-no-content", "openllmetry-openai-no-content", "openinference-openai-no-params"
SOURCES = [V2, OLLM, OI, LIT, V2N, OLLN, OIP]
#: the sources whose spans carry no request content (OpenInference's hide_inputs: its placeholder)
NO_CONTENT = [V2, OLLM, OI, LIT, V2N, OLLN]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
EMBED, CHAT = "text-embedding-3-small", "gpt-4o-mini"

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties: a chat invocation's
    # input_tokens / output_tokens only, never cache_read_input_tokens (as embed-openai-v2's)
    (V2, "cached", "cache_read"): 0,
    # ... and its ChatStreamWrapper keeps ``finish_reasons: list = []``, never appended to (the chunks' reasons go
    # to choice_buffers, for the output messages): with those messages in the log event, a streamed chat span has
    # no finish reason at all
    (V2, "streaming", "finish_reasons"): [],
    # the same two under NO_CONTENT: the output messages, where a stream's finish reasons are, are not serialized
    (V2N, "cached", "cache_read"): 0,
    (V2N, "streaming", "finish_reasons"): [],
}
#: opentelemetry-instrumentation-openai 0.62.4 shared/__init__.py OPENAI_FINISH_REASON_MAP: ``tool_calls`` -> ``tool_call``
FINISH = {OLLM: {"tool_calls": "tool_call"}, OLLN: {"tool_calls": "tool_call"}}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario)


def lines(source: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (DATA / f"{source}.jsonl").read_text().splitlines()]


def test_data_files_are_there_and_saw_the_embed_captures_answers() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)
        assert TRUTH[source]["scenarios"] == EMBED_TRUTH["embed-openai-v2"]["scenarios"], source


@pytest.mark.parametrize("source", SOURCES)
def test_the_mode_is_on(source: str) -> None:
    """No span carries the messages (OpenInference's carry its placeholder); the events sources log them. With
    the invocation parameters hidden, OpenInference keeps the messages and drops ``llm.invocation_parameters``."""
    keys = {kv["key"]: kv["value"] for d in lines(source) for rs in d["otlp"]["resourceSpans"]
            for ss in rs["scopeSpans"] for s in ss["spans"] for kv in s.get("attributes", [])}
    messages = {k for k in keys if k in ("gen_ai.input.messages", "gen_ai.output.messages")
                or k.startswith(("gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.",
                                 "llm.output_messages."))}
    assert bool(messages) == (source == OIP), source
    assert ("llm.invocation_parameters" in keys) == (source == OI), source
    logged = [d for d in lines(source) if d.get("otlp_logs")]
    assert (len(logged) == len(SCENARIOS)) == (source in (V2, OLLM)), source
    if source == OI:
        assert keys["input.value"] == {"stringValue": REDACTED}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_calls_and_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    assert token_sums(calls) == {k: t[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning")}
    assert [(e.call.request_model, e.call.kind) for e in calls] == [  # type: ignore[union-attr]
        (m, "embeddings" if m == EMBED else "inference") for m, _ in t["models"]]
    assert all(e.call.provider == "openai" for e in calls)  # type: ignore[union-attr]
    chat_finish = [r for e in calls if e.call.kind == "inference" for r in e.call.finish_reasons]  # type: ignore[union-attr]
    assert chat_finish == [FINISH.get(source, {}).get(r, r) for r in t["finish_reasons"]]


@pytest.mark.parametrize("source", NO_CONTENT)
def test_no_content_is_read_and_nothing_is_unreadable(source: str) -> None:
    """Hidden or moved away, there is no request content to read: OpenInference's ``"__REDACTED__"`` is no content
    (content.input_messages), else every call of a model would be the one request. Every span is read. But
    OpenInference's hide_inputs leaves an embeddings span's ``embedding.embeddings.N.embedding.text`` (only
    hide_embeddings_text removes them): the embedded texts are read there (content.embedding_texts)."""
    embedded = 0
    for _, tree in trees(source):
        for e in tree.spans:
            assert e.get(semconv.NOT_NORMALIZABLE) is None, e.view.name
            if e.call is not None and e.call.kind in ("inference", "embeddings"):
                texts = [v for k, v in e.attrs.items() if k.startswith("embedding.embeddings.")
                         and k.endswith(".embedding.text")]
                if source == OI and e.call.kind == "embeddings" and texts:
                    assert e.call.input_content == json.dumps([["user", t] for t in texts],
                                                                         separators=(",", ":")), e.view.name
                    embedded += 1
                    continue
                assert e.call.input_content is None and e.call.system_content is None, e.view.name
    assert (embedded > 0) == (source == OI)


@pytest.mark.parametrize("source", SOURCES)
def test_only_the_duplicate_is_one_request_twice(source: str) -> None:
    """Without content the shape tells requests apart: within a trace no two answered calls share a fingerprint,
    but for the duplicate scenario's identical embeddings requests (7 tokens each, one parent)."""
    bases = {OI: {"shape", "content"}, OIP: {"content"}}
    for scenario, tree in trees(source):
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        fps = [fingerprint(e, e.call) for e in calls]  # type: ignore[arg-type]
        assert {basis for _, basis in fps} <= bases.get(source, {"shape"}), scenario
        same = [(a.call.kind, a.call.input_tokens) for i, a in enumerate(calls)  # type: ignore[union-attr]
                for j, b in enumerate(calls) if i < j and fps[i][0] == fps[j][0]]
        assert same == ([("embeddings", 7)] if scenario == "duplicate" else []), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_an_embeddings_call_and_a_chat_call_failed(source: str) -> None:
    for scenario, tree in trees(source):
        failed = sorted((e.call.kind, e.call.request_model) for e in tree.spans  # type: ignore[union-attr]
                        if e.call is not None and e.call.error and e.call.report_of is None)
        assert all(not e.call.counted and not e.call.has_usage for e in tree.spans  # type: ignore[union-attr]
                   if e.call is not None and e.call.error)
        assert failed == ([("embeddings", EMBED), ("inference", CHAT)] if scenario == "errors" else []), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for _, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("source", SOURCES)
def test_streams(source: str) -> None:
    """OpenLLMetry (gen_ai.is_streaming), OpenLIT (gen_ai.request.stream) and OpenInference (``"stream": true`` in
    llm.invocation_parameters, which hide_inputs leaves) flag a streamed call. openai-v2 2.4b0 writes no stream
    attribute (patch.py traced_method); with content on, its stream is told by finish reasons found in the output
    messages only (dialects._Plan.util_stream), and under EVENT_ONLY those messages are not on the span: unknown,
    never False (so a cut stream is not taken for a truncated answer: score/engine.py cut_at_max_tokens)."""
    streamed = [e.call.streaming for e in counted(source, "streaming") if e.call.kind == "inference"]  # type: ignore[union-attr]
    assert streamed == ([None, None] if source in (V2, V2N) else [True, True])
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate")  # type: ignore[union-attr]
                   for e in counted(source, sc))


def test_hidden_invocation_parameters_are_read_from_the_request() -> None:
    """OpenInference's hide_llm_invocation_parameters takes the stream flag, max_tokens and the requested model out
    of the span's parameters; its OpenAI ``input.value`` is that very request (the parameters and the messages), so
    every call reads as with the parameters on: embed-openinference's calls, field for field (the response ids
    aside). The stream cut at max_tokens is still a stream, the caller's choice (score/engine.py truncated)."""
    from dataclasses import asdict

    def calls(source: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(e.call).items() if k != "response_id"}  # type: ignore[call-overload]
                for _, t in trees(source) for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
                if e.call is not None and e.call.kind != "other"]

    hidden, shown = calls(OIP), calls("embed-openinference")
    assert len(hidden) == len(shown) == 17
    assert hidden == shown
    cut = [e.call for e in counted(OIP, "streaming") if e.call.kind == "inference"][-1]  # type: ignore[union-attr]
    assert (cut.streaming, cut.max_tokens, cut.output_tokens, cut.finish_reasons) == (True, 64, 64, ("length",))  # type: ignore[union-attr]
    assert [e.call.request_model for e in counted(OIP, "healthy")] == [EMBED, CHAT]  # type: ignore[union-attr]


def test_a_request_that_is_not_json_gives_no_parameters() -> None:
    """With hide_inputs as well, ``input.value`` is the placeholder: no parameters to read, the stream unknown (never
    False: a cut stream is then not taken for a truncated answer, score/engine.py cut_at_max_tokens); nor is a JSON
    value read as the request unless it is one (a model and its messages / input / prompt)."""
    from otel_tokenwatch.pipeline.normalize.dialects import read_call
    from tests.normalize.spans import tree_of

    base = {"openinference.span.kind": "LLM", "llm.system": "openai", "llm.model_name": "gpt-4o-mini-2024-07-18",
            "llm.token_count.prompt": 700, "llm.token_count.completion": 64, "llm.finish_reason": "length"}
    for value, want in ((REDACTED, (None, None, "gpt-4o-mini-2024-07-18")),
                        (json.dumps({"stream": True, "max_tokens": 64}), (None, None, "gpt-4o-mini-2024-07-18")),
                        (json.dumps({"model": "gpt-4o-mini", "stream": True, "max_tokens": 64, "messages": []}),
                         (True, 64, "gpt-4o-mini"))):
        tree = tree_of((1, 0, "ChatCompletion", {**base, "input.value": value}),
                       scope="openinference.instrumentation.openai")
        c = read_call(tree.spans[0])
        assert (c.streaming, c.max_tokens, c.request_model) == want, value
        assert not c.invalid


def test_redacted_message_texts_are_no_content() -> None:
    """TraceConfig's other masks keep the keys and redact the text: ``hide_input_text`` writes each message's
    ``llm.input_messages.N.message.content`` as ``"__REDACTED__"`` (config.py TraceConfig.mask), the roles kept."""
    from otel_tokenwatch.pipeline.normalize.content import input_messages

    a = {"llm.input_messages.0.message.role": "system", "llm.input_messages.0.message.content": REDACTED,
         "llm.input_messages.1.message.role": "user", "llm.input_messages.1.message.content": REDACTED}
    assert input_messages(a) is None
    a["llm.input_messages.1.message.content"] = "Where is order A-1001?"
    assert input_messages(a) is None  # a request partly hidden is not known either
    assert input_messages({"input.value": "Where is order A-1001?"}) == [("user", "Where is order A-1001?")]


def test_embedded_texts_are_read_in_order_and_a_redacted_one_ends_them() -> None:
    """``embedding.embeddings.N.embedding.text`` from 0 up, as OpenInference numbers them; hide_embeddings_text's
    placeholder is no text (content.embedding_texts)."""
    from otel_tokenwatch.pipeline.normalize.content import embedding_texts

    key = "embedding.embeddings.{}.embedding.text".format
    assert embedding_texts({key(0): "a", key(1): "b", key(3): "d"}) == [("user", "a"), ("user", "b")]
    assert embedding_texts({key(0): REDACTED}) is None
    assert embedding_texts({key(1): "b"}) is None  # numbered from 0: no first text, no texts
    assert embedding_texts({key(0): 7}) is None  # not text
