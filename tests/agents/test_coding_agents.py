"""Coding-agent telemetry replayed over OTLP: sessions counted once, scored, private."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path

import pytest

from otel_tokenwatch.otlp.files import read
from tests.agents import captured
from tests.conftest import FIXTURES, running, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch

AGENTS = Path(FIXTURES) / "coding-agents"


def event_truth(name: str) -> dict[str, tuple[int, int]]:
    """session id -> (input incl. cache, output incl. thoughts), summed from the events by hand."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in captured.log_attributes(read(AGENTS / name)):
        ev = a.get("event.name")
        if ev == "api_request":  # Claude Code: Anthropic input excludes cache
            out[a["session.id"]][0] += sum(int(a[k]) for k in ("input_tokens", "cache_read_tokens",
                                                               "cache_creation_tokens"))
            out[a["session.id"]][1] += int(a["output_tokens"])
        elif ev == "gemini_cli.api_response":  # Gemini: output excludes thoughts
            out[a["session.id"]][0] += int(a["input_token_count"])
            out[a["session.id"]][1] += int(a["output_token_count"]) + int(a["thoughts_token_count"])
    return {k: (v[0], v[1]) for k, v in out.items()}


@pytest.mark.parametrize("name,transport", [("claude-code.jsonl", "grpc"), ("gemini-cli.jsonl", "http")])
async def test_sessions_scored_counted_once_and_private(tmp_path: Path, name: str, transport: str) -> None:
    out = tmp_path / "traces.jsonl"
    # the agents stage on logs and on metrics: metrics repeat the events, not added
    cfg = captured.agent_config(tmp_path, out, tree_idle="200ms", session_idle="500ms")
    records = [r for r in read(AGENTS / name)]
    async with running(cfg) as svc:
        if transport == "grpc":
            await captured.send_grpc(svc, records)
        else:
            await captured.post_records(svc, records)
        sessions = {k for k in event_truth(name)}
        await wait_for(lambda: len({strip_tokenwatch(s)[1].get("tokenwatch.agent.tool") is not None and
                                    s.trace_id for _, _, s in by_span_id(read_file(out)).values()
                                    if not s.parent_span_id} - {False}) >= len(sessions), timeout=30)
        await asyncio.sleep(0.3)
        text = svc.telemetry.prometheus_text().decode()
        logs_file = tmp_path / "logs.jsonl"
        await wait_for(lambda: logs_file.exists() and logs_file.stat().st_size > 0)
    truth = event_truth(name)
    # per session: tokens from the events, counted once (the tool's spans and metrics are not added)
    got = captured.roots(out)
    assert set(truth) <= set(got)
    for sid in set(got) - set(truth):  # sessions whose every request failed: no tokens
        assert got[sid]["tokenwatch.trace.tokens"].int_value == 0
    for sid, (inp, outp) in truth.items():
        a = got[sid]
        assert a["tokenwatch.trace.input_tokens"].int_value == inp, sid
        assert a["tokenwatch.trace.output_tokens"].int_value == outp, sid
    if name == "claude-code.jsonl":  # the cost Claude Code reported is the cost counted
        cost: dict[str, float] = defaultdict(float)
        for a in captured.log_attributes(records):
            if a.get("event.name") == "api_request":
                cost[a["session.id"]] += float(a["cost_usd"])
        for sid, usd in cost.items():
            assert abs(got[sid]["tokenwatch.trace.cost_usd"].double_value - usd) < 1e-9, sid
    total = sum(i + o for i, o in truth.values())
    counted = captured.metric_total(text, "tokenwatch_tokens_total")
    assert counted == total, "tokens must be counted once, from the events"
    # Claude Code hides failed attempts in one llm_request span: api_errors attempt=4 (3 hidden), api_fail
    # attempt=3 (2 hidden; its last failure is also an api_error event)
    if name == "claude-code.jsonl":
        hidden = captured.metric_total(text, "tokenwatch_calls_total", 'waste_reason="retry"', 'status="error"')
        assert hidden == 5
    reasons = {sid: a["tokenwatch.trace.top_reason"].string_value for sid, a in got.items()}
    assert "loop" in reasons.values() and "suspected_inflation" in reasons.values()
    healthy = [a for a in got.values() if a["tokenwatch.trace.waste_score"].double_value == 0.0]
    assert healthy
    # privacy: no user or installation id, no prompt text anywhere it should not be
    ids = set()
    for a in captured.log_attributes(records):
        ids |= {str(a[k]) for k in ("user.id", "installation.id") if a.get(k)}
    assert ids and not any(i in text for i in ids)
    session_traces = {s.trace_id for _, _, s in by_span_id(read_file(out)).values()
                      if "tokenwatch.agent.tool" in strip_tokenwatch(s)[1]}
    for _, _, s in by_span_id(read_file(out)).values():  # session traces carry no prompt text
        if s.trace_id in session_traces:
            assert b"AFX-SCENARIO" not in s.SerializeToString(), s.name
    forwarded = logs_file.read_bytes()
    assert b"AFX-SCENARIO" in forwarded  # without content removal the events keep their prompts
    assert b"tokenwatch.agent.tool" in forwarded  # and are marked with the tool
    n_in = sum(1 for _ in captured.log_records(records))
    n_out = sum(1 for _ in captured.log_records(read(logs_file)))
    assert n_out == n_in  # lossless


async def test_events_follow_the_privacy_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_KEY", "k" * 32)
    cfg = captured.agent_config(tmp_path, tmp_path / "t.jsonl", agents=("logs",), enrich=captured.privacy("user.id"))
    records = [r for r in read(AGENTS / "claude-code.jsonl") if r.signal == "logs"]
    async with running(cfg) as svc:
        await captured.send_grpc(svc, records)
        logs_file = tmp_path / "logs.jsonl"
        n_in = sum(1 for _ in captured.log_records(records))
        await wait_for(lambda: captured.forwarded_log_count(logs_file, tmp_path) >= n_in)
    out = logs_file.read_bytes()
    assert b"AFX-SCENARIO" not in out and b"hmac-sha256:" in out
    user_ids = {str(a.get("user.id")) for a in captured.log_attributes(records)}
    assert not any(u.encode() in out for u in user_ids - {"None"})


@pytest.mark.parametrize("name", ["claude-code.jsonl", "gemini-cli.jsonl"])
async def test_metrics_only_sessions_are_counted_from_metrics(tmp_path: Path, name: str) -> None:
    """A set-up that exports only the tools' metrics still gets each session's tokens, once."""
    out = tmp_path / "traces.jsonl"
    cfg = captured.agent_config(tmp_path, out, agents=("metrics",))
    records = [r for r in read(AGENTS / name) if r.signal == "metrics"]
    async with running(cfg) as svc:
        await captured.send_grpc(svc, records)
        truth = event_truth(name)
        await wait_for(lambda: set(truth) <= set(captured.roots(out)), timeout=20)
    got = captured.roots(out)
    for sid, (inp, outp) in truth.items():
        a = got[sid]
        assert a["tokenwatch.trace.input_tokens"].int_value == inp, sid
        assert a["tokenwatch.trace.output_tokens"].int_value == outp, sid
