"""Real Vercel AI SDK spans over the Google and Amazon Bedrock providers, counted against the fake server's truth.

Captured by tests/normalize/gen/js4/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake Gemini / Bedrock Runtime server of tests/normalize/gen/js4/fake_server.py;
the served requests are the truth (js4-truth.json, one convention: input includes the cache, output the
reasoning):

* ``vercel-ai-v5-google``: ai 5.0.277 over @ai-sdk/google 2.0.108, legacy ``ai.*`` telemetry
  (``experimental_telemetry``): per call an ``ai.generateText.doGenerate`` / ``ai.streamText.doStream`` span under
  ``ai.generateText`` / ``ai.streamText`` (scope ``ai``); its usage is Google's candidates without the thoughts,
  the cache and thoughts only in ``ai.response.providerMetadata`` (read by dialects._vercel_google_usage);
* ``vercel-ai-google``: ai 7.0.173 over @ai-sdk/google 4.0.121, @ai-sdk/otel 1.0.173 ``OpenTelemetry``
  (defaults): ``chat {model}`` under ``invoke_agent {model}`` (scope ``gen_ai``);
* ``vercel-ai-bedrock``: ai 7.0.173 over @ai-sdk/amazon-bedrock 5.0.101 (Converse), same telemetry.

The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import (
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "js4-truth.json").read_text())
SOURCES = ["vercel-ai-v5-google", "vercel-ai-google", "vercel-ai-bedrock"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = {"vercel-ai-v5-google": "ai", "vercel-ai-google": "gen_ai", "vercel-ai-bedrock": "gen_ai"}
PROVIDER = {"vercel-ai-v5-google": "gcp.gemini", "vercel-ai-google": "gcp.gemini", "vercel-ai-bedrock": "aws.bedrock"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # @ai-sdk/otel 1.0.173 dist/index.js OpenTelemetry onStepEnd / onGenerateEnd write gen_ai.usage.input_tokens,
    # output_tokens, cache_read / cache_creation.input_tokens only; the thoughts (usage.outputTokenDetails
    # .reasoningTokens) go nowhere unless the app turns on the ``usage`` supplemental attribute
    # (``ai.response.usage``), off by default. They are still inside output_tokens (@ai-sdk/google 4.0.121
    # convertGoogleUsage: outputTokens.total = candidates + thoughts), so only the split is lost
    ("vercel-ai-google", "cached", "reasoning"): 0,
}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source][scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


@pytest.mark.parametrize("source", SOURCES)
def test_every_scenario_was_captured(source: str) -> None:
    capture_lines_are(source, SCENARIOS)
    assert sorted(TRUTH[source]) == sorted(SCENARIOS)
    assert {e.scope.name for _, t in trees(source) for e in t.spans} == {"fixgen.app", SCOPE[source]}


def test_the_sources_ran_the_same_answers() -> None:
    def answers(s: str, drop: tuple[str, ...]) -> dict[str, Any]:
        return {sc: [{k: v for k, v in r.items() if k not in ("route", "model", *drop)} for r in t["requests"]]
                for sc, t in TRUTH[s].items()}
    assert answers("vercel-ai-v5-google", ()) == answers("vercel-ai-google", ())
    # Bedrock: the same but for its cache (a write, then reads) and no thoughts
    skip = ("input", "cache_read", "cache_write", "output", "reasoning")
    assert answers("vercel-ai-google", skip) == answers("vercel-ai-bedrock", skip)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got = results[source][scenario]
    assert_totals(got, expected(source, scenario))
    served = [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    assert got["models"] == served, "request model of each successful call"
    assert got["providers"] == {PROVIDER[source]}, "provider of each call"


def test_cache_and_thoughts_are_read_per_call() -> None:
    """Input includes the cache (Gemini's promptTokenCount does; Bedrock's inputTokens does not, the provider adds
    it), output includes the thoughts (ai 5 + @ai-sdk/google 2 report candidatesTokenCount alone)."""
    for source in SOURCES:
        got = [(e.call.input_tokens, e.call.cache_read_tokens or 0, e.call.cache_write_tokens or 0,
                e.call.output_tokens, e.call.reasoning_tokens or 0) for e in counted(source, "cached")]
        want = [(r["input"], r["cache_read"], r["cache_write"], r["output"],
                 0 if (source, "cached", "reasoning") in GAPS else r["reasoning"])
                for r in TRUTH[source]["cached"]["requests"]]
        assert got == want, source
    assert TRUTH["vercel-ai-v5-google"]["cached"]["requests"][-1]["output"] == 96  # 32 candidates + 64 thoughts
    assert TRUTH["vercel-ai-bedrock"]["cached"]["cache_write"] == 1152


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    calls = {"ai": ("ai.generateText.doGenerate", "ai.streamText.doStream"), "gen_ai": ("chat ",)}[SCOPE[source]]
    for scenario, tree in trees(source):
        for e in counted_once(tree, ("input", "output")):
            assert e.view.name.startswith(calls) and e.scope.name == SCOPE[source], (scenario, e.view.name)
    assert len(failed_in_errors(source, SCENARIOS)) == 2


@pytest.mark.parametrize("source", SOURCES)
def test_streams_finish_reasons_and_prompts(source: str) -> None:
    def ordered(scenario: str) -> list[Any]:
        return [e.call for e in sorted(counted(source, scenario), key=lambda e: int(e.view.start_time_unix_nano))]
    stream = ordered("streaming")
    assert [c.streaming for c in stream] == [True, True]
    assert [c.max_tokens for c in stream] == [None, 16]
    assert [r for c in stream for r in c.finish_reasons] == ["stop", "length"]
    assert ordered("tool_use")[0].finish_reasons == ("tool-calls",)
    dup = [(c.system_content, c.input_content) for c in ordered("duplicate")]
    assert len(dup) == 2 and dup[0] == dup[1] and (dup[0][0] or "").startswith("You are a support assistant for ACME.")
    healthy = [c.input_content or "" for c in ordered("healthy")]
    assert "Where is order A-1001?" in healthy[0] and "And order A-1002?" in healthy[1]
    tool = [c.input_content or "" for c in ordered("tool_use")]
    assert "in transit" in tool[1] and "in transit" not in tool[0]  # the tool's answer, as the model got it
