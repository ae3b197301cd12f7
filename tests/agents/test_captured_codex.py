"""A real OpenAI Codex CLI capture replayed through the service: counted once against the fake API's truth.

Data: tests/agents/data/codex-<version>.jsonl (``codex exec`` headless, OTLP/HTTP logs+metrics+traces),
truth: tests/agents/data/codex-truth.json (what the fake Responses API answered), made by
tests/agents/gen/codex/ (run.sh, fake_server.py, config.toml, VERSION).

What Codex telemetry carries (codex-rs/otel ``src/events/session_telemetry.rs``, as captured):
* logs (scope ``codex_otel.log_only``, service.name ``codex_exec``): ``codex.sse_event`` for *every* SSE
  event (``log_sse_event``: ``event.kind`` + ``duration_ms``, no tokens), plus one more ``codex.sse_event``
  ``event.kind=response.completed`` with ``input_token_count`` (incl. cached), ``cached_token_count``,
  ``cache_write_token_count``, ``output_token_count`` (incl. reasoning), ``reasoning_token_count``
  (``sse_event_completed``); ``codex.api_request`` per HTTP attempt (``http.response.status_code``,
  ``attempt``, ``error.message``); ``codex.user_prompt`` (``prompt`` with ``log_user_prompt = true``);
  ``codex.tool_decision``; ``codex.tool_result``. Session = ``conversation.id``. No user id with API-key
  auth: ``user.account_id`` / ``user.email`` are only set with ChatGPT login (``self.metadata.account_id``
  / ``account_email``), so the privacy test adds them the way that path would.
* metrics (scope ``codex``): ``codex.turn.token_usage`` histogram by ``token_type`` — but its points carry
  no ``conversation.id`` (only app.version, model, originator, session_source, tmp_mem_enabled): a
  metrics-only Codex setup cannot be split into sessions (gap pinned below).
* traces: internal spans (``codex.sampling``, ``handle_responses``, ...), no GenAI usage attributes.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.otlp.wire import key_values_to_dict
from tests.agents import captured
from tests.conftest import running, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch

VERSION = (Path(__file__).parent / "gen" / "codex" / "VERSION").read_text().strip()
CAPTURE = captured.DATA / f"codex-{VERSION}.jsonl"
TRUTH = captured.truth("codex")
ACCOUNT, EMAIL = "acct-7f3e9b21-codex-fixture", "dev.person@example.com"


def _scenarios() -> dict[str, str]:
    """conversation.id -> scenario, from the capture's own log lines."""
    out: dict[str, str] = {}
    for line in CAPTURE.read_text().splitlines():
        rec = json.loads(line)
        if rec["signal"] != "logs":
            continue
        for rl in rec["otlp"]["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                for lr in sl["logRecords"]:
                    for kv in lr.get("attributes", []):
                        if kv["key"] == "conversation.id":
                            out[kv["value"]["stringValue"]] = rec["scenario"]
    return out


def _records(with_account: bool) -> list[Any]:
    recs = list(read(CAPTURE))
    if with_account:  # what ChatGPT-login sessions add to every event (session_telemetry.rs metadata)
        for r in recs:
            if r.signal == "logs":
                for rl in r.request.resource_logs:
                    for sl in rl.scope_logs:
                        for lr in sl.log_records:
                            lr.attributes.add(key="user.account_id").value.string_value = ACCOUNT
                            lr.attributes.add(key="user.email").value.string_value = EMAIL
    return recs


async def _replay(tmp_path: Path, privacy: dict[str, Any] | None, with_account: bool = False
                  ) -> tuple[dict[str, dict[str, Any]], str, bytes, dict[str, list[Any]]]:
    out = tmp_path / "traces.jsonl"
    enrich = {"privacy": privacy} if privacy else None
    cfg = captured.agent_config(tmp_path, out, tree_idle="200ms", enrich=enrich,
                       session_idle="3s")  # a slow replay must not split a session
    records = _records(with_account)
    n_in = sum(1 for _ in captured.log_records(records))
    sessions = _scenarios()
    logs_file = tmp_path / "logs.jsonl"

    def roots() -> dict[str, dict[str, Any]]:
        got = {}
        for _, _, s in by_span_id(read_file(out)).values():
            if "tokenwatch.agent.tool" in strip_tokenwatch(s)[1] and not s.parent_span_id:
                got[key_values_to_dict(s.attributes)["gen_ai.conversation.id"]] = {kv.key: kv.value
                                                                                   for kv in s.attributes}
        return got

    def n_out() -> int:
        return captured.forwarded_log_count(logs_file, tmp_path)

    async with running(cfg) as svc:
        await captured.post_records(svc, records)
        await wait_for(lambda: set(sessions) <= set(roots()), timeout=30)
        await wait_for(lambda: n_out() >= n_in, timeout=30)
        await asyncio.sleep(0.3)
        text = svc.telemetry.prometheus_text().decode()
    assert n_out() == n_in  # lossless
    got = roots()
    trace_of = {s.trace_id: sid for sid in got for _, _, s in by_span_id(read_file(out)).values()
                if not s.parent_span_id and key_values_to_dict(s.attributes).get("gen_ai.conversation.id") == sid}
    children: dict[str, list[Any]] = defaultdict(list)
    for _, _, s in by_span_id(read_file(out)).values():
        if s.parent_span_id and s.trace_id in trace_of:
            children[trace_of[s.trace_id]].append(s)
    return got, text, logs_file.read_bytes(), children


async def test_codex_capture_counted_once_against_the_fake_api(tmp_path: Path) -> None:
    roots, text, forwarded, children = await _replay(tmp_path, None)
    sessions = _scenarios()
    assert sorted(sessions.values()) == sorted(TRUTH)  # one conversation per scenario: grouped by conversation.id
    for sid, sc in sessions.items():
        t, a = TRUTH[sc], roots[sid]
        assert a["tokenwatch.agent.tool"].string_value == "codex", sc
        # Responses API semantics, kept by Codex: input includes cache read+write, output includes reasoning
        assert a["tokenwatch.trace.input_tokens"].int_value == t["input_tokens"], sc
        assert a["tokenwatch.trace.output_tokens"].int_value == t["output_tokens"], sc
        assert a["tokenwatch.trace.cache_read_tokens"].int_value == t["cache_read_tokens"], sc
        assert a["tokenwatch.trace.cache_write_tokens"].int_value == t["cache_write_tokens"], sc
        assert a["tokenwatch.trace.reasoning_tokens"].int_value == t["reasoning_tokens"], sc
        # calls: one per model response (the per-SSE-event response.completed log is not a second call);
        # each failed HTTP attempt (codex.api_request 429 / 500) is a failed call that billed nothing
        assert a["tokenwatch.trace.calls"].int_value == t["calls"], sc
        inference = [s for s in children[sid] if s.name.startswith("chat ")]
        assert len(inference) == t["calls"] + t["failed_calls"], sc
        assert sum(s.status.code == 2 for s in inference) == t["failed_calls"], sc
        assert sum(s.name.startswith("execute_tool ") for s in children[sid]) == t["tool_calls"], sc
        assert {s.name for s in inference} == {f"chat {t['model']}"}, sc
    total = sum(t["input_tokens"] + t["output_tokens"] for t in TRUTH.values())
    counted = captured.metric_total(text, "tokenwatch_tokens_total")
    assert counted == total, "tokens counted once: events only, codex.turn.token_usage not added"
    ok, failed = (captured.metric_total(text, "tokenwatch_calls_total", without=('status="error"',)),
                  captured.metric_total(text, "tokenwatch_calls_total", 'status="error"'))
    assert ok == sum(t["calls"] for t in TRUTH.values())
    assert failed == sum(t["failed_calls"] for t in TRUTH.values()) == 2  # 429 then 500
    models = {line.split('model="', 1)[1].split('"', 1)[0] for line in text.splitlines()
              if line.startswith("tokenwatch_tokens_total{") and 'model="' in line}
    assert models == {t["model"] for t in TRUTH.values()}
    by_sc = {sc: roots[sid] for sid, sc in sessions.items()}
    assert by_sc["tool_loop"]["tokenwatch.trace.top_reason"].string_value == "loop"
    assert by_sc["healthy"]["tokenwatch.trace.top_reason"].string_value != "loop"
    assert by_sc["cached"]["tokenwatch.trace.top_reason"].string_value != "loop"
    assert b"AFX-SCENARIO" in forwarded and b"tokenwatch.agent.tool" in forwarded
    marked = sum(any(kv.key == "tokenwatch.usage.counted" for kv in lr.attributes)
                 for lr in captured.log_records(read(tmp_path / "logs.jsonl")))
    assert marked == sum(t["calls"] for t in TRUTH.values())  # one usage record per response, marked once


async def test_codex_capture_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ChatGPT-login identity never reaches metric labels; with drop_content no prompt text is forwarded."""
    monkeypatch.setenv("TW_KEY", "k" * 32)
    roots, text, forwarded, _ = await _replay(
        tmp_path, {"drop_content": True, "pseudonymize": ["user.id", "user.account_id", "user.email"],
                   "key_env": "TW_KEY"}, with_account=True)
    assert set(_scenarios()) <= set(roots)
    for sid in _scenarios():  # the ChatGPT account is never made the session's principal (unseen-versions test)
        assert not any(ACCOUNT in str(v) or EMAIL in str(v) for v in roots[sid].values()), sid
    assert ACCOUNT not in text and EMAIL not in text  # not in any metric label
    assert ACCOUNT.encode() not in forwarded and EMAIL.encode() not in forwarded
    assert b"AFX-SCENARIO" not in forwarded and b"List the files" not in forwarded
    keys = {kv.key for lr in captured.log_records(read(tmp_path / "logs.jsonl")) for kv in lr.attributes}
    assert "conversation.id" in keys and "input_token_count" in keys  # the events themselves stay
    assert not keys & {"prompt", "arguments", "output"}  # codex.user_prompt / codex.tool_result content


def test_codex_metrics_carry_no_session() -> None:
    """Gap, pinned: ``codex.turn.token_usage`` points carry no conversation id (codex-rs/otel metrics are
    tagged with app.version, model, originator, session_source only), so without the events a Codex
    session cannot be told apart; the histogram's sums still equal the fake API's totals."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    ids = {"conversation.id", "session.id", "thread.id", "gen_ai.conversation.id"}
    for line in CAPTURE.read_text().splitlines():
        rec = json.loads(line)
        if rec["signal"] != "metrics":
            continue
        for rm in rec["otlp"]["resourceMetrics"]:
            res = {kv["key"] for kv in rm["resource"].get("attributes", [])}
            for sm in rm["scopeMetrics"]:
                for m in sm["metrics"]:
                    if m["name"] != "codex.turn.token_usage":
                        continue
                    for dp in m["histogram"]["dataPoints"]:
                        a = {kv["key"]: kv["value"].get("stringValue") for kv in dp.get("attributes", [])}
                        assert not ids & (set(a) | res), a
                        sums[rec["scenario"]][str(a["token_type"])] += dp["sum"]
    for sc, t in TRUTH.items():
        assert sums[sc]["input"] == t["input_tokens"], sc
        assert sums[sc]["cached_input"] == t["cache_read_tokens"], sc
        assert sums[sc]["cache_write_input"] == t["cache_write_tokens"], sc
        assert sums[sc]["output"] == t["output_tokens"], sc
        assert sums[sc]["reasoning_output"] == t["reasoning_tokens"], sc


async def test_codex_traces_only_counted_once(tmp_path: Path) -> None:
    """Codex's own spans: ``handle_responses`` carries ``gen_ai.usage.input_tokens`` (incl. cached),
    ``gen_ai.usage.cache_read/cache_write.input_tokens``, ``gen_ai.usage.output_tokens`` (incl. reasoning,
    ``codex.usage.reasoning_output_tokens`` beside it), one span per response (codex-rs core
    ``session/turn.rs``, captured). With ``agent_tokens_from: spans`` (a traces-only set-up) they are the
    calls, counted once; by default (first test) they are left uncounted in favour of the events."""
    out = tmp_path / "traces.jsonl"
    cfg = captured.agent_config(tmp_path, out, tree_idle="300ms", normalize={"agent_tokens_from": "spans"},
                                session_idle=None)
    records = [r for r in read(CAPTURE) if r.signal == "traces"]
    total = sum(t["input_tokens"] + t["output_tokens"] for t in TRUTH.values())

    def counted(text: str) -> float:
        return captured.metric_total(text, "tokenwatch_tokens_total")

    async with running(cfg) as svc:
        await captured.post_records(svc, records, compress=False)
        await wait_for(lambda: counted(svc.telemetry.prometheus_text().decode()) >= total, timeout=8)
        await asyncio.sleep(1.0)
        text = svc.telemetry.prometheus_text().decode()
    assert counted(text) == total
    calls = captured.metric_total(text, "tokenwatch_calls_total")
    assert calls == sum(t["calls"] for t in TRUTH.values())  # failed attempts leave no span with usage
