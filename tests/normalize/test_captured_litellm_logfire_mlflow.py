"""Real spans of LiteLLM's OTel logger, Pydantic Logfire and MLflow tracing over OpenAI Chat Completions
(tests/normalize/data/{litellm-otel,logfire-openai,mlflow-openai,logfire-openai-6.0}.jsonl) read right, call for call.

Captured by tests/normalize/gen/litellm_logfire_mlflow/generate.py against a fake OpenAI API (versions in its
requirements.txt). The fake server's answers are the truth (litellm_logfire_mlflow-truth.json): OpenAI's
``prompt_tokens`` includes ``cached_tokens`` and ``completion_tokens`` includes ``reasoning_tokens``, as the
semantic conventions' input and output do. The shapes differ: LiteLLM writes a ``litellm_request`` span per call
with a ``raw_gen_ai_request`` child holding the provider's raw payload; Logfire writes a streamed call as a
request span without usage plus a log span with it; MLflow exports its own ``mlflow.*`` attributes over OTLP.

``logfire-openai-6.0`` is ``logfire-openai``'s run with logfire 6.0.0b8, the newest release (a pre-release of the
next major). Its llm_providers/usage.py get_usage_attributes writes ``gen_ai.usage.input_tokens``,
``output_tokens`` and ``gen_ai.usage.raw`` (the ChatCompletion's / Response's ``usage``, ``model_dump``-ed) only:
5.4's ``gen_ai.usage.cache_read.input_tokens`` is gone, so the cache read is read from the raw usage's
``prompt_tokens_details.cached_tokens`` (Chat Completions) / ``input_tokens_details.cached_tokens`` (Responses),
and the reasoning from its ``completion_tokens_details`` / ``output_tokens_details`` as with 5.4. What 6.0.0b8 no
longer writes at all is pinned below: a Chat Completions stream's response id, served model and
gen_ai.response.finish_reasons (llm_providers/openai.py OpenaiChatCompletionStreamState.get_attributes writes the
output messages, each with its ``finish_reason``, and the usage only; 5.4's set RESPONSE_ID, RESPONSE_MODEL and
RESPONSE_FINISH_REASONS from the final snapshot), any finish reason of a Response, the usage of a Responses
stream that ends ``response.incomplete``, and ``max_completion_tokens`` as gen_ai.request.max_tokens
(_extract_request_parameters reads ``max_tokens`` and ``max_output_tokens`` only).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from otel_tokenwatch import semconv
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "litellm_logfire_mlflow-truth.json").read_text())["scenarios"]
SOURCES = ["litellm-otel", "logfire-openai", "mlflow-openai", "logfire-openai-6.0"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate", "responses"]

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # mlflow 3.17 openai/utils/chat_schema.py _parse_chat_completion_usage keeps prompt, completion and total
    # tokens and cached_tokens for mlflow.chat.tokenUsage, and drops completion_tokens_details: no reasoning
    # count anywhere on the span but inside mlflow.spanOutputs (the response JSON). The output (completion_tokens)
    # still includes the reasoning, so only the split is unknown.
    ("mlflow-openai", "tool_use", "reasoning"): 0,
    ("mlflow-openai", "responses", "reasoning"): 0,
    # mlflow 3.17 openai/autolog.py _is_responses_final_event: only a ResponseCompletedEvent closes a Responses
    # stream with its usage and output; a stream cut by max_output_tokens ends with response.incomplete (the
    # API's event for status incomplete), so that span has no usage and no output at all: the call is not
    # countable, only the non-streamed one is
    ("mlflow-openai", "responses", "calls"): 1,
    ("mlflow-openai", "responses", "input"): 2300,
    ("mlflow-openai", "responses", "cache_read"): 1920,
    ("mlflow-openai", "responses", "output"): 180,
    # logfire 6.0.0b8 llm_providers/openai.py OpenaiResponsesStreamState.get_response_data returns
    # ``ResponseStreamState._completed_response`` alone (5.4 also kept a ``response.incomplete`` event's response):
    # the Responses stream cut by max_output_tokens (640 in, 32 out) leaves its log span without usage, output,
    # response id or served model: only the non-streamed call is countable
    ("logfire-openai-6.0", "responses", "calls"): 1,
    ("logfire-openai-6.0", "responses", "input"): 2300,
    ("logfire-openai-6.0", "responses", "cache_read"): 1920,
    ("logfire-openai-6.0", "responses", "output"): 180,
}
#: MLflow's OpenAI autolog records no provider (openai/autolog.py _start_span: the request's keyword arguments
#: and mlflow.message.format="openai", the message schema, which every OpenAI-compatible server shares), no
#: finish reason outside mlflow.spanOutputs, and there a streamed call's is "stop" whatever the stream said:
#: _reconstruct_completion_from_stream takes it from the last chunk, the usage chunk with no choices
#: (``finish_reason = "stop"`` default), so the max-tokens cut cannot be seen
NO_PROVIDER = {"mlflow-openai"}
NO_FINISH = {"mlflow-openai"}
#: LiteLLM's Responses API path: ``gen_ai.system`` is written empty and the raw span's keys are
#: ``llm.None.*`` (litellm 1.110 integrations/opentelemetry.py set_attributes / set_raw_request_attributes take
#: ``litellm_params["custom_llm_provider"]``, which litellm.responses() leaves unset), and the finish reason is
#: the Response's ``status`` (completed / incomplete), not why it stopped: the max_output_tokens cut reads
#: ``incomplete``, which is no truncation by itself (a content filter ends a response incomplete too)
LITELLM_RESPONSES_FINISH = [["completed"], ["incomplete"]]
#: LiteLLM's streamed response names the request model, not the dated one the chunks carried: its stream
#: wrapper stamps every chunk with the caller's model (litellm 1.110 litellm_core_utils/streaming_handler.py
#: CustomStreamWrapper: ``model_response.model = self._served_openrouter_model() or self.model``), and the
#: logged response is rebuilt from those chunks
#: logfire 6.0.0b8's Chat Completions stream state writes no gen_ai.response.model (see the docstring), and its
#: exporter wrapper then gives every span with a request model and none answered that one
#: (_internal/exporters/processor_wrapper.py _default_gen_ai_response_model): the log span says the request model
STREAM_REQUEST_MODEL = {("litellm-otel", "streaming"), ("logfire-openai-6.0", "streaming")}
#: logfire 6.0.0b8 sets no response id on a streamed call's log span (OpenaiChatCompletionStreamState.get_attributes)
NO_STREAM_ID = {"logfire-openai-6.0"}
#: nor any finish reason on a Response (on_response writes gen_ai.response.finish_reasons for ChatCompletion and
#: Completion only; a Response's output messages carry none: convert_responses_outputs_to_semconv)
NO_RESPONSES_FINISH = {"logfire-openai-6.0"}


def provider_of(source: str, scenario: str) -> str | None:
    return None if source in NO_PROVIDER or (source, scenario) == ("litellm-otel", "responses") else "openai"


def truth_calls(source: str, scenario: str) -> list[int]:
    """Indexes of the truth's successful calls a source has a countable span for."""
    n = GAPS.get((source, scenario, "calls"), TRUTH[scenario]["calls"] - TRUTH[scenario]["failed"])
    return list(range(n))


