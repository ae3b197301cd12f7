"""Gemini CLI 0.61.0, captured for real (tests/agents/gen/gemini-cli), through the real service.

Ground truth is what the fake Gemini API answered (tests/agents/data/gemini-cli-truth.json), not what the
telemetry says. Token meaning (Gemini API ``UsageMetadata``): ``promptTokenCount`` includes
``cachedContentTokenCount``; ``candidatesTokenCount`` excludes ``thoughtsTokenCount``; ``toolUsePromptTokenCount``
is input outside ``promptTokenCount`` (``totalTokenCount`` = prompt + candidates + toolUsePrompt + thoughts). Gemini
CLI copies them to ``gemini_cli.api_response`` ``input_token_count`` / ``cached_content_token_count`` /
``output_token_count`` / ``thoughts_token_count`` / ``tool_token_count`` (packages/core/src/telemetry/types.ts
``ApiResponseEvent``) and to ``gemini_cli.token.usage`` (CUMULATIVE) types input/cache/output/thought/tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.otlp.wire import key_values_to_dict
from tests.agents import captured
from tests.conftest import running, wait_for

CAPTURE = captured.DATA / "gemini-cli-0.61.0.jsonl"
TRUTH = captured.truth("gemini-cli")
SCENARIOS = ["healthy", "tool_loop", "errors", "cached"]
#: Gemini CLI adds ``user.email`` to every record when signed in with Google (packages/core/src/telemetry/
#: telemetryAttributes.ts ``getCommonAttributes``: ``...email && {"user.email": email}``); the capture used an
#: API key, so it is added here the way an OAuth login would send it
EMAIL = "dev.fixture@example.com"


def _lines() -> list[dict[str, Any]]:
    return captured.lines(CAPTURE)


def _events() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for ln in _lines():
        if ln["signal"] != "logs":
            continue
        for rl in ln["otlp"]["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                for lr in sl["logRecords"]:
                    a = {kv["key"]: next(iter(kv["value"].values()), None) for kv in lr.get("attributes", [])}
                    out.append((ln["scenario"], a))
    return out


def _sessions() -> dict[str, str]:
    """scenario -> the session.id Gemini CLI gave it (each scenario is one headless run)."""
    return {sc: str(a["session.id"]) for sc, a in _events() if a.get("event.name") == "gemini_cli.user_prompt"}


def _unlogged(sc: str) -> list[dict[str, Any]]:
    """Answers of the fake API that no api_response event carries (matched by their distinctive counts)."""
    seen = {(int(a["input_token_count"]), int(a["output_token_count"])) for s, a in _events()
            if s == sc and a.get("event.name") == "gemini_cli.api_response"}
    return [x for x in TRUTH[sc]["answers"] if x["status"] == 200
            and (x["promptTokenCount"], x["candidatesTokenCount"]) not in seen]


def _with_email(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return captured.with_attributes(lines, [{"key": "user.email", "value": {"stringValue": EMAIL}}])


def _visible(sc: str) -> dict[str, int]:
    """The truth minus what Gemini CLI's telemetry cannot carry (see the tool_loop gap below)."""
    t = dict(TRUTH[sc])
    for x in _unlogged(sc):
        t["calls"] -= 1
        t["input_tokens"] -= x["promptTokenCount"] + x["toolUsePromptTokenCount"]
        t["output_tokens"] -= x["candidatesTokenCount"] + x["thoughtsTokenCount"]
        t["cache_read_tokens"] -= x["cachedContentTokenCount"]
    return t


@pytest.fixture(scope="module")
def sessions() -> dict[str, str]:
    return _sessions()


def test_capture_is_one_session_per_scenario(sessions: dict[str, str]) -> None:
    captured.check_one_session_per_scenario(sessions, SCENARIOS, TRUTH)
    inst = {sc: a["installation.id"] for sc, a in _events() if a.get("installation.id")}
    assert len(set(inst.values())) == len(SCENARIOS)  # one throwaway HOME per scenario
    assert {x["scenario"] for x in _lines()} == set(SCENARIOS)
    assert b"/tmp/gemcap" not in CAPTURE.read_bytes() and b"/app/repo-healthy" in CAPTURE.read_bytes()  # paths -> /app


def test_tool_loop_gap_is_the_aborted_streams_only() -> None:
    """GAP (tool_loop): the fake API answered 6 identical tool calls, the telemetry shows 4.

    Gemini CLI checks every stream chunk for a loop (packages/core/src/core/client.ts ``processTurn``:
    ``loopDetector.addAndCheck(event)`` then ``break``), which abandons the stream before geminiChat.ts logs its
    ``ApiResponseEvent`` (logged once the stream is consumed), and ``gemini_cli.token.usage`` is recorded from the
    same place: the 5th answer (first detection, ``loop_detected``, then a recovery turn) and the 6th (second
    detection, abort) were sent and billed but exist in no event, metric or span. Nothing can count them.
    """
    lost = _unlogged("tool_loop")
    assert [x["promptTokenCount"] for x in lost] == [3105, 3106]
    assert [a.get("loop_type") for sc, a in _events() if a.get("event.name") == "loop_detected"] == \
        ["consecutive_identical_tool_calls"] * 2
    for sc in ("healthy", "errors", "cached"):
        assert _unlogged(sc) == [], sc  # every other answer is in an api_response event


