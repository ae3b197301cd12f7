"""Real spans from three more JavaScript libraries, counted against the fake server's ground truth.

Captured by tests/normalize/gen/js3/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake OpenAI server of tests/normalize/gen/vercel_ai/fake_server.py; the served
requests are the truth (js3-truth.json, one convention: input includes the cache, output the reasoning):

* ``openinference-vercel-ai``: Vercel AI SDK ai 7.0.173 over @ai-sdk/openai 4.0.118, telemetry by @ai-sdk/otel
  1.0.173 rewritten by @arizeai/openinference-vercel 3.2.1 (OpenInferenceSimpleSpanProcessor, isOpenInferenceSpan
  filter): per call a ``chat {model}`` LLM span (gen_ai.* and llm.* usage) under ``step 1`` (CHAIN) and
  ``invoke_agent {model}`` (AGENT, the run's usage again, summed over its steps), all of scope ``gen_ai``;
* ``openlit-js-openai``: openlit 1.15.0 over openai 6.32.0: one ``chat {model}`` span per call;
* ``openinference-langgraph-js``: @langchain/langgraph 1.7.3 createReactAgent over @langchain/openai 1.6.0,
  @arizeai/openinference-instrumentation-langchain 4.1.1: ``ChatOpenAI`` LLM spans under the graph's
  ``LangGraph`` / ``agent`` / ``RunnableSequence`` chains (and ``tools`` / the tool's span in tool_use).

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
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "js3-truth.json").read_text())
SOURCES = ["openinference-vercel-ai", "openlit-js-openai", "openinference-langgraph-js"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = {"openinference-vercel-ai": "gen_ai", "openlit-js-openai": "@openlit/instrumentation-openai",
         "openinference-langgraph-js": "@arizeai/openinference-instrumentation-langchain"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
#: instead of the truth's. ``unread``: successful calls whose span has no usage at all (truth: 0).
GAPS: dict[tuple[str, str, str], int] = {
    # openlit 1.15.0 dist/instrumentation/openai/wrapper.js _chatCompletionCommonSetter writes prompt_tokens,
    # completion_tokens and prompt_tokens_details (cached_tokens, cache_creation / cache_write tokens) only;
    # GEN_AI_USAGE_REASONING_TOKENS is set by the Responses API setter alone (output_tokens_details): the o4-mini
    # Chat Completions call's 64 reasoning tokens are nowhere (still inside its 96 output tokens)
    ("openlit-js-openai", "cached", "reasoning"): 0,
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
    # the three sources ran the same answers (healthy's second call: the Responses API except in LangGraph)
    def answers(s: str) -> dict[str, Any]:
        return {sc: [{k: v for k, v in r.items() if k != "route"} for r in t["requests"]] for sc, t in TRUTH[s].items()}
    assert answers("openinference-vercel-ai") == answers("openlit-js-openai") == answers("openinference-langgraph-js")


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    served = [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    assert sorted(got["models"]) == sorted(served), "request model of each successful call"
    assert got["providers"] == {"openai"}, "provider of each call"


def test_cache_and_reasoning_are_read_per_call() -> None:
    for source in SOURCES:
        got = [(e.call.input_tokens, e.call.cache_read_tokens or 0, e.call.output_tokens, e.call.reasoning_tokens or 0)
               for e in counted(source, "cached")]
        want = [(r["input"], r["cache_read"], r["output"], r["reasoning"] if source != "openlit-js-openai" else 0)
                for r in TRUTH[source]["cached"]["requests"]]
        assert got == want, source
    assert want[-1][-1] == 64  # the truth has the reasoning tokens OpenLIT's span drops (GAPS)


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                assert c.kind == "inference" and e.scope.name == SCOPE[source], (scenario, e.view.name)
                if source != "openlit-js-openai":  # the LLM span, not the AI SDK's step / agent run or the graph's
                    assert e.get("openinference.span.kind") == "LLM", (scenario, e.view.name)


#: streamed as read: the AI SDK's v7 chat span says so by its time to first chunk only (no flag on the others);
#: OpenLIT's gen_ai.request.is_stream and OpenInference LangChain's invocation parameters (``stream``) on every call
STREAMED = {"openinference-vercel-ai": [True, True], "openlit-js-openai": [True, True],
            "openinference-langgraph-js": [True, True]}
NOT_STREAMED = {"openinference-vercel-ai": None, "openlit-js-openai": False, "openinference-langgraph-js": False}
#: the tool call as read: the AI SDK's ``tool-calls``, OpenAI's ``tool_calls`` otherwise
TOOL_FINISH = {"openinference-vercel-ai": ("tool-calls",), "openlit-js-openai": ("tool_calls",),
               "openinference-langgraph-js": ("tool_calls",)}


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
    assert [c.max_tokens for c in calls] == [None, 16]
    assert [r.lower() for c in calls for r in c.finish_reasons] == ["stop", "length"]
    assert {c.streaming for sc, v in seen.items() if sc != "streaming" for _, c in v} == {NOT_STREAMED[source]}
    first = min(seen["tool_use"], key=lambda x: x[0])[1]
    assert first.finish_reasons == TOOL_FINISH[source]


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_are_read(source: str) -> None:
    """The duplicate scenario's two calls read the same, healthy's two differently, the system prompt is the
    generator's (the semconv's parts array of gen_ai.system_instructions read as its text), and the tool step's
    prompt carries the tool's answer (a ToolCallResponsePart's ``response``)."""
    dup = [(e.call.system_content, e.call.input_content) for e in counted(source, "duplicate")]
    assert len(dup) == 2 and dup[0][1] and dup[0] == dup[1]
    assert (dup[0][0] or "").startswith("You are a support assistant for ACME.")
    healthy = [e.call.input_content for e in sorted(counted(source, "healthy"),
                                                    key=lambda e: int(e.view.start_time_unix_nano))]
    assert len(healthy) == 2 and healthy[0] != healthy[1]
    assert "Where is order A-1001?" in (healthy[0] or "") and "And order A-1002?" in (healthy[1] or "")
    tool = [e.call.input_content or "" for e in sorted(counted(source, "tool_use"),
                                                       key=lambda e: int(e.view.start_time_unix_nano))]
    assert len(tool) == 2 and tool[0] != tool[1]
    assert "in transit" in tool[1] and "in transit" not in tool[0]
