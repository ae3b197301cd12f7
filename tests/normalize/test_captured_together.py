"""Real spans of the Together AI Python SDK (together 1.6.0) under OpenLLMetry and OpenLIT, counted against the fake
server's ground truth (tests/normalize/gen/together/generate.py made the data files; versions in its requirements.txt
and in together-truth.json):

* ``together-openllmetry``: opentelemetry-instrumentation-together 0.62.4, ``gen_ai.system`` "TogetherAI"
  (__init__.py _wrap), read as genai-prices' ``together``.
* ``together-openlit``: openlit 1.45.0's together instrumentation, ``gen_ai.provider.name`` "together", finish
  reasons as ``str()`` of together's FinishReason enum (``FinishReason.StopSequence``: "stop").

* ``fireworks-openai-v2``: OTel contrib's opentelemetry-instrumentation-openai-v2 2.4b0 over the plain OpenAI client at
  Fireworks' base URL: ``gen_ai.provider.name`` "openai", ``server.address`` "api.fireworks.ai", read as ``fireworks``
  (providers.provider_at_host).

Models (``meta-llama/Llama-3.3-70B-Instruct-Turbo``, ``accounts/fireworks/models/deepseek-v3-0324``) keep their full
name (no LiteLLM route) and are priced by genai-prices as the provider's. Input includes cache reads (the semantic conventions' meaning), output includes reasoning.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "together-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SOURCES = ["together-openllmetry", "together-openlit", "fireworks-openai-v2"]
TOGETHER = ["together-openllmetry", "together-openlit"]
#: source -> (scope of its model-call spans, provider read, model, genai-prices' price per million in and out)
SEEN = {"together-openllmetry": ("opentelemetry.instrumentation.together", "together",
                                 "meta-llama/Llama-3.3-70B-Instruct-Turbo", ("0.88", "0.88")),
        "together-openlit": ("openlit.instrumentation.together", "together",
                             "meta-llama/Llama-3.3-70B-Instruct-Turbo", ("0.88", "0.88")),
        "fireworks-openai-v2": ("opentelemetry.util.genai.handler", "fireworks",
                                "accounts/fireworks/models/deepseek-v3-0324", ("0.9", "0.9"))}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # neither reads more of the usage than prompt_tokens / completion_tokens: opentelemetry-instrumentation-together
    # 0.62.4 span_utils.py set_model_completion_attributes (``getattr(usage_data, "prompt_tokens", 0)``, the same for
    # completion_tokens), openlit 1.45.0 instrumentation/together/utils.py process_chat_response and process_chunk
    # (``.get("usage").get("prompt_tokens")`` / ``("completion_tokens")``): the cache read and the reasoning the API
    # sent stay inside input and output, unnamed
    # (chat completions: opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties and
    # ChatStreamWrapper.set_usage take prompt_tokens / completion_tokens only; prompt_tokens_details is read in
    # response_extractors.py, the Responses API's)
    **{(s, "cached", "cache_read"): 0 for s in SOURCES},
    **{(s, "tool_use", "reasoning"): 0 for s in SOURCES},
    # OpenLLMetry's wrapper ends the span when create() returns (__init__.py _wrap: ``span.end()`` right after
    # ``wrapped(...)``); for a stream that is a generator with no ``.usage`` (set_model_completion_attributes raises,
    # swallowed by @dont_throw): the streamed calls' spans hold no usage at all
    ("together-openllmetry", "streaming", "unread"): 2,
    ("together-openllmetry", "streaming", "input"): 0,
    ("together-openllmetry", "streaming", "output"): 0,
}
#: finish reasons as read: OpenLLMetry's together spans write none (span_utils.py has no finish_reason key);
#: OpenLIT's stream takes its reason from the usage chunk's top-level ``finish_reason`` only (utils.py process_chunk
#: ``str(chunked.get("finish_reason"))``), which the fake's OpenAI-shaped usage chunk does not have: "None", no reason
#: openai-v2's ChatStreamWrapper never fills its ``finish_reasons`` (patch.py: the class attribute ``[]`` is what
#: ``self.invocation.finish_reasons`` gets); the reasons go into the output messages, where they are read, and
#: tell the stream (dialects._Plan.output_finish / util_stream)
FINISH_GAPS = {"together-openllmetry": set(SCENARIOS), "together-openlit": {"streaming"}}
#: the stream flag of the two streamed calls as read
STREAMED = {"together-openllmetry": [True, True], "together-openlit": [True, True], "fireworks-openai-v2": [True, True]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_captures_and_their_truth(results: dict[str, Any]) -> None:
    """Every source was captured for every scenario, and the fake server did send cache reads, reasoning and a
    stream's usage: the gaps above are the libraries', not the captures'."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        sc = TRUTH[s]["scenarios"]
        assert sorted(sc) == sorted(results[s]) == sorted(SCENARIOS), s
        assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 128, 1340)
        assert sc["streaming"]["finish_reasons"] == ["stop", "length"], s
        assert sc["errors"]["failed"] == 2 and sc["duplicate"]["calls"] == 2, s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    scope, provider, model, _ = SEEN[source]
    assert got["scopes"] == {scope}, got["scopes"]
    assert got["providers"] == {provider}, got["providers"]  # genai-prices' id, "TogetherAI" included
    # the model keeps its "org/name" form, failed calls' too where the span names one
    assert got["models"] == [m[0] for m in want["models"]] and set(got["models"]) <= {model}
    assert set(got["failed_models"]) <= {model, None}
    assert len(failed_in_errors(source, SCENARIOS)) == 2


@pytest.mark.parametrize("source", SOURCES)
def test_priced_as_together(source: str) -> None:
    """genai-prices knows the model under its provider; OpenLIT's own ``gen_ai.usage.cost`` of 0 (no price in its
    list) is not taken for a price."""
    _, _, model, (pin, pout) = SEEN[source]
    for e in counted(source, "healthy"):
        c = e.call
        assert c is not None and c.model == model
        want = (Decimal(pin) * (c.input_tokens or 0) + Decimal(pout) * (c.output_tokens or 0)) / 1_000_000
        assert c.cost_usd == want and c.cost_source == "computed", (c.cost_usd, c.cost_source)


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS:
        want = [] if scenario in FINISH_GAPS.get(source, ()) else TRUTH[source]["scenarios"][scenario]["finish_reasons"]
        got = results[source][scenario]["finish"]
        assert [r for rs in got for r in rs] == want, scenario
        if want:
            assert [cut_by_finish_reason(rs) for rs in got] == [r == "length" for r in want], scenario
    assert results[source]["streaming"]["streamed"] == STREAMED[source]
    assert all(s is not True for sc in SCENARIOS if sc != "streaming" for s in results[source][sc]["streamed"])


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call with its own response id; the app's tool spans are tools."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        ids = [e.call.response_id for e in calls if e.call is not None]
        assert len(set(ids)) == len(ids) and all(ids), scenario
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "workflow")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)