def test_data_files_are_there() -> None:
    assert sorted(SCENARIOS) == sorted(TRUTH)
    assert json.loads((DATA / "litellm_logfire_mlflow-truth.json").read_text())["sources"] == sorted(SOURCES)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    truth = TRUTH[scenario]
    calls = counted(source, scenario)
    idx = truth_calls(source, scenario)
    assert len(calls) == len(idx)
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output", "reasoning"))
    want = {"input": truth["input"], "cache_read": truth["cache_read"], "cache_write": 0, "output": truth["output"],
            "reasoning": truth["reasoning"]}
    for field, value in list(want.items()):
        want[field] = GAPS.get((source, scenario, field), value)
    assert got == want
    for e in calls:
        c = e.call
        assert c is not None and c.kind == "inference"
        assert c.provider == provider_of(source, scenario)
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
    models = [truth["models"][i] for i in idx]
    assert [e.call.request_model for e in calls] == [m for m, _ in models]  # type: ignore[union-attr]
    served = [m if (source, scenario) in STREAM_REQUEST_MODEL and truth["streamed"][i] else s
              for i, (m, s) in zip(idx, models)]
    assert [e.call.response_model for e in calls] == served  # type: ignore[union-attr]


def test_gaps_are_still_gaps() -> None:
    """The pinned gaps are real: the reasoning MLflow lost is in its own output JSON, not in an attribute."""
    calls = counted("mlflow-openai", "tool_use")
    assert [e.call.reasoning_tokens for e in calls] == [None, None]  # type: ignore[union-attr]
    outputs = [json.loads(str(e.attrs["mlflow.spanOutputs"])) for e in calls]
    assert sum(o["usage"]["completion_tokens_details"]["reasoning_tokens"] for o in outputs) \
        == TRUTH["tool_use"]["reasoning"]
    assert not any(k.startswith("gen_ai.") or k in ("mlflow.llm.provider",) for e in calls for k in e.attrs)
    # the cut Responses stream: an inference span with the stream flag and no usage key at all
    cut = [e for sc, t in trees("mlflow-openai") if sc == "responses" for e in t.spans
           if e.call is not None and e.call.kind == "inference" and not e.call.counted]
    assert [(e.call.streaming, e.call.has_usage, e.call.error) for e in cut] == [(True, False, False)]  # type: ignore[union-attr]
    assert "mlflow.chat.tokenUsage" not in cut[0].attrs


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced (no SDK retries): two failed calls, naming the model that was asked for."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == TRUTH["errors"]["failed"] == 2
    provider = provider_of(source, "errors")
    assert [(e.call.provider, e.call.request_model) for e in failed] == [(provider, "gpt-4o-mini")] * 2  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        # MLflow keeps the completion id only inside mlflow.spanOutputs
        streamed = sum(e.call.streaming is True for e in calls)  # type: ignore[union-attr]
        assert len(ids) == (0 if source == "mlflow-openai" else len(calls) - streamed if source in NO_STREAM_ID
                            else len(calls)), scenario
    assert len(trees(source)) == len(SCENARIOS)  # one trace per scenario: every span joined the app's root


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streaming(source: str) -> None:
    """The max-tokens cut reads as ``length`` and the streamed calls as streamed, in every source that says so."""
    for scenario in SCENARIOS:
        truth = TRUTH[scenario]
        idx = truth_calls(source, scenario)
        calls = [e.call for e in counted(source, scenario)]
        got = [list(c.finish_reasons) for c in calls]  # type: ignore[union-attr]
        if source in NO_FINISH:
            assert got == [[]] * len(calls)
        elif (source, scenario) == ("litellm-otel", "responses"):
            assert got == LITELLM_RESPONSES_FINISH
        elif source in NO_RESPONSES_FINISH and scenario == "responses":
            assert got == [[]] * len(calls)
        else:
            assert got == [[truth["finish_reasons"][i]] for i in idx]
        assert [c.streaming is True for c in calls] == [truth["streamed"][i] for i in idx], scenario  # type: ignore[union-attr]


