"""Real spans of instrumented Anthropic SDK calls (tests/normalize/data/anthropic-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/anthropic/generate.py against a fake Messages API (versions in its
requirements*.txt): Traceloop's opentelemetry-instrumentation-anthropic, Arize's
openinference-instrumentation-anthropic and openlit, each alone, the anthropic SDK's own tracing alone
(anthropic >= 2 traces its calls once a TracerProvider is set), and the first two again with the SDK's tracing
left on, as an application gets them: two spans per call, counted once. The fake server's answers are the truth
(anthropic-truth.json): Anthropic's ``input_tokens`` leaves cache reads and writes out, the semantic conventions'
input includes them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

GEN = Path(__file__).parent / "gen" / "anthropic"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "anthropic-truth.json").read_text())["scenarios"]
SOURCES = ["anthropic-sdk", "anthropic-openllmetry", "anthropic-openinference", "anthropic-openlit",
           "anthropic-openllmetry-sdk", "anthropic-openinference-sdk"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
TRUNCATION = {"length", "max_tokens"}

#: what a source's spans say wrongly, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # opentelemetry-instrumentation-anthropic 0.62.4 streaming.py _process_response_item adds message_delta's
    # usage.output_tokens (cumulative, the final count) to message_start's placeholder (1, as the API sends
    # and its docs show): every streamed call reads one output token too many. With the SDK's own span beside
    # it (anthropic-openllmetry-sdk) that span counts and the total is right.
    ("anthropic-openllmetry", "streaming", "output"): 264 + 2,
}


def test_data_files_are_there() -> None:
    assert sorted(SCENARIOS) == sorted(TRUTH)
    for source in SOURCES:
        capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    truth = TRUTH[scenario]
    calls = counted(source, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output"))
    want = {"input": truth["uncached_input"] + truth["cache_read"] + truth["cache_write"],
            "cache_read": truth["cache_read"], "cache_write": truth["cache_write"], "output": truth["output"]}
    for field, value in list(want.items()):
        want[field] = GAPS.get((source, scenario, field), value)
    assert got == want
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "anthropic" and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0) + (c.cache_write_tokens or 0)
    assert sorted(e.call.request_model for e in calls) == sorted(m for m, _ in truth["models"])  # type: ignore[union-attr]
    assert sorted(e.call.response_model for e in calls) == sorted(s for _, s in truth["models"])  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_agrees_call_for_call(source: str) -> None:
    """Per call (in start order): the same input, cache and output as the SDK's own span, gaps aside."""
    for scenario in SCENARIOS:
        mine = [(c.input_tokens, c.cache_read_tokens or 0, c.cache_write_tokens or 0, c.request_model)
                for c in (e.call for e in counted(source, scenario)) if c is not None]
        ref = [(c.input_tokens, c.cache_read_tokens or 0, c.cache_write_tokens or 0, c.request_model)
               for c in (e.call for e in counted("anthropic-sdk", scenario)) if c is not None]
        assert mine == ref, (source, scenario)


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced (max_retries=0): two failed calls, each reported once although the *-sdk sources
    have two error spans per request, and OpenLIT's error spans have no attribute at all."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == TRUTH["errors"]["failed"] == 2
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        ("anthropic", "claude-haiku-4-5")] * 2


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "cache_read", "cache_write"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        # OpenInference keeps the message id only inside output.value (the response JSON)
        assert len(ids) == (0 if source == "anthropic-openinference" else len(calls)), scenario


@pytest.mark.parametrize("source", SOURCES)
def test_stop_reasons_and_streaming(source: str) -> None:
    """The max_tokens stop is seen as truncation in every source (the SDK's own span names it only in
    ``anthropic.message.stop_reason``); tool_use turns and end_turn are not."""
    for scenario in SCENARIOS:
        truth = TRUTH[scenario]["stop_reasons"]
        got = [e.call.finish_reasons for e in counted(source, scenario)]  # type: ignore[union-attr]
        assert len(got) == len(truth)
        assert [any(r.lower() in TRUNCATION for r in rs) for rs in got] == [t == "max_tokens" for t in truth]
        assert all(rs for rs in got), (scenario, got)
    streamed = [e.call.streaming for e in counted(source, "streaming")]  # type: ignore[union-attr]
    if source != "anthropic-openllmetry":  # Traceloop sets gen_ai.is_streaming on create(stream=True) only
        assert streamed == [True, True]
    assert not any(e.call.streaming for sc in ("healthy", "cached", "duplicate")  # type: ignore[union-attr]
                   for e in counted(source, sc))


