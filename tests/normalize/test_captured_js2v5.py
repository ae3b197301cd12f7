"""Real spans from Langfuse JS v5, counted against the fake server's ground truth, beside js2's v4.

Captured by tests/normalize/gen/js2v5/generate.py (Node.js; versions pinned in its package.json /
package-lock.json): the app of ``langfuse-js-openai`` (tests/normalize/gen/js2/generate.mjs, the same script)
over the newest release, against the fake OpenAI server of tests/normalize/gen/vercel_ai/fake_server.py; the
served requests are the truth (js2v5-truth.json, one convention: input includes the cache, output the
reasoning):

* ``langfuse-js-openai-5``: @langfuse/openai 5.11.1 observeOpenAI over openai 6.32.0, exported by @langfuse/otel
  5.11.1 with its default export filter: one ``OpenAI.chat`` / ``OpenAI.responses`` generation per call (scope
  ``langfuse-sdk``, version 5.11.1), usage in langfuse.observation.usage_details with every detail split out of
  input / output, as in v4 (tests/normalize/test_captured_js2.py).

What changed from v4: @langfuse/otel 5.11.1 dist/index.mjs LangfuseSpanProcessor's ``shouldExportSpan`` defaults
to isDefaultExportSpan (isLangfuseSpan: scope ``langfuse-sdk``; isGenAISpan: a ``gen_ai.*`` attribute;
isKnownLLMInstrumentor: KNOWN_LLM_INSTRUMENTATION_SCOPE_PREFIXES), and processEndedSpan drops every other span:
the app's ``workflow`` root (scope fixgen.app) is never exported. Each generation keeps its parent id, which
points at no span, and markAppRootCandidate (onStart: expected to be exported, parent not) sets
``langfuse.internal.is_app_root`` on it: @langfuse/core 5.11.1 dist/index.d.ts ``isRootObservation``, "true for
observations without a physical parent and observations marked as app roots by the SDK". Tree.root() takes the
earliest span whose parent is missing, so the counts and the trace totals read as v4's (captured.py
``app_root_exported=False``); what the app's root carried (app.workflow, app.outcome) is gone, and the workflow is
named by the first generation's span name (test_the_workflow_and_outcome_without_the_apps_root).

The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import trees_of
from tests.normalize.captured import (
    app_root,
    assert_totals,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

DATA = Path(__file__).parent / "data"
SOURCE = "langfuse-js-openai-5"
V4 = "langfuse-js-openai"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "js2v5-truth.json").read_text())[SOURCE]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, app_root_exported=False)


def test_every_scenario_was_captured_without_the_apps_root(results: dict[str, Any]) -> None:
    assert sorted(TRUTH) == sorted(results) == sorted(SCENARIOS)
    # the same app asked the same as v4's and was served the same
    assert TRUTH == json.loads((DATA / "js2-truth.json").read_text())[V4]
    for scenario, tree in trees(SOURCE):
        # only Langfuse's generations were exported: the fixgen.app root is dropped by the default filter
        assert {(e.scope.name, e.scope.scope.version) for e in tree.spans} == {("langfuse-sdk", "5.11.1")}, scenario
        assert all(e.get("langfuse.observation.type") == "generation" for e in tree.spans), scenario
        # every generation was the top of what Langfuse got (markAppRootCandidate), under the one missing parent
        assert all(e.get("langfuse.internal.is_app_root") is True for e in tree.spans), scenario
        root = app_root(tree, exported=False)
        assert root.view.name in ("OpenAI.chat", "OpenAI.responses"), scenario
    # v4's capture of the same app had the root, and no app-root marks
    for scenario, tree in trees(V4):
        assert app_root(tree).scope.name == "fixgen.app", scenario
        assert not any("langfuse.internal.is_app_root" in e.attrs for e in tree.spans), scenario


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], with_gaps(TRUTH[scenario], {}, SOURCE, scenario, unread=0)
    assert_totals(got, want)
    served = [r["model"] for r in TRUTH[scenario]["requests"] if r["status"] == 200]
    assert sorted(got["models"]) == sorted(served), "request model of each successful call"
    # as in v4: @langfuse/openai 5.11.1 dist/index.mjs wrapMethod starts the generation with model, input,
    # modelParameters, prompt and metadata only; no key names the provider
    assert got["providers"] == {None}, "provider of each call"
    assert got["scopes"] <= {"langfuse-sdk"}


def test_each_call_reads_as_v4s() -> None:
    """Call by call, in start order, v5's generations read as v4's: tokens (the usage details added back into
    input and output), cache and reasoning, models, stream flag and max tokens, finish reasons (none: v5's
    parseCompletionOutput keeps no finish_reason either), error, and the captured prompts."""
    def calls(source: str) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for scenario, tree in trees(source):
            rows = sorted((int(e.view.start_time_unix_nano), e) for e in tree.spans
                          if e.call is not None and e.call.kind == "inference")
            out[scenario] = [(e.view.name, c.counted, c.error, c.input_tokens, c.cache_read_tokens, c.output_tokens,
                              c.reasoning_tokens, c.request_model, c.streaming, c.max_tokens, c.finish_reasons,
                              c.system_content, c.input_content)
                             for _, e in rows for c in [e.call] if c is not None]
        return out

    v5, v4 = calls(SOURCE), calls(V4)
    assert v5 == v4
    assert [r[3:7] for r in v5["cached"]] == [(1300, None, 30, None), (1310, 1152, 28, None), (1320, 1280, 96, 64)]
    assert [r[8:11] for r in v5["streaming"]] == [(True, None, ()), (True, 16, ())]


def test_nothing_counted_twice() -> None:
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "output", "cache_read"), app_root_exported=False)
        assert all(e.call is not None and e.call.kind == "inference" for e in calls), scenario
    assert len(failed_in_errors(SOURCE, SCENARIOS)) == 2
    dup = [(e.call.system_content, e.call.input_content) for e in counted(SOURCE, "duplicate")]  # type: ignore[union-attr]
    assert len(dup) == 2 and dup[0][1] and dup[0] == dup[1]


def _chain_over(source: str) -> dict[str, Any]:
    """scenario -> (workflow, its source, outcome, its source, waste reasons) after the whole default chain."""
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    out: dict[str, Any] = {}
    for scenario, tree in trees_of(DATA / f"{source}.jsonl"):
        chain.process_many([tree])
        root = tree.root()
        assert root is not None
        reasons = sorted(str(e.get(semconv.WASTE_REASON)) for e in tree.spans if e.get(semconv.WASTE_REASON))
        out[scenario] = (root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE), root.get(semconv.OUTCOME),
                         root.get(semconv.OUTCOME_SOURCE), reasons)
    return out


#: the workflow names the generator gave (workflowOf: app.workflow on the ``workflow`` root)
APP_WORKFLOW = {"healthy": "support-chat", "cached": "cached-support", "streaming": "streamed-replies",
                "tool_use": "order-agent", "errors": "flaky-upstream", "duplicate": "dup"}
WASTE = {"errors": ["failed_call", "failed_call"], "duplicate": ["duplicate"]}


def test_the_workflow_and_outcome_without_the_apps_root() -> None:
    """What enrich and score make of the trees. v4: the app's root names the workflow (app.workflow, the
    default ``workflow.attributes``) and the errors scenario's outcome (app.outcome ``gave_up``: abandoned).
    v5: the root never arrives, and nothing on the generations names a workflow: no ``langfuse.trace.name``
    (@langfuse/core 5.11.1 propagateAttributes({traceName}) writes it on the spans started inside, and
    @langfuse/openai 5.11.1 wrapMethod passes observeOpenAI's own ``traceName`` / ``sessionId`` / ``userId`` /
    ``tags`` to it; this app, v4's, gives neither), no session or user id, no trace metadata; so the workflow falls
    to the root's span name, the first generation's default name (``${sdk.constructor.name}.${prop}``)
    ``OpenAI.chat``, in every scenario. That is also what Langfuse names such a trace (the root observation's
    name, and an app root is one: isRootObservation above). An app that wants its own names gives ``traceName``
    (read as ``langfuse.trace.name``, first of resolve.WELL_KNOWN_WORKFLOW_KEYS) or sets
    ``processors.enrich.workflow.rules``. A failed call's generation keeps its status unset (wrapMethod's
    catch writes langfuse.observation.level ``ERROR`` and a status message), so no outcome is named. The waste
    is v4's: the failed calls and the identical request twice."""
    v4, v5 = _chain_over(V4), _chain_over(SOURCE)
    assert sorted(v4) == sorted(v5) == sorted(SCENARIOS)
    for scenario in SCENARIOS:
        outcome = ("abandoned", "attribute:app.outcome") if scenario == "errors" else ("unknown", "default")
        assert v4[scenario] == (APP_WORKFLOW[scenario], "app.workflow", *outcome, WASTE.get(scenario, [])), scenario
        assert v5[scenario] == ("OpenAI.chat", "root_span_name", "unknown", "default",
                                WASTE.get(scenario, [])), scenario
