"""Real spans carrying OpenInference's context attributes, and pydantic-ai's newest instrumentation data format,
over the fake OpenAI Chat Completions and Anthropic Messages servers, counted against their ground truth
(tests/normalize/gen/ctx/generate.py made the data files; versions in its requirements.txt and in ctx-truth.json).

* ``openinference-sessions-openai``: openinference-instrumentation-openai 0.1.66 over openai 3.57, every scenario
  inside openinference-instrumentation 0.1.72 ``using_attributes(session_id=..., user_id=..., metadata=...,
  tags=...)``: each ``ChatCompletion`` span carries ``session.id`` / ``user.id`` / ``metadata`` / ``tag.tags``
  (openinference/instrumentation/context_attributes.py get_attributes_from_context). tokenwatch reads
  ``session.id`` as the conversation (pipeline/enrich/factory.py CONVERSATION_KEYS): two traces of one session
  asking the identical request are a cross-tree duplicate; ``user.id`` is a principal, never a metric label, and
  is pseudonymized where the privacy rules say so.
* ``pydantic-ai-v6-openai`` / ``pydantic-ai-v6-anthropic``: pydantic-ai-slim 2.68 with
  ``InstrumentationSettings(version=6)``, the highest its models/instrumented.py accepts (the existing
  pydantic-ai-* captures are its default, 5): tool results go out as ``role='tool'`` messages.

The truth keeps each API's own counts (OpenAI ``input`` with the cache; Anthropic ``uncached_input``); the
semantic conventions' input, checked here, includes cache reads and writes.
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
from tests.normalize.captured import assert_totals, capture_lines_are, counted_once, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "ctx-truth.json").read_text())
SESSIONS, PAI_OA, PAI_AN = "openinference-sessions-openai", "pydantic-ai-v6-openai", "pydantic-ai-v6-anthropic"
SOURCES = [SESSIONS, PAI_OA, PAI_AN]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
USER = TRUTH[SESSIONS]["user"]
#: the semantic conventions' finish reasons each library writes for the API's own (OpenInference passes
#: OpenAI's through; pydantic_ai/models/openai.py _CHAT_FINISH_REASON_MAP, models/anthropic.py _FINISH_REASON_MAP)
FINISH = {SESSIONS: {"stop": "stop", "length": "length", "tool_calls": "tool_calls"},
          PAI_OA: {"stop": "stop", "length": "length", "tool_calls": "tool_call"},
          PAI_AN: {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_call"}}


def truth(source: str, scenario: str) -> dict[str, Any]:
    t = dict(TRUTH[source]["scenarios"][scenario])
    if source == PAI_AN:
        t["input"] = t["uncached_input"] + t["cache_read"] + t["cache_write"]
        t["reasoning"] = 0
        t["finish_reasons"] = t["stop_reasons"]
    t["finish_reasons"] = [FINISH[source][f] for f in t["finish_reasons"]]
    return t


#: nothing the servers sent is missing from these spans
GAPS: dict[tuple[str, str, str], Any] = {}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(truth(source, scenario), GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        capture_lines_are(s, SCENARIOS)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    api = "anthropic" if source == PAI_AN else "openai"
    assert_totals(got, want)
    assert got["providers"] == ({api} if want["calls"] else set()), "every call names its provider"
    assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each call"
    assert sorted(got["served"]) == sorted(s for _, s in want["models"]), "served model of each call"
    chat = "claude-haiku-4-5" if api == "anthropic" else "gpt-4o-mini"
    assert got["failed_models"] == [chat] * want["failed"], "request model of each failed call"
    assert sorted(got["finish_reasons"]) == sorted(want["finish_reasons"]), "finish reasons"
    if scenario == "streaming":
        assert got["streamed"] == [True, True]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read", "cache_write"))
        want = expected(source, scenario)
        assert len(calls) == want["calls"] - want["failed"], scenario


def test_pydantic_ai_v6_sends_tool_results_as_tool_messages() -> None:
    """What makes these captures v6 (models/instrumented.py _otel_message_role): the tool result's message role."""
    for source in (PAI_OA, PAI_AN):
        text = (DATA / f"{source}.jsonl").read_text().splitlines()[SCENARIOS.index("tool_use")]
        assert '\\"role\\":\\"tool\\"' in text, source
    old = (DATA / "pydantic-ai-openai.jsonl").read_text().splitlines()[SCENARIOS.index("tool_use")]
    assert '\\"role\\":\\"tool\\"' not in old


