"""Real spans from three more JavaScript libraries, counted against the fake server's ground truth.

Captured by tests/normalize/gen/js2/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake OpenAI server of tests/normalize/gen/vercel_ai/fake_server.py; the served
requests are the truth (js2-truth.json, one convention: input includes the cache, output the reasoning):

* ``mastra-otel``: @mastra/core 1.71.0 agents over @ai-sdk/openai 4.0.118, traced by @mastra/observability
  1.17.9 and exported by @mastra/otel-exporter 1.4.0: per model call a ``chat {model}`` span (MODEL_INFERENCE,
  gen_ai.* usage and finish reason) under ``agent_step`` (MODEL_STEP: the prompt, as mastra.model_step.input),
  ``model_generation`` and ``invoke_agent``; a failed call's ``chat`` span has status unset and finish reason
  ``error``, the error is on ``invoke_agent``;
* ``langfuse-js-openai``: Langfuse JS v4, @langfuse/openai 4.6.1 observeOpenAI over openai 6.32.0, exported by
  @langfuse/otel 4.6.1: one ``OpenAI.chat`` / ``OpenAI.responses`` generation per call, usage in
  langfuse.observation.usage_details with every detail split out of input / output;
* ``traceloop-langchain-js``: @traceloop/node-server-sdk 0.27.0 (its @traceloop/instrumentation-langchain
  0.27.0) over @langchain/openai 1.6.0 ChatOpenAI: ``chat {model}`` spans with gen_ai.* keys.

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
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "js2-truth.json").read_text())
SOURCES = ["mastra-otel", "langfuse-js-openai", "traceloop-langchain-js"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = {"mastra-otel": "@mastra/otel-exporter", "langfuse-js-openai": "langfuse-sdk",
         "traceloop-langchain-js": "@traceloop/instrumentation-langchain"}
#: the provider each source's calls read as: @langfuse/openai 4.6.1 dist/index.mjs wrapMethod starts the
#: generation with model, input, modelParameters, prompt and metadata only, and @langfuse/tracing 4.6.1 writes
#: them as langfuse.observation.* keys: no key names the provider (only the generation's default name,
#: ``${sdk.constructor.name}.${prop}``, which the app may replace with generationName)
PROVIDER = {"mastra-otel": "openai", "langfuse-js-openai": None, "traceloop-langchain-js": "openai"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
#: instead of the truth's. ``unread``: successful calls whose span has no usage at all (truth: 0).
GAPS: dict[tuple[str, str, str], int] = {
    # @traceloop/instrumentation-langchain 0.27.0 dist/index.js handleLLMEnd reads output.llmOutput.usage
    # (input_tokens / output_tokens) and llmOutput.tokenUsage (promptTokens / completionTokens / totalTokens)
    # only; @langchain/openai 1.6.0 chat_models/responses.js (useResponsesApi) returns
    # ``llmOutput: {id, estimatedTokenUsage}``: the Responses API call of healthy has no usage (430 in, 22 out)
    ("traceloop-langchain-js", "healthy", "unread"): 1,
    ("traceloop-langchain-js", "healthy", "input"): 420,
    ("traceloop-langchain-js", "healthy", "output"): 24,
    # ... and of those, input, output and total only (LangChain's tokenUsage has no details): the cache reads and
    # reasoning tokens are nowhere (still inside input and output)
    ("traceloop-langchain-js", "cached", "cache_read"): 0,
    ("traceloop-langchain-js", "cached", "reasoning"): 0,
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
        # the library made the spans below the generator's root, in the app's trace
        assert {e.scope.name for _, t in trees(s) for e in t.spans} == {"fixgen.app", SCOPE[s]}, s
        assert all(len([e for e in t.spans if not e.parent_id]) == 1 for _, t in trees(s)), s
    # the three sources ran the same answers
    assert TRUTH["mastra-otel"] == TRUTH["langfuse-js-openai"] == TRUTH["traceloop-langchain-js"]


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    served = [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    assert sorted(got["models"]) == sorted(served), "request model of each successful call"
    assert got["providers"] == {PROVIDER[source]}, "provider of each call"


def test_cache_and_reasoning_are_read_per_call() -> None:
    """Langfuse JS subtracts every usage detail from input and output (input 158 for 1310 with 1152 cached;
    output 32 for 96 with 64 reasoning): the details are added back and read as cache and reasoning."""
    for source in ("mastra-otel", "langfuse-js-openai"):
        got = [(e.call.input_tokens, e.call.cache_read_tokens or 0, e.call.output_tokens, e.call.reasoning_tokens or 0)
               for e in counted(source, "cached")]
        want = [(r["input"], r["cache_read"], r["output"], r["reasoning"])
                for r in TRUTH[source]["cached"]["requests"]]
        assert got == want == [(1300, 0, 30, 0), (1310, 1152, 28, 0), (1320, 1280, 96, 64)], source


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                assert c.kind == "inference" and e.scope.name == SCOPE[source], (scenario, e.view.name)
                if source == "mastra-otel":  # the call, not its step, generation or agent run
                    assert e.get("mastra.span.type") == "model_inference", (scenario, e.view.name)


#: finish reasons of the streaming scenario as read: Langfuse JS records none (@langfuse/openai 4.6.1
#: wrapAsyncIterable / parseCompletionOutput keep the text, tool calls and usage, never finish_reason)
STREAM_FINISH = {"mastra-otel": ["stop", "length"], "langfuse-js-openai": [],
                 "traceloop-langchain-js": ["stop", "length"]}
#: streamed as read: only Langfuse says so (``stream: true`` among langfuse.observation.model.parameters,
#: parseInputArgs); Mastra's exporter drops ModelInferenceAttributes.streaming and Traceloop's LangChain
#: handler writes no request parameters (tests/score/test_captured_scores.py KNOWN)
STREAMED = {"mastra-otel": [None, None], "langfuse-js-openai": [True, True], "traceloop-langchain-js": [None, None]}
#: max tokens of the two streamed calls: Traceloop's LangChain handler writes none
STREAM_MAX_TOKENS = {"mastra-otel": [None, 16], "langfuse-js-openai": [None, 16], "traceloop-langchain-js": [None, None]}
#: the tool call as read: the AI SDK's ``tool-calls`` (Mastra passes its finish reason on), Traceloop's
#: ``tool_call`` (langchainFinishReasonMap), none from Langfuse
TOOL_FINISH = {"mastra-otel": ("tool-calls",), "langfuse-js-openai": (), "traceloop-langchain-js": ("tool_call",)}


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
    assert [c.max_tokens for c in calls] == STREAM_MAX_TOKENS[source]
    assert [r.lower() for c in calls for r in c.finish_reasons] == STREAM_FINISH[source]
    assert all(c.streaming is not True for sc, v in seen.items() if sc != "streaming" for _, c in v)
    first = min(seen["tool_use"], key=lambda x: x[0])[1]
    assert first.finish_reasons == TOOL_FINISH[source]


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_are_read(source: str) -> None:
    """The captured messages are found (Mastra's on the call's parent step span): the duplicate scenario's two
    calls read the same, healthy's two differently, and the system prompt is the generator's."""
    dup = [(e.call.system_content, e.call.input_content) for e in counted(source, "duplicate")]
    assert len(dup) == 2 and dup[0][1] and dup[0] == dup[1]
    assert (dup[0][0] or "").startswith("You are a support assistant for ACME.")
    # every successful call (Traceloop's Responses API call has no usage, so it is not counted: GAPS)
    healthy = [e.call.input_content for _, e in sorted(
        (int(e.view.start_time_unix_nano), e) for sc, t in trees(source) if sc == "healthy" for e in t.spans
        if e.call is not None and e.call.kind == "inference" and not e.call.error)]
    assert len(healthy) == 2 and healthy[0] and healthy[1] and healthy[0] != healthy[1]
    assert "Where is order A-1001?" in healthy[0] and "And order A-1002?" in healthy[1]
    # the tool step's prompt is not the first one's (it has the tool's answer)
    tool = [e.call.input_content for e in counted(source, "tool_use")]
    assert len(tool) == 2 and tool[0] != tool[1]
