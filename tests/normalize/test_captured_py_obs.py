"""Real spans of observability SDKs over LLM clients, counted against the fake servers' ground truth
(tests/normalize/gen/py_obs/generate.py made the data files; versions in its requirements.txt and in
py_obs-truth.json):

* ``mlflow-anthropic``: ``mlflow.anthropic.autolog()`` (mlflow-tracing 3.17.2) over anthropic 2.15.0, exported
  over OTLP. Its ``mlflow.chat.tokenUsage`` input already includes Anthropic's cache reads and writes
  (mlflow/anthropic/autolog.py _parse_usage: ``usage_dict[INPUT_TOKENS] += cache_total``, mlflow/mlflow#22516),
  so it must not be added again (the guide's "MLflow on Anthropic: input without the cache" is older releases').
* ``logfire-anthropic``: ``logfire.instrument_anthropic(client)`` (logfire 5.4.0) over anthropic 2.15.0.
* ``logfire-anthropic-6.0``: the same run with logfire 6.0.0b8, the newest release (a pre-release of the next
  major). Its llm_providers/usage.py get_usage_attributes writes input (anthropic.py: ``usage.input_tokens +
  cache_read_tokens + cache_write_tokens``), output and ``gen_ai.usage.raw`` (the Message's usage as JSON) only:
  the cache reads and writes are read from the raw usage's ``cache_read_input_tokens`` /
  ``cache_creation_input_tokens``. Its stream state sets no response id, served model or
  gen_ai.response.finish_reasons (5.4's ``get_attributes`` did, from the accumulated Message); the stop reason is
  still each output message's ``finish_reason``.
* ``langsmith-langchain-openai``: LangSmith's OTel export (langsmith 0.15.1, ``LANGSMITH_OTEL_ONLY``) of
  langchain-openai ``ChatOpenAI`` runs; provider, cache reads and reasoning only in ``langsmith.metadata.*``.

Input includes cache reads and writes (the semantic conventions' meaning), output includes reasoning.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.normalize.counting import _descendants
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.enrich.trees import trees_of
from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    failed_calls,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "py_obs-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SOURCES = ["mlflow-anthropic", "logfire-anthropic", "langsmith-langchain-openai", "logfire-anthropic-6.0"]
PROVIDER = {"mlflow-anthropic": "anthropic", "logfire-anthropic": "anthropic", "langsmith-langchain-openai": "openai",
            "logfire-anthropic-6.0": "anthropic"}
SCOPE = {"mlflow-anthropic": "mlflow.tracing.provider", "logfire-anthropic": "logfire.anthropic",
         "langsmith-langchain-openai": "langsmith", "logfire-anthropic-6.0": "logfire.anthropic"}
DEFAULT_MODEL = {"mlflow-anthropic": "claude-haiku-4-5", "logfire-anthropic": "claude-haiku-4-5",
                 "langsmith-langchain-openai": "gpt-4o-mini", "logfire-anthropic-6.0": "claude-haiku-4-5"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # mlflow 3.17.2 anthropic/__init__.py autolog patches Messages.create only, and its span's output is what
    # create returned: for stream=True an anthropic.Stream (mlflow.spanOutputs "<anthropic.Stream object ...>"),
    # no usage (anthropic/autolog.py _parse_usage reads ``output.usage``). messages.stream() never calls create
    # (anthropic 2.15 resources/messages/messages.py stream: ``partial(self._post, ...)``): no span at all.
    # So one of the two streamed calls has a span, without usage, and nothing of either call can be counted
    ("mlflow-anthropic", "streaming", "calls"): 1,
    ("mlflow-anthropic", "streaming", "unread"): 1,
    ("mlflow-anthropic", "streaming", "input"): 0,
    ("mlflow-anthropic", "streaming", "output"): 0,
    ("mlflow-anthropic", "streaming", "cache_read"): 0,
    # (logfire 5.4.0 and 6.0.0b8 _internal/integrations/llm_providers/llm_provider.py: a streamed call is the
    # request span, "Message with {request_data[model]!r}", no usage, plus, once the stream is read,
    # record_streaming's log span "streaming response from ..." with the usage: read as one call, counting.py
    # _stream_log_reports)
}
#: the served (dated) model as read per counted call: MLflow's Anthropic spans keep it only in mlflow.spanOutputs
#: (the Message JSON), LangSmith's only in gen_ai.completion (_otel_exporter.py _set_io_attributes sets
#: gen_ai.response.model from a top-level ``outputs["model"]``, which a chat model's LLMResult has not)
NO_SERVED = {"mlflow-anthropic", "langsmith-langchain-openai"}
#: no finish reason on the span: MLflow's is in mlflow.spanOutputs only (stop_reason of the Message JSON); LangSmith
#: writes gen_ai.response.finish_reasons from ``outputs["choices"]`` / ``stop_reason`` / ``finish_reason`` only
#: (_set_io_attributes), and a LangChain run's are inside ``generations[][].generation_info`` (gen_ai.completion).
#: Nor a stream flag: langsmith.metadata.stream is ChatOpenAI's ``streaming`` field, False for .stream() too
NO_FINISH = {"mlflow-anthropic", "langsmith-langchain-openai"}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert got["scopes"] == {SCOPE[source]}, got["scopes"]
    assert got["providers"] == {PROVIDER[source]}, got["providers"]
    ok = [m for m, _ in want["models"]]
    if (source, scenario) not in {(s, sc) for s, sc, _ in GAPS}:
        assert got["models"] + got["failed_models"] == ok + [DEFAULT_MODEL[source]] * want["failed"]
        served = [None if source in NO_SERVED else s for _, s in want["models"]]
        if (source, scenario) == ("logfire-anthropic-6.0", "streaming"):
            served = [m for m, _ in want["models"]]  # see test_logfire_6_streams_keep_no_response_id_or_served_model
        assert [e.call.response_model for e in counted(source, scenario)] == served  # type: ignore[union-attr]


def test_truth_keeps_cache_and_reasoning() -> None:
    """The fake servers did send what the gaps say is lost, and the Anthropic input counts the cache in."""
    for s in ("mlflow-anthropic", "logfire-anthropic", "logfire-anthropic-6.0"):
        sc = TRUTH[s]["scenarios"]
        assert (sc["cached"]["input"], sc["cached"]["cache_read"], sc["cached"]["cache_write"]) == (36920, 17920, 8960)
        assert (sc["streaming"]["input"], sc["streaming"]["cache_read"], sc["streaming"]["output"]) == (5296, 4096, 264)
    ls = TRUTH["langsmith-langchain-openai"]["scenarios"]
    assert (ls["cached"]["cache_read"], ls["tool_use"]["reasoning"]) == (17920, 192)
    for s in SOURCES:
        assert TRUTH[s]["scenarios"]["errors"]["failed"] == 2 and TRUTH[s]["scenarios"]["duplicate"]["calls"] == 2


def test_mlflow_cache_is_not_added_twice() -> None:
    """mlflow.chat.tokenUsage's input_tokens is Anthropic's input_tokens + cache read + cache write already: read as
    is, the cached scenario's first call (340 uncached, 8960 written) is 9300, not 18260."""
    calls = counted("mlflow-anthropic", "cached")
    assert [(e.call.input_tokens, e.call.cache_read_tokens, e.call.cache_write_tokens)  # type: ignore[union-attr]
            for e in calls] == [(9300, 0, 8960), (9260, 8960, 0), (18360, 8960, 0)]
    usage = [json.loads(str(e.attrs["mlflow.chat.tokenUsage"])) for e in calls]
    assert [u["input_tokens"] for u in usage] == [9300, 9260, 18360]
    assert all(u["total_tokens"] == u["input_tokens"] + u["output_tokens"] for u in usage)


