"""Real spans of mixed instrumentation stacks, two vendors' instrumentations in one process, so that every model
call is reported by two spans (tests/normalize/data/openinference-langchain-openai-v2.jsonl,
openllmetry-langchain-openinference-openai.jsonl, openlit-openai-v2.jsonl, pydantic-ai-openinference-openai.jsonl):
each call counts once, with the fake server's tokens, whichever of its two spans carries the usage.

Captured by tests/normalize/gen/mixed/generate.py (versions in its requirements.txt and in mixed-truth.json) against
the py_native fake OpenAI API (the embed one for openlit-openai-v2), every connection beyond loopback refused:

* ``openinference-langchain-openai-v2``: openinference-instrumentation-langchain 0.1.80 and
  opentelemetry-instrumentation-openai-v2 2.4b0 (opentelemetry-util-genai 1.1b0, latest semconv, SPAN_AND_EVENT)
  over langchain-openai 1.7.4 ``ChatOpenAI``. OpenInference's LangChain tracer never makes its span current
  (_tracer.py: ``# token = context_api.attach(context)`` left out), so its ``ChatOpenAI`` span (llm.token_count.*,
  ``"stream": true`` in llm.invocation_parameters for a stream) and util-genai's ``chat gpt-4o-mini`` client span
  (_invocation.py start: ``attach(self._span_context)``; gen_ai.usage.input_tokens / output_tokens only, patch.py
  _set_response_properties, no cache keys, no stream attribute) are siblings under the app's root.
* ``openllmetry-langchain-openinference-openai``: opentelemetry-instrumentation-langchain 0.62.4 and
  openinference-instrumentation-openai 0.1.66 over the same ChatOpenAI. Traceloop's callback handler makes its
  ``ChatOpenAI.chat`` span and then detaches it, attaching only its SUPPRESS_LANGUAGE_MODEL_INSTRUMENTATION_KEY
  (callback_handler.py _create_llm_span: "Detach that span_token before attaching suppression"), a flag
  OpenInference's OpenAI wrapper does not read (_request.py checks _SUPPRESS_INSTRUMENTATION_KEY only): its
  ``ChatCompletion`` span (no gen_ai.response.id) is the LangChain span's sibling too.
* ``openlit-openai-v2``: openlit 1.45.0 and opentelemetry-instrumentation-openai-v2 2.4b0 both patching the same
  openai 2.54.0 client (wrapt, openai-v2 last: its wrapper is the outer one), chat and embeddings: the v2 span
  (chat: util-genai's, embeddings: scope opentelemetry.instrumentation.openai_v2, patch.py
  ``start_as_current_span``) is the parent of OpenLIT's (instrumentation/openai/openai.py: ``chat {model}`` /
  ``embeddings {model}``, gen_ai.usage.cache_read.input_tokens included).
* ``pydantic-ai-openinference-openai``: pydantic-ai-slim 2.68.0's own instrumentation (``Agent.instrument_all``;
  _instrumentation.py open_model_request_span: ``start_as_current_span``) with openinference-instrumentation-openai
  0.1.66 under it: ``invoke_agent`` -> ``chat gpt-4o-mini`` -> ``ChatCompletion``, both model spans with usage.

Scenarios: healthy, cached, streaming, tool_use, errors (a 429 and a 500), duplicate, and for the LangChain and OpenLIT
sources ``stream_no_usage``: two streams sent no usage (no ``stream_options``; langchain-openai 1.7.4
chat_models/base.py leaves ``stream_usage`` off at a base URL of its own), which neither LangChain span nor the
client span beside it can read: each is one call without usage, not two (counting.py _unread_twins,
whose rule tests/normalize/test_counting_twins.py holds on spans made there).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.score.fingerprint import fingerprint
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree
from tests.normalize.captured import (
    DATA,
    TOKENS,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    token_sums,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "mixed-truth.json").read_text())
OI_LC_V2, TL_LC_OI, LIT_V2, PAI_OI = ("openinference-langchain-openai-v2", "openllmetry-langchain-openinference-openai",
                                      "openlit-openai-v2", "pydantic-ai-openinference-openai")
SOURCES = [OI_LC_V2, TL_LC_OI, LIT_V2, PAI_OI]
BASE = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCENARIOS = {s: [*BASE, "stream_no_usage"] if s != PAI_OI else BASE for s in SOURCES}
CHAT_ONLY = [OI_LC_V2, TL_LC_OI, PAI_OI]
V2_CHAT, V2_EMBED = "opentelemetry.util.genai.handler", "opentelemetry.instrumentation.openai_v2"
OI_OPENAI, LIT_OPENAI = "openinference.instrumentation.openai", "openlit.instrumentation.openai"
#: (reporting scope, counted scope) of every call's two spans, and whether the counted one is the other's child
PAIRS = {OI_LC_V2: ({("openinference.instrumentation.langchain", V2_CHAT)}, False),
         TL_LC_OI: ({("opentelemetry.instrumentation.langchain", OI_OPENAI)}, False),
         LIT_V2: ({(V2_CHAT, LIT_OPENAI), (V2_EMBED, LIT_OPENAI)}, True),
         PAI_OI: ({("pydantic-ai", OI_OPENAI)}, True)}

#: what no span of a source can carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # the streams sent no usage: the server counted them, no span of either instrumentation has a count
    **{(s, "stream_no_usage", k): 0 for s in (OI_LC_V2, TL_LC_OI) for k in ("input", "output")},
    # openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic writes its own estimate where a stream sent
    # no usage (``input_tokens = general_tokens(prompt)``, __helpers.py general_tokens: ``ceil(len(text) / 2)``), on
    # no attribute told apart (as openlit-llamaindex's, test_captured_openlit3.py): 52 + 49 in, 25 + 31 out, read
    # as the usage of the two calls, which then are not unread
    (LIT_V2, "stream_no_usage", "input"): 52 + 49,
    (LIT_V2, "stream_no_usage", "output"): 25 + 31,
    (LIT_V2, "stream_no_usage", "unread"): 0,
}


def truth(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


def model_calls(tree: Tree) -> list[SpanEntry]:
    return [e for e in tree.spans if e.call is not None and e.call.kind in ("inference", "embeddings")]


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, roots_carry_totals=True, parts_within=True) for s in CHAT_ONLY}


def test_every_source_was_captured_for_every_scenario() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        assert TRUTH[s]["sources"] == [s]
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS[s]), s
        capture_lines_are(s, SCENARIOS[s])


def test_the_gaps_are_real() -> None:
    for (s, sc, k), v in GAPS.items():
        t = TRUTH[s]["scenarios"][sc]
        assert {**t, "unread": t["usage_unsent"]}[k] != v, (s, sc, k)


@pytest.mark.parametrize("source", SOURCES)
def test_every_call_is_two_spans_of_two_instrumentations(source: str) -> None:
    """Each model call is reported twice: one span of each instrumentation, the one a report of the other (the
    client-side span kept), side by side or parent and child as the libraries make them; no span is left over."""
    pairs, nested = PAIRS[source]
    for scenario, tree in trees(source):
        by_id = {e.span_id: e for e in tree.spans}
        spans = model_calls(tree)
        kept = [e for e in spans if e.call.report_of is None]  # type: ignore[union-attr]
        reports = [e for e in spans if e.call.report_of is not None]  # type: ignore[union-attr]
        assert len(reports) == len(kept) and len(spans) == 2 * len(kept), scenario
        assert len({e.call.report_of for e in reports}) == len(reports), scenario  # type: ignore[union-attr]
        for r in reports:
            k = by_id[r.call.report_of]  # type: ignore[union-attr]
            assert (r.scope.name, k.scope.name) in pairs, (scenario, r.view.name)
            assert (k.parent_id == r.span_id) == nested, (scenario, r.view.name)
            assert not r.call.counted, (scenario, r.view.name)  # type: ignore[union-attr]


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in CHAT_ONLY for sc in SCENARIOS[s]])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], truth(source, scenario)
    assert_totals(got, want)
    assert got["models"] == [m[0] for m in want["models"]], "request model of each call"
    assert got["served"] == [m[1] for m in want["models"]], "served model of each call"
    assert got["finish_reasons"] == want["finish_reasons"]
    assert got["providers"] == {"openai"}


@pytest.mark.parametrize("scenario", SCENARIOS[LIT_V2])
def test_openlit_and_openai_v2_count_chat_and_embeddings_once(scenario: str) -> None:
    """The embed scenarios' chat and embeddings calls, each under two client spans: OpenLIT's inner span counts,
    with its cache reads (the v2 span names none) and finish reasons."""
    t = truth(LIT_V2, scenario)
    calls = counted(LIT_V2, scenario)
    assert len(calls) == t["calls"] - t["failed"] - t["unread"]
    assert token_sums(calls) == {k: t[k] for k in TOKENS}
    assert [e.call.request_model for e in calls] == [m for m, _ in t["models"]]  # type: ignore[union-attr]
    assert {e.scope.name for e in calls} <= {LIT_OPENAI}
    assert [r for e in calls if e.call.kind == "inference" for r in e.call.finish_reasons] == t["finish_reasons"]  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_the_roots_carry_the_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        t = truth(source, scenario)
        assert len(calls) == t["calls"] - t["failed"] - t["unread"], scenario


@pytest.mark.parametrize("source", SOURCES)
def test_errors_count_once(source: str) -> None:
    """The 429 and the 500: two failed calls, each an error span of either instrumentation, one a report of the
    other; no usage, nothing counted."""
    failed_in_errors(source, SCENARIOS[source])
    for scenario, tree in trees(source):
        errors = [e for e in model_calls(tree) if e.call.error]  # type: ignore[union-attr]
        assert not any(e.call.counted or e.call.has_usage for e in errors)  # type: ignore[union-attr]
        kinds = sorted(e.call.kind for e in errors if e.call.report_of is None)  # type: ignore[union-attr]
        want = ["embeddings", "inference"] if source == LIT_V2 else ["inference", "inference"]
        assert kinds == (want if scenario == "errors" else []), scenario
        assert len(errors) == 2 * len(kinds), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_only_the_duplicate_is_one_request_twice(source: str) -> None:
    """The kept span reads the messages (its own, or its twin's): within a trace no two counted calls share a
    fingerprint but the duplicate scenario's identical requests (the chat call twice; OpenLIT's: the embeddings)."""
    for scenario, tree in trees(source):
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        fps = [fingerprint(e, e.call) for e in calls]  # type: ignore[arg-type]
        same = [(a.call.kind, a.call.input_tokens) for i, a in enumerate(calls)  # type: ignore[union-attr]
                for j, b in enumerate(calls) if i < j and fps[i][0] == fps[j][0]]
        dup = [("embeddings", 7)] if source == LIT_V2 else [("inference", 520)]
        assert same == (dup if scenario == "duplicate" else []), scenario


@pytest.mark.parametrize("source", [OI_LC_V2, TL_LC_OI])
def test_a_stream_sent_no_usage_is_one_call(source: str) -> None:
    """Neither span of a stream without usage holds a count: the pair is one call, unread (the client span kept,
    a stream, with the finish reasons of either), not two calls beside each other."""
    (tree,) = [t for sc, t in trees(source) if sc == "stream_no_usage"]
    spans = model_calls(tree)
    kept = [e for e in spans if e.call.report_of is None]  # type: ignore[union-attr]
    assert len(spans) == 4 and len(kept) == 2
    assert not any(e.call.has_usage or e.call.counted for e in spans)  # type: ignore[union-attr]
    assert [e.call.streaming for e in kept] == [True, True]  # type: ignore[union-attr]
    assert [e.call.finish_reasons for e in kept] == [("stop",), ("length",)]  # type: ignore[union-attr]
