"""Real spans from Python agent frameworks over OpenAI-compatible fake servers, counted against the servers'
ground truth (tests/normalize/gen/py_frameworks/generate.py made the data files; versions in its
requirements.txt and in py_frameworks-truth.json).

* ``crewai-openinference``: CrewAI (native OpenAI provider) under openinference-instrumentation-crewai in its
  default wrapper mode (Crew / Task / tool spans, no LLM span of its own) with openinference-instrumentation-
  openai active: the OpenAI ``ChatCompletion`` span is the call.
* ``crewai-openinference-events``: the same with the CrewAI instrumentor's event-listener mode
  (``use_event_listener=True``): CrewAI's own ``{model}.llm_call`` span with CrewAI's usage, beside the OpenAI
  span of the same call (not its parent: the listener never makes its spans current). Counted once.
* ``dspy-openinference``: DSPy (its own lm15 client, the default engine) under openinference-instrumentation-dspy
  alone: ``LM.__call__`` spans without any token count.
* ``dspy-openinference-litellm``: DSPy on its LiteLLM engine with OpenInference's LiteLLM instrumentor too: the
  LiteLLM ``completion`` span under ``LM.__call__`` carries the usage. Counted once.
* ``haystack-otel``: Haystack 2.x pipelines with ``OpenAIChatGenerator`` under Haystack's own OpenTelemetryTracer
  (content tracing on): no GenAI attribute at all, the call is the generator's ``haystack.component.run`` span
  and its answer (usage, model, finish reason) the ``haystack.component.output`` JSON.

OpenAI's ``prompt_tokens`` includes ``cached_tokens`` (the semantic conventions' input includes the cache);
``completion_tokens`` includes ``reasoning_tokens``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import assert_totals, capture_lines_are, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "py_frameworks-truth.json").read_text())
SOURCES = ["crewai-openinference", "crewai-openinference-events", "dspy-openinference", "dspy-openinference-litellm",
           "haystack-otel"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {}
# openinference-instrumentation-dspy 0.1.48 __init__.py _LMCallWrapper: the LM span gets the model, provider,
# invocation parameters and the messages in and out (``_llm_output_messages`` keeps the strings DSPy returns),
# never a token count or finish reason; DSPy's lm15 client is no library any other instrumentor wraps. Every
# successful call is one without usage ("unread"), nothing is counted
for _sc, _t in TRUTH["dspy-openinference"]["scenarios"].items():
    GAPS.update({("dspy-openinference", _sc, k): 0 for k in ("input", "output", "cache_read", "reasoning")})
    GAPS[("dspy-openinference", _sc, "unread")] = _t["calls"] - _t["failed"]
    GAPS[("dspy-openinference", _sc, "finish_reasons")] = []
#: sources whose spans name no request model: haystack 2.31 core/pipeline/pipeline.py traces a component run's
#: inputs (messages, generation_kwargs, tools), not the generator's init parameters, where ``model`` is
#: (components/generators/chat/openai.py OpenAIChatGenerator.__init__); the served model is in the replies' meta
NO_REQUEST_MODEL = {"haystack-otel"}


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
        capture_lines_are(s, ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"])


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert want["cache_write"] == 0, "cache write tokens (OpenAI reports none)"
    if source in NO_REQUEST_MODEL:
        assert got["models"] == [None] * len(want["models"]) and got["failed_models"] == [None] * want["failed"]
        assert sorted(got["served"]) == sorted(s for _, s in want["models"]), "served model of each call"
    else:
        assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each call"
        assert got["failed_models"] == ["gpt-4o-mini"] * want["failed"], "request model of each failed call"
    assert got["providers"] <= {"openai"}, got["providers"]
    assert sorted(got["finish_reasons"]) == sorted(want["finish_reasons"]), "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """A call reported by two instrumentations (CrewAI's llm_call beside the OpenAI span, DSPy's LM.__call__
    over LiteLLM's completion) counts once; crews, agents, tasks, modules and tools never count."""
    for scenario, tree in trees(source):
        counted = [e for e in tree.spans if e.call is not None and e.call.counted]
        for e in counted:
            assert e.call is not None and e.call.kind == "inference", (scenario, e.view.name)
            assert e.scope.name in ("openinference.instrumentation.openai", "openinference.instrumentation.litellm",
                                    "haystack"), (scenario, e.scope.name)
            assert e.view.name != "haystack.pipeline.run"
        truth = TRUTH[source]["scenarios"][scenario]
        if source != "dspy-openinference":
            assert len(counted) == truth["calls"] - truth["failed"], scenario
        for e in tree.spans:
            c = e.call
            if e.scope.name.endswith(("crewai", "crewai._event_listener", "dspy")) and c is not None:
                assert not c.counted, (scenario, e.view.name)
                if c.kind == "inference" and source != "dspy-openinference":
                    assert c.report_of is not None, (scenario, e.view.name)  # a second report of the call


#: streamed as read: the OpenAI instrumentor and LiteLLM's read the request's ``stream``; DSPy's LM span has
#: nothing that says so (openinference-instrumentation-dspy 0.1.48: dspy.streamify sets DSPy's send_stream, the
#: LM.__call__ parameters stay the LM's kwargs)
STREAMED = {"crewai-openinference": [True, True], "crewai-openinference-events": [True, True],
            "dspy-openinference": [None, None], "dspy-openinference-litellm": [True, True],
            # Haystack: the streamed reply's meta has ``completion_start_time`` (haystack 2.31 components/
            # generators/utils.py _convert_streaming_chunks_to_chat_message), an answer at once never
            "haystack-otel": [True, True]}


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(source: str) -> None:
    seen: dict[str, list[tuple[int, bool | None, int | None]]] = defaultdict(list)
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if c is not None and c.kind == "inference" and c.report_of is None and not c.error:
                seen[scenario].append((int(e.view.start_time_unix_nano), c.streaming, c.max_tokens))
    assert [s for _, s, _ in sorted(seen["streaming"])] == STREAMED[source]
    # Haystack's generation_kwargs given to the generator's __init__ (where this capture sets max_tokens) are
    # not a run input: the span has none (haystack 2.31 core/pipeline/pipeline.py traces the run's inputs)
    assert sorted(m or 0 for _, _, m in seen["streaming"]) == ([0, 0] if source == "haystack-otel" else [64, 256])
    assert all(s is not True for sc, v in seen.items() if sc != "streaming" for _, s, _ in v)


def test_crewai_llm_spans_carry_crewais_usage() -> None:
    """The event listener's llm_call span has the call's own prompt / completion counts (and the cache read),
    the same numbers as the OpenAI span it is paired with: that pairing is what keeps it from counting."""
    for scenario, tree in trees("crewai-openinference-events"):
        by_id = {e.span_id: e for e in tree.spans}
        for e in tree.spans:
            c = e.call
            if e.view.name.endswith(".llm_call") and c is not None and not c.error:
                twin = by_id[c.report_of].call  # type: ignore[index]
                assert twin is not None and (c.input_tokens, c.output_tokens) == (
                    twin.input_tokens, twin.output_tokens), scenario