async def test_full_pipeline_counts_each_scenario_once(tmp_path: Path, sessions: dict[str, str]) -> None:
    out = tmp_path / "traces.jsonl"
    got, text = await captured.replay(tmp_path, out, _with_email(_lines()), sessions.values(), timeout=30,
                                      settle=0.5, tree_idle="200ms", session_idle="500ms")
    for sc, sid in sessions.items():
        t, a = _visible(sc), got[sid]
        assert a["tokenwatch.trace.input_tokens"].int_value == t["input_tokens"], sc  # incl. cache + tool-use
        assert a["tokenwatch.trace.output_tokens"].int_value == t["output_tokens"], sc  # incl. thoughts
        assert a["tokenwatch.trace.cache_read_tokens"].int_value == t["cache_read_tokens"], sc
        # the Gemini API reports no cache writes (implicit caching has no creation count)
        assert a["tokenwatch.trace.cache_write_tokens"].int_value == 0 == t["cache_write_tokens"], sc
        # one gemini_cli.api_error event per failed attempt (429, 500): a failed chat span each, billed nothing,
        # so not in the counted calls (tokenwatch.trace.failed_calls counts billed failures only)
        assert a["tokenwatch.trace.calls"].int_value == t["calls"] - t["failed_calls"], sc
        assert a["tokenwatch.trace.failed_calls"].int_value == 0, sc
        chats = [s for s in captured.children(out, sid) if s.name.startswith("chat ")]
        assert len(chats) == t["calls"], sc
        assert sum(s.status.code == 2 for s in chats) == t["failed_calls"], sc
        models = {key_values_to_dict(s.attributes).get("gen_ai.request.model") for s in captured.children(out, sid)
                  if key_values_to_dict(s.attributes).get("gen_ai.operation.name") == "chat"}
        assert models == set(t["models"]), sc  # router (flash-lite) + main model
    assert TRUTH["errors"]["failed_calls"] == 2 and TRUTH["cached"]["tool_use_prompt_tokens"] == 7
    errs = captured.metric_total(text, "tokenwatch_calls_total", 'status="error"')
    assert errs == sum(t["failed_calls"] for t in TRUTH.values()) == 2  # 429 then 500
    reasons = {sc: got[sid]["tokenwatch.trace.top_reason"].string_value for sc, sid in sessions.items()}
    assert [sc for sc, r in reasons.items() if r == "loop"] == ["tool_loop"], reasons
    total = sum(_visible(sc)["input_tokens"] + _visible(sc)["output_tokens"] for sc in SCENARIOS)
    counted = captured.metric_total(text, "tokenwatch_tokens_total")
    assert counted == total, "events, metrics and spans carry the same tokens: counted once"
    inst = {str(a["installation.id"]) for _, a in _events() if a.get("installation.id")}
    assert inst and "tokenwatch_" in text
    for secret in inst | {EMAIL}:
        assert secret not in text, secret


async def test_metrics_only_counts_cumulative_points_once(tmp_path: Path, sessions: dict[str, str]) -> None:
    """Metrics alone: gemini_cli.token.usage is CUMULATIVE (the errors run exported it twice): last value per series."""
    lines = [x for x in _lines() if x["signal"] == "metrics"]
    assert sum('"gemini_cli.token.usage"' in json.dumps(x) for x in lines if x["scenario"] == "errors") == 2
    got, _ = await captured.replay(tmp_path, tmp_path / "traces.jsonl", lines, sessions.values(), timeout=20,
                                   agents=("metrics",))
    for sc, sid in sessions.items():
        a, t = got[sid], _visible(sc)
        assert a["tokenwatch.trace.input_tokens"].int_value == t["input_tokens"], sc
        assert a["tokenwatch.trace.output_tokens"].int_value == t["output_tokens"], sc
        assert a["tokenwatch.trace.cache_read_tokens"].int_value == t["cache_read_tokens"], sc


async def test_drop_content_leaves_no_prompt_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_KEY", "k" * 32)
    cfg = captured.agent_config(tmp_path, tmp_path / "t.jsonl",
                                enrich=captured.privacy("user.id", "installation.id", "user.email"))
    metrics = [x for x in _lines() if x["signal"] == "metrics"]
    # the headless prompt is in argv, and argv is on every resource (process.command_args)
    assert all("AFX-SCENARIO" in json.dumps(x["otlp"]["resourceMetrics"][0]["resource"]) for x in metrics)
    lines = _with_email([x for x in _lines() if x["signal"] == "logs"])
    raw = json.dumps(lines).encode()
    for text in (b"AFX-SCENARIO", b"List the files", b"Done: the repository", b"run_shell_command"):
        assert text in raw  # present in the capture, so the checks below can fail
    n_in = sum(len(sl["logRecords"]) for x in lines for rl in x["otlp"]["resourceLogs"] for sl in rl["scopeLogs"])
    logs_file = tmp_path / "logs.jsonl"
    metrics_file = tmp_path / "metrics.jsonl"

    def n_metrics() -> int:
        return metrics_file.read_bytes().count(b"\n") if metrics_file.exists() else 0

    async with running(cfg) as svc:
        await captured.post(svc, lines + metrics, tmp_path)
        await wait_for(lambda: captured.forwarded_log_count(logs_file, tmp_path) >= n_in
                       and n_metrics() >= len(metrics))
    assert b"AFX-SCENARIO" not in metrics_file.read_bytes()  # resource command line removed from metrics too
    assert b"gemini_cli.token.usage" in metrics_file.read_bytes()  # and the metrics themselves kept
    forwarded = logs_file.read_bytes()
    assert b"AFX-SCENARIO" not in forwarded  # user_prompt prompt, request_text, gen_ai.input.messages
    assert b"List the files" not in forwarded
    assert b"Done: the repository" not in forwarded  # response_text, gen_ai.output.messages
    assert b'\\"command\\": \\"ls\\"' not in forwarded and b'"command":"ls"' not in forwarded  # function_args
    assert EMAIL.encode() not in forwarded
    assert b"hmac-sha256:" in forwarded