def test_sessions_and_users_land_on_every_call() -> None:
    for scenario, tree in trees(SESSIONS):
        calls = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert calls, scenario
        for e in calls:
            assert e.attrs.get("session.id") == f"sess-{scenario}" and e.attrs.get("user.id") == USER
            assert e.call.conversation_id == f"sess-{scenario}"  # type: ignore[union-attr]


def _chain() -> ProcessorChain:
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    return ProcessorChain(stages)


def _again(tmp_path: Path, scenario: str, session: str | None) -> list[Any]:
    """The scenario's trace, then the same requests in a new trace (new ids) of the same session, or, with
    ``session`` None, of no session at all."""
    line = next(x for x in (DATA / f"{SESSIONS}.jsonl").read_text().splitlines() if json.loads(x)["scenario"] == scenario)
    first = json.loads(line)
    second = json.loads(line)
    for rs in second["otlp"]["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                s["traceId"] = "f" * 32
                s["spanId"] = "e" + s["spanId"][1:]
                if s.get("parentSpanId"):
                    s["parentSpanId"] = "e" + s["parentSpanId"][1:]
                if session is None:
                    s["attributes"] = [a for a in s["attributes"] if a["key"] != "session.id"]
    if session is None:
        for rs in first["otlp"]["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    s["attributes"] = [a for a in s["attributes"] if a["key"] != "session.id"]
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    out = trees_of(path)
    _chain().process_many([t for _, t in out])
    return [t for _, t in out]


def _dups(tree: Any) -> int:
    return sum(1 for e in tree.spans if e.get(semconv.WASTE_REASON) == "duplicate")


def test_a_session_asking_again_in_a_new_trace_is_a_duplicate(tmp_path: Path) -> None:
    """session.id is the conversation: the healthy trace's two requests asked again in a second trace of the same
    session are two duplicates; without the session (no conversation key) the two traces are unrelated."""
    first, second = _again(tmp_path, "healthy", "sess-healthy")
    assert (_dups(first), _dups(second)) == (0, 2)
    first, second = _again(tmp_path, "healthy", None)
    assert (_dups(first), _dups(second)) == (0, 0)


def test_the_user_is_pseudonymized_where_the_privacy_rules_say(monkeypatch: pytest.MonkeyPatch) -> None:
    """``privacy.pseudonymize: [user.id]``: no span leaves with OpenInference's user.id as sent, the same user gets
    the same pseudonym in every trace; with drop_content the prompts go too, the session stays."""
    from otel_tokenwatch.config.build import build
    from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
    from otel_tokenwatch.pipeline.enrich.factory import FACTORY
    from otel_tokenwatch.pipeline.tree import encode_spans

    monkeypatch.setenv("TW_CTX_KEY", "ctx-key" * 4)
    stage = FACTORY.create(build(EnrichConfig, {"privacy": {"pseudonymize": ["user.id"], "key_env": "TW_CTX_KEY",
                                                            "drop_content": True}}, "processors.enrich"),
                           ProcessorContext(state=MemoryStore()))
    seen = set()
    for _, tree in trees_of(DATA / f"{SESSIONS}.jsonl"):
        stage.process(tree)
        out = encode_spans(tree.spans)
        assert USER.encode() not in out and b"Where is order A-1001?" not in out
        for e in tree.spans:
            if e.view.name == "ChatCompletion":
                v = str(e.attrs["user.id"])
                assert v.startswith("hmac-sha256:")
                seen.add(v)
                assert str(e.attrs["session.id"]).startswith("sess-")
    assert len(seen) == 1


def test_no_user_and_no_session_in_any_metric_label() -> None:
    """Real spans through the real stages: the scrape names neither the user nor a session."""
    from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
    from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

    tel = SelfTelemetry()
    try:
        chain, m = _chain(), GenAIMetrics(tel)
        for _, tree in trees_of(DATA / f"{SESSIONS}.jsonl"):
            chain.process_many([tree])
            m.record_tree(tree)
        text = tel.prometheus_text().decode()
        assert "tokenwatch_calls_total" in text
        assert "user-4711" not in text and "acme.example" not in text and "sess-" not in text
    finally:
        tel.shutdown()
