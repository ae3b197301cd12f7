"""Real spans of OpenLLMetry's instrumentations of two more vendors' SDKs, counted against the fake servers' ground
truth (tests/normalize/gen/ollvendors/generate.py made the data files; versions in its requirements.txt and in
ollvendors-truth.json):

* ``writer-openllmetry``: opentelemetry-instrumentation-writer 0.62.4 over writer-sdk 2.4.0 (``chat.chat``), span
  ``writerai.chat``, ``gen_ai.system`` "writer": no semantic-convention name exists for Writer, so the provider stays
  ``writer`` (providers.normalize_provider keeps an unknown name). Usage is the API's (span_utils.py
  set_model_response_attributes: ``usage.prompt_tokens`` / ``completion_tokens`` and Writer's
  ``prompt_token_details.cached_tokens`` as gen_ai.usage.cache_read.input_tokens), streams' too (the usage chunk,
  asked for with ``stream_options.include_usage``): nothing is estimated.
* ``watsonx-openllmetry``: opentelemetry-instrumentation-watsonx 0.62.4 over ibm-watsonx-ai 1.8.1 ``ModelInference``
  (``generate``, ``generate_text_stream``), ``gen_ai.system`` "Watsonx", read as the semantic conventions'
  ``ibm.watsonx.ai``. Usage is the API's ``results[0].input_token_count`` / ``generated_token_count`` (__init__.py
  _token_usage_count; a stream sums input_token_count over the events and keeps the last generated_token_count):
  nothing is estimated. Its ``watsonx.model_init`` span (ModelInference.__init__, wrapped like generate, the same
  attributes) is no model call (dialects.NOT_CALL_SPANS).

Neither model is priced: genai-prices has no Writer and no IBM provider (palmyra-x5, ibm/granite-3-8b-instruct are
in none of its providers), so every call is ``unpriced``. Input includes cache reads (the semantic conventions'
meaning), output includes reasoning.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_calls,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "ollvendors-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
WRITER, WATSONX = "writer-openllmetry", "watsonx-openllmetry"
SOURCES = [WRITER, WATSONX]
#: source -> (scope of its model-call spans, provider read, model)
SEEN = {WRITER: ("opentelemetry.instrumentation.writer", "writer", "palmyra-x5"),
        WATSONX: ("opentelemetry.instrumentation.watsonx", "ibm.watsonx.ai", "ibm/granite-3-8b-instruct")}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # Writer sent completion_tokens_details.reasoning_tokens; opentelemetry-instrumentation-writer 0.62.4
    # span_utils.py set_model_response_attributes reads prompt/completion/total tokens and
    # prompt_token_details.cached_tokens only: the reasoning stays inside output, unnamed
    (WRITER, "tool_use", "reasoning"): 0,
    # opentelemetry-instrumentation-watsonx 0.62.4 __init__.py _wrap: when ModelInference.generate raises (the 429,
    # the 500) the span is neither given an error nor ended (``raise e`` after the metrics): never exported, so the
    # failed calls are not there to count
    (WATSONX, "errors", "calls"): 0,
    (WATSONX, "errors", "failed"): 0,
}
#: finish reasons as read: watsonx's stop_reason goes to its ``llm.watsonx.completions.responses`` counter only
#: (__init__.py _set_completion_content_attributes, _build_and_set_stream_response), never onto the span
FINISH_GAPS = {WATSONX: set(SCENARIOS)}
#: the stream flag of the two streamed calls as read: Writer's ``llm.is_streaming`` (span_utils.py
#: set_model_input_attributes); watsonx writes none (its stream span differs by name only,
#: ``watsonx.generate_text_stream``)
STREAMED = {WRITER: [True, True], WATSONX: [None, None]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_captures_and_their_truth(results: dict[str, Any]) -> None:
    """Every source was captured for every scenario, and the fake servers did send what the gaps say is lost:
    Writer's reasoning, watsonx's two failures and stop reasons."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        sc = TRUTH[s]["scenarios"]
        assert sorted(sc) == sorted(results[s]) == sorted(SCENARIOS), s
        assert sc["errors"]["failed"] == 2 and sc["duplicate"]["calls"] == 2 and sc["streaming"]["input"] == 1340, s
    w, x = TRUTH[WRITER]["scenarios"], TRUTH[WATSONX]["scenarios"]
    assert (w["cached"]["cache_read"], w["tool_use"]["reasoning"]) == (17920, 128)
    assert w["streaming"]["finish_reasons"] == ["stop", "length"]
    # the watsonx.ai text generation API reports no cache and no reasoning: 0 is its truth, not a gap
    assert (x["cached"]["cache_read"], x["tool_use"]["reasoning"]) == (0, 0)
    assert x["streaming"]["finish_reasons"] == ["eos_token", "max_tokens"]


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    scope, provider, model = SEEN[source]
    if got["calls"]:
        assert got["scopes"] == {scope}, got["scopes"]
        assert got["providers"] == {provider}, got["providers"]
    # the model as served (gen_ai.response.model); Writer's request model too, watsonx's never (see below)
    assert [c.model for c in (e.call for e in counted(source, scenario)) if c] == [m[1] for m in want["models"]]
    assert {m for m in got["models"]} <= ({model} if source == WRITER else {None})
    assert set(got["served"]) <= {model}