def test_gaps_are_still_gaps() -> None:
    """MLflow's streamed span: the Stream object as output, no usage; LangSmith's spans: finish reasons and the
    served model only inside gen_ai.completion."""
    spans = [e for sc, t in trees("mlflow-anthropic") if sc == "streaming" for e in t.spans
             if e.call is not None and e.call.kind == "inference"]
    assert len(spans) == 1 and "mlflow.chat.tokenUsage" not in spans[0].attrs
    assert str(spans[0].attrs["mlflow.spanOutputs"]).startswith('"<anthropic.Stream object')
    for e in counted("langsmith-langchain-openai", "streaming"):
        assert "gen_ai.response.finish_reasons" not in e.attrs and "gen_ai.response.model" not in e.attrs
        assert '"finish_reason":' in str(e.attrs["gen_ai.completion"])


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS:
        got = [e.call.finish_reasons for e in counted(source, scenario)]  # type: ignore[union-attr]
        if source in NO_FINISH:
            assert all(rs == () for rs in got), scenario
            continue
        assert [r for rs in got for r in rs] == TRUTH[source]["scenarios"][scenario]["finish_reasons"], scenario
    streamed = [e.call.streaming for e in counted(source, "streaming")]  # type: ignore[union-attr]
    assert streamed == {"logfire-anthropic": [True, True], "logfire-anthropic-6.0": [True, True],
                        "mlflow-anthropic": []}.get(source, [None, None])


