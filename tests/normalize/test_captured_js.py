"""Real spans from JavaScript instrumentations, counted against the fake server's ground truth.

Captured by tests/normalize/gen/js/ (Node.js; versions pinned in its package.json / package-lock.json) against
the fake OpenAI / Anthropic server of tests/normalize/gen/vercel_ai/fake_server.py; the served requests are the
truth (js-truth.json, one convention: input includes the cache, output the reasoning):

* ``openllmetry-js-openai``: @traceloop/instrumentation-openai 0.27.0 over openai 6.32.0 (``chat {model}``
  spans with gen_ai.* keys; one Responses API call in healthy);
* ``openllmetry-js-anthropic``: @traceloop/instrumentation-anthropic 0.27.0 over @anthropic-ai/sdk 0.80.0,
  whose gen_ai.usage.input_tokens is Anthropic's own (cache excluded) beside the cache counts;
* ``openinference-js-openai``: @arizeai/openinference-instrumentation-openai 4.2.7 over openai 6.32.0
  (``OpenAI Chat Completions`` / ``OpenAI Responses`` LLM spans with llm.token_count.*);
* ``openinference-js-anthropic``: @arizeai/openinference-instrumentation-anthropic 0.2.8 over
  @anthropic-ai/sdk 0.80.0 (``Anthropic Messages`` LLM spans; llm.token_count.prompt includes the cache);
* ``openinference-langchain-js``: @arizeai/openinference-instrumentation-langchain 4.1.1 over @langchain/core
  1.4.0 with ChatOpenAI (@langchain/openai 1.6.0) and ChatAnthropic (@langchain/anthropic 1.5.11): LLM spans
  from LangChain's usage_metadata (input includes the cache), the provider only in ``metadata``'s ls_provider.

The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import assert_totals, counted, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "js-truth.json").read_text())
SOURCES = ["openllmetry-js-openai", "openllmetry-js-anthropic", "openinference-js-openai", "openinference-js-anthropic",
           "openinference-langchain-js"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
PROVIDER = {"openllmetry-js-openai": {"openai"}, "openllmetry-js-anthropic": {"anthropic"},
            "openinference-js-openai": {"openai"}, "openinference-js-anthropic": {"anthropic"},
            "openinference-langchain-js": {"openai", "anthropic"}}
SCOPE = {"openllmetry-js-openai": "@traceloop/instrumentation-openai",
         "openllmetry-js-anthropic": "@traceloop/instrumentation-anthropic",
         "openinference-js-openai": "@arizeai/openinference-instrumentation-openai",
         "openinference-js-anthropic": "@arizeai/openinference-instrumentation-anthropic",
         "openinference-langchain-js": "@arizeai/openinference-instrumentation-langchain"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
#: instead of the truth's. ``unread``: successful calls whose span has no usage at all (truth: 0).
GAPS: dict[tuple[str, str, str], int] = {
    # @traceloop/instrumentation-openai 0.27.0 dist/index.js _endSpan / _endResponsesSpan write total, input
    # and output tokens only: prompt_tokens_details.cached_tokens and completion_tokens_details.reasoning_tokens
    # are nowhere (still inside input and output)
    ("openllmetry-js-openai", "cached", "cache_read"): 0,
    ("openllmetry-js-openai", "cached", "reasoning"): 0,
    # ... and its _streamingWrapPromise never reads chunk.usage (result.usage only from enrichTokens' tiktoken
    # estimate, off by default): both streamed calls have no usage, though the server sent it (include_usage)
    ("openllmetry-js-openai", "streaming", "unread"): 2,
    ("openllmetry-js-openai", "streaming", "input"): 0,
    ("openllmetry-js-openai", "streaming", "output"): 0,
    # @arizeai/openinference-instrumentation-openai 4.2.7 instrumentation.js consumeChatCompletionStreamChunks
    # skips chunks without choices (``if (chunk.choices.length <= 0) continue``): the usage chunk is dropped
    ("openinference-js-openai", "streaming", "unread"): 2,
    ("openinference-js-openai", "streaming", "input"): 0,
    ("openinference-js-openai", "streaming", "output"): 0,
    # both OpenAI instrumentations end a span on success only (``_thenUnwrap(onSuccess)``; see
    # tests/score/test_captured_scores.py KNOWN): the 429 and the 500 leave no span
    **{(s, "errors", k): 0 for s in ("openllmetry-js-openai", "openinference-js-openai") for k in ("calls", "failed")},
    # @arizeai/openinference-instrumentation-langchain 4.1.1 dist/src/utils.js formatTokenCounts writes
    # usage_metadata's input_token_details.cache_read (and audio) only, never cache_creation: the write is
    # inside the input (LangChain's input_tokens adds both caches, @langchain/anthropic buildUsageMetadata), unnamed
    ("openinference-langchain-js", "cached", "cache_write"): 0,
    # @langchain/anthropic 1.5.11 dist/utils/message_outputs.js: a stream's message_start chunk carries
    # usage.output_tokens (buildUsageMetadata; Anthropic sends 1 there) and message_delta's chunk the final,
    # cumulative output_tokens again; AIMessageChunk concat sums them: 16 + 1 served as 17
    ("openinference-langchain-js", "streaming", "output"): 35,
}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source][scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        # the instrumentation made the spans below the generator's root
        assert {e.scope.name for _, t in trees(s) for e in t.spans} == {"fixgen.app", SCOPE[s]}, s
    # the two OpenAI sources ran the same script against the same answers
    assert TRUTH["openllmetry-js-openai"] == TRUTH["openinference-js-openai"]
    assert TRUTH["openllmetry-js-anthropic"] == TRUTH["openinference-js-anthropic"]


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    served = [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    assert sorted(got["models"]) == sorted(served), "request model of each successful call"
    served_by = {"/v1/messages": "anthropic", "/v1/chat/completions": "openai", "/v1/responses": "openai"}
    assert got["providers"] == ({served_by[r["route"]] for r in TRUTH[source][scenario]["requests"]}
                                if want["calls"] else set()), "provider of each call"
    assert got["providers"] <= PROVIDER[source]


def test_anthropic_input_without_cache_is_completed() -> None:
    """Traceloop JS reports Anthropic's input_tokens (cache excluded): the third cached call has more new
    input (1900) than cache read (1200), so only the scope tells that the cache must be added."""
    got = [(c.call.input_tokens, c.call.cache_read_tokens, c.call.cache_write_tokens)  # type: ignore[union-attr]
           for c in counted("openllmetry-js-anthropic", "cached")]
    want = [(r["input"], r["cache_read"], r["cache_write"]) for r in TRUTH["openllmetry-js-anthropic"]["cached"]["requests"]]
    assert got == want == [(1300, 0, 1200), (1310, 1200, 0), (3100, 1200, 0)]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                assert c.kind == "inference" and e.scope.name == SCOPE[source], (scenario, e.view.name)
            if e.view.name == "workflow":
                assert c is None or not c.counted


#: finish reasons of the streaming scenario as read: Traceloop's Anthropic stream handler keeps usage from
#: message_start / message_delta but never ``delta.stop_reason`` (dist/index.js _streamingWrapPromise, case
#: "message_delta"), so its streamed calls have none
STREAM_FINISH = {"openllmetry-js-openai": ["stop", "length"], "openllmetry-js-anthropic": [],
                 "openinference-js-openai": ["stop", "length"], "openinference-js-anthropic": ["end_turn", "max_tokens"],
                 # OpenInference's LangChain formatFinishReason (utils.js) reads generationInfo / response_metadata;
                 # @langchain/anthropic 1.5.11 message_outputs.js puts a stream's stop_reason (message_delta's
                 # delta) in additional_kwargs only
                 "openinference-langchain-js": ["stop"]}
#: streamed as read: only OpenInference says so (``stream: true`` in llm.invocation_parameters); Traceloop's
#: spans carry no stream flag (startSpan: model, max_tokens, temperature, top_p, penalties)
STREAMED = {"openllmetry-js-openai": [None, None], "openllmetry-js-anthropic": [None, None],
            "openinference-js-openai": [True, True], "openinference-js-anthropic": [True, True],
            # LangChain's invocation params say ``stream: this.streaming``, the model's constructor option, not
            # how the call was made (@langchain/openai 1.6.0 chat_models/completions.js invocationParams,
            # @langchain/anthropic 1.5.11 chat_models.js): .stream() on a default model records stream false
            "openinference-langchain-js": [False, False]}


@pytest.mark.parametrize("source", SOURCES)
def test_streams_and_finish_reasons(source: str) -> None:
    seen: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and not c.error:
                seen[scenario].append((int(e.view.start_time_unix_nano), c))
    calls = [c for _, c in sorted(seen["streaming"], key=lambda x: x[0])]
    assert [c.streaming for c in calls] == STREAMED[source]
    assert [c.max_tokens for c in calls] == [256 if source.endswith("-js-anthropic") else None, 16]
    assert [r.lower() for c in calls for r in c.finish_reasons] == STREAM_FINISH[source]
    assert all(c.streaming is not True for sc, v in seen.items() if sc != "streaming" for _, c in v)
    # the tool call reads as one (Traceloop maps tool_calls / tool_use to ``tool_call``)
    first = min(seen["tool_use"], key=lambda x: x[0])[1]
    assert first.finish_reasons in (("tool_call",), ("tool_calls",), ("tool_use",))


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_are_read(source: str) -> None:
    """The captured messages are found: the duplicate scenario's two calls read the same, healthy's two
    differently, and the system prompt is the generator's."""
    dup = [e.call.input_content for e in counted(source, "duplicate")]  # type: ignore[union-attr]
    assert len(dup) == 2 and dup[0] and dup[0] == dup[1]
    healthy = [e.call.input_content for e in counted(source, "healthy")]  # type: ignore[union-attr]
    assert len(healthy) == 2 and healthy[0] and healthy[1] and healthy[0] != healthy[1]
    assert "Where is order A-1001?" in healthy[0] and "And order A-1002?" in healthy[1]