def test_failed_calls() -> None:
    """Writer's two failures are ERROR spans without usage (its _wrap: ``set_status(ERROR)``, ``span.end()``); watsonx's
    are not there at all (GAPS)."""
    for source in SOURCES:
        for scenario in SCENARIOS:
            if scenario != "errors":
                assert failed_calls(source, scenario) == [], (source, scenario)
    failed = failed_calls(WRITER, "errors")
    assert len(failed) == 2 and not any(e.call.counted or e.call.has_usage for e in failed)  # type: ignore[union-attr]
    assert {e.call.request_model for e in failed} == {"palmyra-x5"}  # type: ignore[union-attr]
    assert failed_calls(WATSONX, "errors") == []
    assert [e.view.name for sc, t in trees(WATSONX) if sc == "errors" for e in t.spans] == [
        "watsonx.model_init", "workflow"]


def test_not_estimated() -> None:
    """Both read the provider's own counts, streams included: each call's numbers are the fake's, to the token (no
    tokenizer estimate such as OpenLLMetry's OpenAI ``enrich_token_usage``)."""
    for source in SOURCES:
        got = [(e.call.input_tokens, e.call.output_tokens) for e in counted(source, "streaming")]  # type: ignore[union-attr]
        assert got == [(640, 48), (700, 64)], source


def test_unpriced() -> None:
    """genai-prices knows neither Writer's nor IBM's models: no cost, and none made up from another provider's."""
    for source in SOURCES:
        for scenario in SCENARIOS:
            for e in counted(source, scenario):
                c = e.call
                assert c is not None and c.cost_usd is None and c.cost_source == "unpriced", (source, scenario)


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS:
        want = [] if scenario in FINISH_GAPS.get(source, ()) else TRUTH[source]["scenarios"][scenario]["finish_reasons"]
        got = results[source][scenario]["finish"]
        assert [r for rs in got for r in rs] == want, scenario
        if want:
            assert [cut_by_finish_reason(rs) for rs in got] == [r == "length" for r in want], scenario
    assert results[source]["streaming"]["streamed"] == STREAMED[source]
    assert all(s is not True for sc in SCENARIOS if sc != "streaming" for s in results[source][sc]["streamed"])


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call (neither instrumentation writes a response id: Writer's span_utils.py
    and watsonx's __init__.py set no gen_ai.response.id); the app's tool spans and watsonx's model_init spans are no
    model calls."""
    for scenario, tree in trees(source):
        if (source, scenario) == (WATSONX, "errors"):  # no model call in the trace (GAPS): nothing to total
            assert not any(e.call is not None and e.call.kind == "inference" for e in tree.spans)
            continue
        calls = counted_once(tree, ("input", "output"))
        assert all(e.call.response_id is None for e in calls if e.call is not None), scenario
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "workflow", "watsonx.model_init")):
                assert e.call is None or e.call.kind != "inference", (scenario, e.view.name)


def test_writer_prompts_and_tools() -> None:
    """Writer's prompts (``gen_ai.prompt.{i}.role`` / ``.content``): the system prompt apart, the user's question in
    the input; the tool the model asked for, from ``gen_ai.completion.0.tool_calls.0.name``."""
    for scenario in SCENARIOS:
        for e in counted(WRITER, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, scenario
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(WRITER, "tool_use")]  # type: ignore[union-attr]
    assert asked == [("get_order_status",), ()]
    for scenario in SCENARIOS:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(WRITER, scenario))  # type: ignore[union-attr]


def test_watsonx_spans_carry_no_request() -> None:
    """A gap of opentelemetry-instrumentation-watsonx 0.62.4: _wrap calls ``_handle_input(span, event_logger, name,
    instance, args, kwargs)``, one argument short of its signature (``..., instance, response_counter, args,
    kwargs``); the TypeError is swallowed by @dont_throw, so no span gets the request model, the parameters
    (max_new_tokens: no limit to read a cut by) or the prompt. The answer's text (gen_ai.completion.0.content) is
    there; the model is the served one; a text API's tool call is text, no requested tool."""
    for scenario in SCENARIOS:
        for e in counted(WATSONX, scenario):
            c = e.call
            assert c is not None and c.request_model is None and c.response_model == "ibm/granite-3-8b-instruct"
            assert not c.system_content and not c.input_content and not c.requested_tools, scenario
            assert "gen_ai.request.max_tokens" not in e.attrs and "gen_ai.completion.0.content" in e.attrs


def test_watsonx_init_and_details_spans_are_no_calls() -> None:
    """By span name only where the operation says inference: the same keys under ``watsonx.generate`` are a call."""
    from otel_tokenwatch.pipeline.normalize.dialects import kind_of

    a = {"gen_ai.system": "Watsonx", "llm.request.type": "completion"}
    assert kind_of(a, "watsonx.model_init", "completion") == "other"
    assert kind_of(a, "watsonx.get_details", "completion") == "other"
    assert kind_of(a, "watsonx.generate", "completion") == "inference"
    assert kind_of(a, "watsonx.generate_text_stream", "completion") == "inference"