@pytest.mark.parametrize("source", ["logfire-openai", "logfire-openai-6.0"])
def test_logfire_stream_request_span_is_not_a_second_call(source: str) -> None:
    """Logfire's streamed call is two spans (the request, ended when the stream is returned, and the log span
    with usage): one call is counted, the request span carries no usage to count."""
    spans = [e for sc, t in trees(source) if sc == "streaming" for e in t.spans
             if e.call is not None and e.call.kind == "inference"]
    assert len(spans) == 4
    assert sorted((e.view.name.startswith("streaming response"), e.call.counted) for e in spans) == [  # type: ignore[union-attr]
        (False, False), (False, False), (True, True), (True, True)]


def test_costs_agree_across_libraries() -> None:
    """LiteLLM prices the calls itself (its bundled cost map). Logfire prices only with the optional
    ``genai-prices`` package (logfire 5.4 llm_providers/usage.py: the ImportError is swallowed) and MLflow only
    with litellm installed (mlflow 3.17 tracing/utils/__init__.py calculate_cost_by_model_and_token_usage:
    ``import litellm``), neither present in their captures, so ours computes those: per call, the same cost."""
    for scenario in SCENARIOS:
        per = [[e.call.cost_usd for e in counted(s, scenario)] for s in SOURCES]  # type: ignore[union-attr]
        for s in SOURCES:
            for e in counted(s, scenario):
                assert e.call is not None and e.call.cost_usd
                assert e.call.cost_source == ("reported" if s == "litellm-otel" else "computed")
        for other in per[1:]:  # MLflow's and Logfire 6.0's uncountable call is the last one: zip leaves it out
            for a, b in zip(per[0], other):
                assert abs(Decimal(a) - Decimal(b)) < Decimal("1e-9"), scenario  # type: ignore[arg-type]


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH.items()}
    assert by == {"healthy": (2, 0, 905, 0, 70, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 5296, 4096, 264, 0), "tool_use": (2, 0, 1290, 0, 215, 160),
                  "errors": (3, 2, 400, 0, 60, 0), "duplicate": (2, 0, 1800, 0, 160, 0),
                  "responses": (2, 0, 2940, 1920, 212, 96)}
    assert TRUTH["streaming"]["finish_reasons"] == ["stop", "length"]
    assert TRUTH["responses"]["finish_reasons"] == ["stop", "length"]
    assert {s: sum(len(counted(s, sc)) for sc in SCENARIOS) for s in SOURCES} == {
        "litellm-otel": 14, "logfire-openai": 14, "mlflow-openai": 13, "logfire-openai-6.0": 13}