def test_logfire_6_streams_keep_no_response_id_or_served_model() -> None:
    """logfire 6.0.0b8's Anthropic stream state (llm_providers/anthropic.py get_attributes) writes the output
    messages and usage only: the streamed calls' log spans carry the request model as their response model (set on
    the request span before the call) and no response id, while their cache counts come from gen_ai.usage.raw."""
    calls = [e.call for e in counted("logfire-anthropic-6.0", "streaming")]
    models = TRUTH["logfire-anthropic-6.0"]["scenarios"]["streaming"]["models"]
    assert [(c.response_model, c.response_id) for c in calls] == [(m, None) for m, _ in models]  # type: ignore[union-attr]
    assert [e.call.cache_read_tokens for e in counted("logfire-anthropic-6.0", "cached")] == [  # type: ignore[union-attr]
        e.call.cache_read_tokens for e in counted("logfire-anthropic", "cached")]  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced (no SDK retries): two failed calls. LangSmith's second one ends with status OK (a run
    exported before it ended is set OK, which the SDK keeps final): its ``exception`` event makes it failed."""
    failed = failed_calls(source, "errors")
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        (PROVIDER[source], DEFAULT_MODEL[source])] * 2
    assert not any(e.call.counted or e.call.has_usage for e in failed)  # type: ignore[union-attr]
    for scenario in SCENARIOS:
        if scenario != "errors":
            assert failed_calls(source, scenario) == []


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        children = tree.children()
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        ids = [e.call.response_id for e in calls if e.call is not None and e.call.response_id]
        assert len(ids) == len(set(ids)), scenario
        for e in calls:
            assert e.call is not None and e.call.kind == "inference"
            assert not any(d.call is not None and d.call.counted for d in _descendants(e, children))
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "workflow")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)


def test_mlflow_releases_before_the_cache_fix_are_read_from_the_response_usage() -> None:
    """MLflow before mlflow/mlflow#22516 wrote Anthropic's raw ``input_tokens`` (the cache left out) as its input;
    the span's output, the Message JSON, shows which: its ``usage.input_tokens`` equal to the span's input means the
    raw count. The real capture's cached scenario with its tokenUsage written as such a release wrote it (input =
    the Message's own input_tokens) reads the same tokens as the current release's; one of its calls has more
    uncached input than cache, which the cache-exceeds-input rule alone cannot tell from an inclusive count."""
    stage = NormalizeProcessor(NormalizeConfig())
    now = {e.span_id: e.call for sc, t in trees("mlflow-anthropic") if sc == "cached" for e in t.spans
           if e.call is not None and e.call.counted}
    assert len(now) == expected("mlflow-anthropic", "cached")["calls"]

    def old_release(span: Any) -> None:
        for kv in span.attributes:
            if kv.key == "mlflow.chat.tokenUsage":
                usage = json.loads(kv.value.string_value)
                raw = next(json.loads(x.value.string_value)["usage"]["input_tokens"] for x in span.attributes
                           if x.key == "mlflow.spanOutputs")
                kv.value.string_value = json.dumps({**usage, "input_tokens": raw,
                                                    "total_tokens": raw + usage["output_tokens"]})

    raw_above_cache = 0
    for scenario, tree in trees_of(DATA / "mlflow-anthropic.jsonl"):
        if scenario != "cached":
            continue
        for e in tree.spans:
            e.rewrite(old_release)
        stage.process(tree)
        for e in tree.spans:
            if e.span_id in now:
                c, want = e.call, now[e.span_id]
                assert c is not None and c.counted
                assert (c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens) == (
                    want.input_tokens, want.cache_read_tokens, want.cache_write_tokens, want.output_tokens)
                cache = (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
                raw_above_cache += c.input_tokens - cache >= cache
    assert raw_above_cache >= 1  # the case only the response's usage decides
