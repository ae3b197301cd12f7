"""Coding-agent telemetry replayed over OTLP: sessions counted once, scored, private."""

from __future__ import annotations

import asyncio
import gzip
from collections import defaultdict
from pathlib import Path

import aiohttp
import grpc
import pytest

from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.otlp.wire import key_values_to_dict
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch

AGENTS = Path(FIXTURES) / "coding-agents"
PATHS = {"logs": "/v1/logs", "metrics": "/v1/metrics", "traces": "/v1/traces"}
METHODS = {"logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
           "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
           "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export"}


def event_truth(name: str) -> dict[str, tuple[int, int]]:
    """session id -> (input incl. cache, output incl. thoughts), summed from the events by hand."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for rec in read(AGENTS / name):
        if rec.signal != "logs":
            continue
        for rl in rec.request.resource_logs:  # type: ignore[attr-defined]
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    a = key_values_to_dict(lr.attributes)
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
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "200ms"}, "normalize": None,
                                               "enrich": None, "score": None,
                                               "agents": {"session_idle": "500ms"}},
                         traces_processors=["assemble", "normalize", "enrich", "score"],
                         exporters={"file": {"path": str(out)}}, metrics_logs=True)
    cfg["service"]["pipelines"]["logs"]["processors"] = ["agents"]
    cfg["service"]["pipelines"]["metrics"]["processors"] = ["agents"]  # metrics repeat the events: not added
    records = [r for r in read(AGENTS / name)]
    async with running(cfg) as svc:
        if transport == "grpc":
            async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
                for r in records:
                    await ch.unary_unary(METHODS[r.signal])(r.request.SerializeToString(), timeout=10)
        else:
            async with aiohttp.ClientSession() as http:
                for r in records:
                    async with http.post(http_endpoint(svc) + PATHS[r.signal],
                                         data=gzip.compress(r.request.SerializeToString()),
                                         headers={"Content-Type": "application/x-protobuf",
                                                  "Content-Encoding": "gzip"}) as resp:
                        assert resp.status == 200
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
    roots = {}
    for _, _, s in by_span_id(read_file(out)).values():
        a = strip_tokenwatch(s)[1]
        if "tokenwatch.agent.tool" in a:
            sid = key_values_to_dict(s.attributes)["gen_ai.conversation.id"]
            roots[sid] = a
    assert set(truth) <= set(roots)
    for sid in set(roots) - set(truth):  # sessions whose every request failed: no tokens
        assert roots[sid]["tokenwatch.trace.tokens"].int_value == 0
    for sid, (inp, outp) in truth.items():
        a = roots[sid]
        assert a["tokenwatch.trace.input_tokens"].int_value == inp, sid
        assert a["tokenwatch.trace.output_tokens"].int_value == outp, sid
    if name == "claude-code.jsonl":  # the cost Claude Code reported is the cost counted
        cost: dict[str, float] = defaultdict(float)
        for r in records:
            if r.signal == "logs":
                for rl in r.request.resource_logs:  # type: ignore[attr-defined]
                    for sl in rl.scope_logs:
                        for lr in sl.log_records:
                            a = key_values_to_dict(lr.attributes)
                            if a.get("event.name") == "api_request":
                                cost[a["session.id"]] += float(a["cost_usd"])
        for sid, usd in cost.items():
            assert abs(roots[sid]["tokenwatch.trace.cost_usd"].double_value - usd) < 1e-9, sid
    total = sum(i + o for i, o in truth.values())
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("tokenwatch_tokens_total{"))
    assert counted == total, "tokens must be counted once, from the events"
    # Claude Code hides failed attempts in one llm_request span: api_errors attempt=4 (3 hidden), api_fail
    # attempt=3 (2 hidden; its last failure is also an api_error event)
    if name == "claude-code.jsonl":
        hidden = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                     if line.startswith("tokenwatch_calls_total{") and 'waste_reason="retry"' in line
                     and 'status="error"' in line)
        assert hidden == 5
    reasons = {sid: a["tokenwatch.trace.top_reason"].string_value for sid, a in roots.items()}
    assert "loop" in reasons.values() and "suspected_inflation" in reasons.values()
    healthy = [a for a in roots.values() if a["tokenwatch.trace.waste_score"].double_value == 0.0]
    assert healthy
    # privacy: no user or installation id, no prompt text anywhere it should not be
    ids = set()
    for r in records:
        if r.signal == "logs":
            for rl in r.request.resource_logs:  # type: ignore[attr-defined]
                for sl in rl.scope_logs:
                    for lr in sl.log_records:
                        a = key_values_to_dict(lr.attributes)
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
    n_in = sum(len(sl.log_records) for r in records if r.signal == "logs"
               for rl in r.request.resource_logs for sl in rl.scope_logs)  # type: ignore[attr-defined]
    n_out = sum(len(sl.log_records) for r in read(logs_file) if r.signal == "logs"
                for rl in r.request.resource_logs for sl in rl.scope_logs)  # type: ignore[attr-defined]
    assert n_out == n_in  # lossless


async def test_events_follow_the_privacy_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_KEY", "k" * 32)
    cfg = service_config(tmp_path, processors={"assemble": None, "normalize": None, "score": None,
                                               "enrich": {"privacy": {"drop_content": True, "pseudonymize": ["user.id"],
                                                                      "key_env": "TW_KEY"}},
                                               "agents": {"session_idle": "300ms"}},
                         traces_processors=["assemble", "normalize", "enrich", "score"],
                         exporters={"file": {"path": str(tmp_path / "t.jsonl")}}, metrics_logs=True)
    cfg["service"]["pipelines"]["logs"]["processors"] = ["agents"]
    records = [r for r in read(AGENTS / "claude-code.jsonl") if r.signal == "logs"]
    async with running(cfg) as svc:
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            for r in records:
                await ch.unary_unary(METHODS["logs"])(r.request.SerializeToString(), timeout=10)
        logs_file = tmp_path / "logs.jsonl"
        n_in = sum(len(sl.log_records) for r in records for rl in r.request.resource_logs  # type: ignore[attr-defined]
                   for sl in rl.scope_logs)

        def n_out() -> int:
            if not logs_file.exists():
                return 0
            data = logs_file.read_bytes()
            snap = tmp_path / "snap.jsonl"
            snap.write_bytes(data[:data.rfind(b"\n") + 1])
            return sum(len(sl.log_records) for r in read(snap) if r.signal == "logs"
                       for rl in r.request.resource_logs for sl in rl.scope_logs)  # type: ignore[attr-defined]

        await wait_for(lambda: n_out() >= n_in)
    out = logs_file.read_bytes()
    assert b"AFX-SCENARIO" not in out and b"hmac-sha256:" in out
    user_ids = {str(key_values_to_dict(lr.attributes).get("user.id")) for r in records
                for rl in r.request.resource_logs for sl in rl.scope_logs for lr in sl.log_records}  # type: ignore[attr-defined]
    assert not any(u.encode() in out for u in user_ids - {"None"})


@pytest.mark.parametrize("name", ["claude-code.jsonl", "gemini-cli.jsonl"])
async def test_metrics_only_sessions_are_counted_from_metrics(tmp_path: Path, name: str) -> None:
    """A set-up that exports only the tools' metrics still gets each session's tokens, once."""
    out = tmp_path / "traces.jsonl"
    cfg = service_config(tmp_path, processors={"assemble": None, "normalize": None, "enrich": None, "score": None,
                                               "agents": {"session_idle": "300ms"}},
                         traces_processors=["assemble", "normalize", "enrich", "score"],
                         exporters={"file": {"path": str(out)}}, metrics_logs=True)
    cfg["service"]["pipelines"]["metrics"]["processors"] = ["agents"]
    records = [r for r in read(AGENTS / name) if r.signal == "metrics"]
    async with running(cfg) as svc:
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            for r in records:
                await ch.unary_unary(METHODS["metrics"])(r.request.SerializeToString(), timeout=10)
        truth = event_truth(name)

        def roots() -> dict[str, object]:
            got = {}
            for _, _, s in by_span_id(read_file(out)).values():
                a = strip_tokenwatch(s)[1]
                if "tokenwatch.agent.tool" in a:
                    got[key_values_to_dict(s.attributes)["gen_ai.conversation.id"]] = a
            return got

        await wait_for(lambda: set(truth) <= set(roots()), timeout=20)
    got = roots()
    for sid, (inp, outp) in truth.items():
        a = got[sid]
        assert a["tokenwatch.trace.input_tokens"].int_value == inp, sid  # type: ignore[index]
        assert a["tokenwatch.trace.output_tokens"].int_value == outp, sid  # type: ignore[index]