def test_litellm_raw_payload_keys_are_content_and_counts_are_not() -> None:
    """LiteLLM's raw request span names its keys after the provider (``llm.openai.messages``, ``llm.None.input``
    on the Responses path); OpenInference's ``llm.token_count.prompt`` is a count, kept when content goes."""
    from otel_tokenwatch.pipeline.enrich.privacy import is_content_key

    raw = {k for sc, t in trees("litellm-otel") for e in t.spans if e.view.name == "raw_gen_ai_request"
           for k in e.attrs}
    assert {"llm.openai.messages", "llm.openai.choices", "llm.None.input", "llm.None.instructions",
            "llm.None.output"} <= raw
    assert all(is_content_key(k) for k in ("llm.openai.messages", "llm.openai.choices", "llm.None.input",
                                            "llm.None.instructions", "llm.None.output"))
    assert not any(is_content_key(k) for k in ("llm.openai.usage", "llm.openai.model", "llm.token_count.prompt",
                                               "llm.request.type", "llm.is_streaming"))


def test_logfire_6_keeps_cache_counts_only_in_the_raw_usage() -> None:
    """No span of logfire 6.0.0b8 has a cache key: every call's cache read comes from gen_ai.usage.raw, and equals
    5.4's gen_ai.usage.cache_read.input_tokens call for call (Chat Completions' prompt_tokens_details, the Responses
    API's input_tokens_details); the reasoning too."""
    for scenario in SCENARIOS:
        new, old = counted("logfire-openai-6.0", scenario), counted("logfire-openai", scenario)
        assert not any(k.startswith("gen_ai.usage.") and k not in ("gen_ai.usage.input_tokens",
                                                                    "gen_ai.usage.output_tokens", "gen_ai.usage.raw")
                       for e in new for k in e.attrs), scenario
        assert all("gen_ai.usage.raw" in e.attrs for e in new), scenario
        got = [(e.call.cache_read_tokens, e.call.reasoning_tokens) for e in new]  # type: ignore[union-attr]
        assert got == [(e.call.cache_read_tokens, e.call.reasoning_tokens) for e in old][:len(new)], scenario  # type: ignore[union-attr]
    assert not [e.view.name for _, t in trees("logfire-openai-6.0") for e in t.spans
                if e.get(semconv.NOT_NORMALIZABLE) is not None], "nothing unreadable"
    raw = [json.loads(str(e.attrs["gen_ai.usage.raw"])) for e in counted("logfire-openai-6.0", "cached")]
    assert [u["prompt_tokens_details"]["cached_tokens"] for u in raw] == [0, 8960, 8960]
    assert "gen_ai.usage.cache_read.input_tokens" in counted("logfire-openai", "cached")[1].attrs


def test_logfire_6_gaps_are_still_gaps() -> None:
    """The streamed Chat Completions keep their stop reasons in the output messages only, no response id and the
    request model as response model; the cut Responses stream is an inference span with the stream flag and no
    usage at all; o3-mini's max_completion_tokens is no gen_ai.request.max_tokens any more."""
    for e in counted("logfire-openai-6.0", "streaming"):
        assert "gen_ai.response.id" not in e.attrs and "gen_ai.response.finish_reasons" not in e.attrs
        assert e.attrs["gen_ai.response.model"] == e.attrs["gen_ai.request.model"]
        assert [m["finish_reason"] for m in json.loads(str(e.attrs["gen_ai.output.messages"]))] == list(
            e.call.finish_reasons)  # type: ignore[union-attr]
    cut = [e for sc, t in trees("logfire-openai-6.0") if sc == "responses" for e in t.spans
           if e.call is not None and e.call.kind == "inference" and e.view.name.startswith("streaming response")]
    assert [(e.call.streaming, e.call.has_usage, e.call.counted) for e in cut] == [(True, False, False)]  # type: ignore[union-attr]
    assert not any(k.startswith("gen_ai.usage.") for k in cut[0].attrs)
    assert [e.call.max_tokens for e in counted("logfire-openai", "tool_use")] == [1024, 1024]  # type: ignore[union-attr]
    assert [e.call.max_tokens for e in counted("logfire-openai-6.0", "tool_use")] == [None, None]  # type: ignore[union-attr]