@pytest.mark.parametrize("source", ["anthropic-openllmetry-sdk", "anthropic-openinference-sdk"])
def test_library_and_sdk_spans_count_once_in_any_order(source: str, tmp_path: Path) -> None:
    """The same runs with every span list reversed (a collector may batch them so): each call still counts
    once, and where the two spans disagree (Traceloop's streamed placeholder token) the SDK's own span counts."""
    lines = []
    for line in (DATA / f"{source}.jsonl").read_text().splitlines():
        d = json.loads(line)
        for rs in d["otlp"]["resourceSpans"]:
            rs["scopeSpans"].reverse()
            for ss in rs["scopeSpans"]:
                ss["spans"].reverse()
        lines.append(json.dumps(d))
    (tmp_path / "reversed.jsonl").write_text("\n".join(lines) + "\n")
    stage = NormalizeProcessor(NormalizeConfig())
    got: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rec in read(tmp_path / "reversed.jsonl"):
        asm = Assembler(AssembleConfig())
        asm.add(rec.request, 0.0, None)  # type: ignore[arg-type]
        for t in asm.flush(0.0, "flush"):
            stage.process(t)
            for e in t.spans:
                if e.call is not None and e.call.counted:
                    if rec.meta["scenario"] == "streaming":  # where the two disagree, the inner SDK span counts
                        assert e.scope.name == "com.anthropic.sdk.python"
                    r = got[str(rec.meta["scenario"])]
                    r[0] += 1
                    r[1] += e.call.input_tokens or 0
                    r[2] += e.call.output_tokens or 0
    assert dict(got) == {k: [v["calls"] - v["failed"], v["uncached_input"] + v["cache_read"] + v["cache_write"],
                             v["output"]] for k, v in TRUTH.items()}


def test_openlit_reported_cost_matches_its_pricing_file() -> None:
    """OpenLIT prices Anthropic's uncached input, cache reads and writes apart (openlit __helpers.py
    get_chat_model_cost, prices per 1K tokens): the reported cost agrees with our cache-inclusive input only
    when the cache is taken out of it again."""
    prices = json.loads((GEN / "openlit_pricing.json").read_text())["chat"]
    checked = 0
    for scenario in SCENARIOS:
        for e in counted("anthropic-openlit", scenario):
            c = e.call
            assert c is not None and c.cost_source == "reported" and c.cost_usd is not None
            p = {k: Decimal(str(v)) for k, v in prices[c.request_model].items()}
            read_, write = c.cache_read_tokens or 0, c.cache_write_tokens or 0
            want = ((c.input_tokens or 0) - read_ - write) * p["promptPrice"] + read_ * p["cacheReadPrice"] \
                + write * p["cacheCreationPrice"] + (c.output_tokens or 0) * p["completionPrice"]
            assert abs(c.cost_usd - want / 1000) < Decimal("1e-9"), (scenario, c)
            checked += 1
    assert checked == sum(t["calls"] - t["failed"] for t in TRUTH.values())


def test_scenario_totals_are_what_the_generator_chose() -> None:
    """The truth file itself: the numbers generate.py scripted (so a silently changed re-run shows)."""
    by = {k: (v["calls"], v["failed"], v["uncached_input"], v["cache_read"], v["cache_write"], v["output"])
          for k, v in TRUTH.items()}
    assert by == {"healthy": (2, 0, 2000, 0, 0, 240), "cached": (3, 0, 10040, 17920, 8960, 330),
                  "streaming": (2, 0, 1200, 4096, 0, 264), "tool_use": (3, 0, 2070, 0, 0, 155),
                  "errors": (3, 2, 400, 0, 0, 60), "duplicate": (2, 0, 1800, 0, 0, 160)}
    per_source: dict[str, int] = defaultdict(int)
    for source in SOURCES:
        for scenario in SCENARIOS:
            per_source[source] += len(counted(source, scenario))
    assert set(per_source.values()) == {13}
