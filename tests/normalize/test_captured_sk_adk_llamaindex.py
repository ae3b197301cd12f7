"""Real spans from Semantic Kernel, Google ADK and LlamaIndex under OpenInference, counted against the fake
servers' ground truth (tests/normalize/gen/sk_adk_llamaindex/generate.py made the three data files; versions
in its requirements.txt and in the truth file).

* ``semantic-kernel-openai``: SK's model diagnostics over the OpenAI connector (``chat {model}`` spans, scope
  ``semantic_kernel.utils.telemetry.model_diagnostics.decorators``); OpenAI ``prompt_tokens`` includes the
  cache, ``completion_tokens`` the reasoning.
* ``google-adk``: ADK's own spans (scope ``gcp.vertex.agent``, schema v2: ``generate_content {model}`` under
  ``invoke_agent`` under ``invoke_workflow``); ADK writes input = prompt + tool-use prompt tokens and output =
  candidates + thoughts (google/adk/telemetry/_token_usage.py, ``TokenUsage.from_usage_metadata``).
* ``llamaindex-openinference``: ``OpenAI.chat`` / ``OpenAI.stream_chat`` LLM spans with ``llm.token_count.*``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import assert_totals, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "sk_adk_llamaindex-truth.json").read_text())
SOURCES = ["semantic-kernel-openai", "google-adk", "google-adk-legacy", "llamaindex-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
PROVIDER = {"semantic-kernel-openai": "openai", "google-adk": "gcp.gemini", "google-adk-legacy": "gcp.gemini",
            "llamaindex-openinference": "openai"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # semantic-kernel 1.45.0 utils/telemetry/model_diagnostics/decorators.py _set_completion_response writes
    # ``usage.prompt_tokens`` and ``usage.completion_tokens`` only (gen_ai.usage.input_tokens / output_tokens);
    # the CompletionUsage it holds has prompt_tokens_details / completion_tokens_details, never written: the
    # cache reads and reasoning tokens are inside input and output, unnamed
    ("semantic-kernel-openai", "cached", "cache_read"): 0,
    ("semantic-kernel-openai", "tool_use", "reasoning"): 0,
    # llama-index-llms-openai 0.8.3 base.py sends ``stream_options`` only when the app puts it in
    # additional_kwargs: the first streamed call asked for no usage, the server sent none (truth
    # ``usage_unsent``), and its span has no token count at all; the second asked and is counted
    ("llamaindex-openinference", "streaming", "input"): 700,
    ("llamaindex-openinference", "streaming", "output"): 64,
}


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, usage_on_error=True, roots_carry_totals=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)  # unread: the successful calls whose usage was never sent
    assert want["cache_write"] == 0, "cache write tokens (neither API has them)"
    assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each successful call"
    assert got["providers"] <= {PROVIDER[source]}, got["providers"]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """Agent and workflow spans above a model call (ADK's invoke_agent / invoke_workflow, SK's
    AutoFunctionInvocationLoop) never count, and tool spans are tools, not model calls."""
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.counted:
                assert c.kind == "inference", (scenario, e.view.name, c.kind)
            if e.view.name.startswith(("invoke_agent", "invoke_workflow", "execute_tool", "AutoFunction",
                                       "FunctionTool", "tool.")):
                assert c is None or not c.counted, (scenario, e.view.name)


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_max_tokens(source: str) -> None:
    """The cut call reads as cut whatever the spelling (SK's ``FinishReason.LENGTH``, ADK's ``max_tokens``)."""
    for scenario in SCENARIOS:
        want = [r.lower() for r in TRUTH[source]["scenarios"][scenario]["finish_reasons"]]
        got: list[str] = []
        for sc, tree in trees(source):
            if sc == scenario:
                got += [r for e in tree.spans if e.call is not None and e.call.kind == "inference"
                        and e.call.report_of is None and not e.call.error for r in e.call.finish_reasons]
        assert sorted(got) == sorted(want), (scenario, got)


#: streamed as read, per source: SK's streamed span is its non-streamed one (semantic-kernel 1.45.0
#: decorators.py trace_streaming_chat_completion opens _get_completion_span(CHAT_COMPLETION_OPERATION, ...), no
#: stream flag): unknown. ADK sets no flag either; only its cut call is asked, and its output messages (one per
#: chunk, google-adk 2.13.0 _experimental_semconv.py) tell; under its legacy schema the stable-semconv
#: generate_content span has no output messages and call_llm's llm_response is the final, aggregated
#: response (``"partial": false``; tracing.py trace_call_llm), so only the logs' gen_ai.choice per chunk
#: would. LlamaIndex: the span name (``OpenAI.stream_chat``).
STREAMED = {"semantic-kernel-openai": [None, None], "google-adk": [None, True], "google-adk-legacy": [None, None],
            "llamaindex-openinference": [True, True]}


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(source: str) -> None:
    """A stream cut at max tokens is the caller's choice, not truncation waste: it must read as a stream
    where the library lets it; and no call of the other scenarios reads as one."""
    seen: dict[str, list[tuple[int, bool | None, int | None]]] = defaultdict(list)
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and c.report_of is None and not c.error:
                seen[scenario].append((int(e.view.start_time_unix_nano), c.streaming, c.max_tokens))
    got = [s for _, s, _ in sorted(seen["streaming"])]
    assert got == STREAMED[source]
    assert sorted(m or 0 for _, _, m in seen["streaming"]) == [64, 256]
    assert all(s is not True for sc, v in seen.items() if sc != "streaming" for _, s, _ in v)


def test_llamaindex_request_helpers_are_not_model_calls() -> None:
    """``OpenAI._prepare_chat_with_tools`` is an LLM-kind span with the request's messages but no call
    behind it: read as a model call, the tool loop scored as a duplicate of itself."""
    names = [e.view.name for sc, t in trees("llamaindex-openinference") if sc == "tool_use" for e in t.spans]
    assert names.count("OpenAI._prepare_chat_with_tools") == 2
    for sc, t in trees("llamaindex-openinference"):
        for e in t.spans:
            if e.view.name.endswith("._prepare_chat_with_tools"):
                assert e.call is None or e.call.kind != "inference"
