"""Real spans of Elastic's EDOT OpenAI instrumentation and of AsyncOpenAI's async paths (tests/normalize/data/
edot-openai*.jsonl, async-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/edot/generate.py (versions in its requirements.txt and in edot-truth.json):
``edot-openai`` runs the embed generator's scenarios (chat and embeddings calls) over the sync client;
``edot-openai-async``, ``async-openai-v2`` and ``async-openllmetry`` run the async scenarios over ``AsyncOpenAI``
(chat_script's answers; a stream without ``include_usage``; ``stream_edges``: a stream the app stops reading
early, then one the server breaks off mid-way). The fake server's answers are the truth.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_calls,
    scenario_totals,
    token_sums,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "edot-truth.json").read_text())
SYNC = "edot-openai"
ASYNC = ["edot-openai-async", "async-openai-v2", "async-openllmetry"]
SYNC_SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
ASYNC_SCENARIOS = SYNC_SCENARIOS + ["stream_edges"]
CHAT, EMBED = "gpt-4o-mini", "text-embedding-3-small"
EDOT = ("edot-openai", "edot-openai-async")

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # elastic-opentelemetry-instrumentation-openai 1.2.0 helpers.py _get_attributes_from_response writes
    # gen_ai.usage.input_tokens / output_tokens from usage.prompt_tokens / completion_tokens only: no
    # prompt_tokens_details.cached_tokens, no completion_tokens_details.reasoning_tokens on its spans
    **{(s, "cached", "cache_read"): 0 for s in EDOT},
    ("edot-openai-async", "tool_use", "reasoning"): 0,
    # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties: input_tokens /
    # output_tokens only for chat (cached tokens are read for the Responses API only, response_extractors.py)
    ("async-openai-v2", "cached", "cache_read"): 0,
    ("async-openai-v2", "tool_use", "reasoning"): 0,
}
for _s in ASYNC:
    # the API sends no usage for a stream without stream_options.include_usage: the cut stream (700 in, 64 out)
    # is a call with no usage on its span, in every library
    GAPS.update({(_s, "streaming", "input"): 640, (_s, "streaming", "output"): 48, (_s, "streaming", "unread"): 1,
                 # stream_edges: the app's early stop leaves the usage chunk unread, so no library has it
                 (_s, "stream_edges", "input"): 0, (_s, "stream_edges", "output"): 0,
                 (_s, "stream_edges", "finish_reasons"): []})
GAPS.update({
    # openai-v2 2.4b0 patch.py BaseStreamWrapper.close() runs cleanup(): the stopped stream's span ends, no usage
    ("async-openai-v2", "stream_edges", "unread"): 1,
    # EDOT 1.2.0 wrappers.py StreamWrapper.__aiter__ is an async generator that ends the span only when the stream
    # is exhausted or raises; ``close()`` goes through the ObjectProxy to AsyncStream.close: the stopped stream's
    # span never ends, never exported
    ("edot-openai-async", "stream_edges", "calls"): 1,
    # opentelemetry-instrumentation-openai 0.62.4 shared/chat_wrappers.py ChatStream: the stopped stream's span is
    # not ended by close() either; __anext__ on the mid-way error runs _ensure_cleanup() (status OK, span ended)
    # before setting ERROR ``if self._span.is_recording()``: the broken stream reads as a success without usage
    ("async-openllmetry", "stream_edges", "calls"): 1,
    ("async-openllmetry", "stream_edges", "failed"): 0,
    ("async-openllmetry", "stream_edges", "unread"): 1,
})
#: opentelemetry-instrumentation-openai 0.62.4 shared/__init__.py OPENAI_FINISH_REASON_MAP: ``tool_calls`` -> ``tool_call``
FINISH = {"async-openllmetry": {"tool_calls": "tool_call"}}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0)


def test_data_files_are_there() -> None:
    assert sorted(TRUTH) == sorted([SYNC, *ASYNC])
    capture_lines_are(SYNC, SYNC_SCENARIOS)
    assert sorted(TRUTH[SYNC]["scenarios"]) == sorted(SYNC_SCENARIOS)
    for source in ASYNC:
        capture_lines_are(source, ASYNC_SCENARIOS)
        assert TRUTH[source]["scenarios"] == TRUTH[ASYNC[0]]["scenarios"]  # every source saw the same answers


@pytest.mark.parametrize("scenario", SYNC_SCENARIOS)
def test_edot_sync_calls_and_tokens(scenario: str) -> None:
    """Chat and embeddings calls over the sync client: every answered call counted once, its tokens the API's."""
    t = truth(SYNC, scenario)
    calls = counted(SYNC, scenario)
    assert len(calls) == t["calls"] - t["failed"]
    assert token_sums(calls) == {k: t[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning")}
    assert [(e.call.request_model, e.call.kind) for e in calls] == [  # type: ignore[union-attr]
        (m, "embeddings" if m == EMBED else "inference") for m, _ in t["models"]]
    assert all(e.call.provider == "openai" for e in calls)  # type: ignore[union-attr]
    assert [r for e in calls for r in e.call.finish_reasons] == t["finish_reasons"]  # type: ignore[union-attr]


@pytest.mark.parametrize("scenario", ASYNC_SCENARIOS)
@pytest.mark.parametrize("source", ASYNC)
def test_async_calls_and_tokens(source: str, scenario: str) -> None:
    want = truth(source, scenario)
    got = scenario_totals(source)[scenario]
    assert_totals(got, want)
    assert got["providers"] <= {"openai"} and got["models"] == [CHAT] * len(got["models"])
    assert got["finish_reasons"] == [FINISH.get(source, {}).get(r, r) for r in want["finish_reasons"]]


@pytest.mark.parametrize("source", [SYNC, *ASYNC])
def test_errors_are_the_429_and_the_500(source: str) -> None:
    """max_retries=0: the 429 and the 500 are two failed calls, none counted, none with usage (the sync run's 429
    is on its embeddings call, as the embed generator makes it)."""
    failed = [e for sc, t in trees(source)
              if sc == "errors" for e in t.spans if e.call is not None and e.call.error and e.call.report_of is None]
    assert len(failed) == 2
    assert not any(e.call.counted or e.call.has_usage for e in failed)  # type: ignore[union-attr]
    assert {e.call.provider for e in failed} == {"openai"}  # type: ignore[union-attr]
    for scenario in SYNC_SCENARIOS:
        if scenario != "errors":
            assert failed_calls(source, scenario) == [], scenario


@pytest.mark.parametrize("source", [SYNC, *ASYNC])
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for _, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids))


@pytest.mark.parametrize("source", [SYNC, *ASYNC])
def test_stream_flags(source: str) -> None:
    """OpenLLMetry flags a streamed call (gen_ai.is_streaming); EDOT 1.2.0 (helpers.py _get_attributes_from_wrapper)
    and openai-v2 2.4b0 (patch.py traced_method) write no stream attribute, but openai-v2's stream is told by its
    finish reasons, in the output messages only (dialects._Plan.output_finish / util_stream)."""
    streamed = scenario_totals(source)["streaming"]["streamed"]  # the calls without usage included
    assert streamed == ([None, None] if source.startswith("edot-") else [True, True])


def test_the_stream_broken_mid_way_is_a_failed_call_where_the_span_says_so() -> None:
    """EDOT (wrappers.py StreamWrapper.__aiter__: ``self.end(exc)``) and openai-v2 mark the broken stream's span
    an error: a failed call with no usage; OpenLLMetry's reads as a success without usage (GAPS)."""
    for source in ("edot-openai-async", "async-openai-v2"):
        failed = failed_calls(source, "stream_edges")
        assert len(failed) == 1 and not failed[0].call.has_usage, source  # type: ignore[union-attr]
    assert failed_calls("async-openllmetry", "stream_edges") == []
