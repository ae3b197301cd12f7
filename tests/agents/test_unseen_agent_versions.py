"""Coding-agent telemetry as the agents document it, beyond what the captured fixtures happen to hold.

Each payload is built the way the agent emits it; the comment next to each key names where the key and
its meaning come from (the agent's own documentation or source):

* Claude Code: code.claude.com/docs/en/monitoring-usage ("Common configuration variables",
  "Token counter", "Cost counter", "API request event", "Tool result event").
* Gemini CLI: google-gemini/gemini-cli ``packages/core/src/telemetry/types.ts`` (``ApiResponseEvent``),
  ``loggers.ts`` (``logApiResponse``), ``metrics.ts`` (``gemini_cli.token.usage``), ``llmRole.ts``.
* Codex: openai/codex ``codex-rs/otel/src/events/session_telemetry.rs`` and ``events/shared/log.rs``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import ParseDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from otel_tokenwatch.agents.factory import AgentsConfig, AgentSessions
from otel_tokenwatch.agents.metrics import MetricSessions
from otel_tokenwatch.otlp.wire import encode_attributes, key_values_to_dict
from otel_tokenwatch.pipeline.enrich.privacy import RecordPrivacy
from otel_tokenwatch.pipeline.tree import Tree
from tests.agents.captured import METHODS, agent_config, metric_total, scored
from tests.conftest import grpc_endpoint, running, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch

METRICS = METHODS["metrics"]
T0 = 1_800_000_000_000_000_000


# --- helpers -----------------------------------------------------------------------------------------
def _kv(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k, v in attrs.items():
        if isinstance(v, bool):
            val: dict[str, Any] = {"boolValue": v}
        elif isinstance(v, int):
            val = {"intValue": str(v)}  # OTLP/JSON int64 is a string
        elif isinstance(v, float):
            val = {"doubleValue": v}
        else:
            val = {"stringValue": v}
        out.append({"key": k, "value": val})
    return out


def record(t_ms: int, attrs: dict[str, Any], body: str = "") -> LogRecord:
    lr = LogRecord(time_unix_nano=T0 + t_ms * 1_000_000)
    if body:
        lr.body.string_value = body
    out: LogRecord = LogRecord.FromString(lr.SerializeToString() + encode_attributes(list(attrs.items()), field=6))
    return out


def logs_request(service: str, scope: str, recs: list[LogRecord]) -> bytes:
    rl = ResourceLogs(scope_logs=[ScopeLogs(log_records=recs)])
    rl.resource.attributes.add(key="service.name").value.string_value = service
    rl.scope_logs[0].scope.name = scope
    raw: bytes = ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()
    return raw


def calls(tree: Tree) -> Iterator[Any]:
    for e in tree.spans:
        if e.get("gen_ai.operation.name") == "chat":
            yield e


# --- Claude Code: cumulative metrics -------------------------------------------------------------------
CLAUDE_SID = "5f1d2c3b-cumulative-session"
START = T0  # one process: the cumulative start time stays put


def claude_points(values: Mapping[tuple[str, str], float], t_s: int) -> list[dict[str, Any]]:
    points = []
    for (query_source, ttype), v in values.items():
        points.append({
            "startTimeUnixNano": str(START), "timeUnixNano": str(T0 + t_s * 1_000_000_000), "asDouble": v,
            "attributes": _kv({
                "user.id": "a1b2c3-anonymous-install",  # standard attribute, always included
                "session.id": CLAUDE_SID,  # standard attribute (OTEL_METRICS_INCLUDE_SESSION_ID default true)
                "terminal.type": "xterm",  # standard attribute
                "model": "claude-sonnet-5",  # Token counter / Cost counter: model
                "query_source": query_source,  # Token counter: "main", "subagent" or "auxiliary"
                **({"type": ttype} if ttype != "cost" else {}),  # input / output / cacheRead / cacheCreation
            })})
    return points


def claude_metrics(tokens: Mapping[tuple[str, str], float], cost: Mapping[str, float], t_s: int) -> bytes:
    # Claude Code with OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative ("Common configuration
    # variables": default delta, "Set to cumulative if your backend expects cumulative temporality"):
    # every export repeats each series' running total; meter scope com.anthropic.claude_code
    req = {"resourceMetrics": [{
        "resource": {"attributes": _kv({"service.name": "claude-code", "service.version": "2.1.400"})},
        "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
            {"name": "claude_code.token.usage", "unit": "tokens",
             "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                     "dataPoints": claude_points(tokens, t_s)}},
            {"name": "claude_code.cost.usage", "unit": "USD",
             "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                     "dataPoints": claude_points({(q, "cost"): v for q, v in cost.items()}, t_s)}},
        ]}]}]}
    raw: bytes = ParseDict(req, ExportMetricsServiceRequest()).SerializeToString()
    return raw


async def test_claude_cumulative_metrics_count_every_series_once(tmp_path: Path) -> None:
    out = tmp_path / "traces.jsonl"
    cfg = agent_config(tmp_path, out, agents=("metrics",))
    first = {("main", "input"): 1000, ("subagent", "input"): 300, ("main", "output"): 50,
             ("subagent", "output"): 20, ("main", "cacheRead"): 4000, ("main", "cacheCreation"): 200}
    grown = {**first, ("main", "input"): 1800, ("subagent", "input"): 500, ("main", "output"): 90,
             ("subagent", "output"): 35, ("main", "cacheRead"): 7000}
    later = {**grown, ("main", "input"): 2000, ("main", "output"): 100}

    def roots() -> dict[int, dict[str, Any]]:
        got = {}
        for _, _, s in by_span_id(read_file(out)).values():
            ours = strip_tokenwatch(s)[1]
            if "tokenwatch.agent.tool" in ours and key_values_to_dict(s.attributes)["session.id"] == CLAUDE_SID:
                got[ours["tokenwatch.agent.session_part"].int_value] = ours
        return got

    def counted(svc: Any) -> float:
        return metric_total(svc.telemetry.prometheus_text().decode(), "tokenwatch_tokens_total")

    async with running(cfg) as svc, grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
        send = ch.unary_unary(METRICS)
        await send(claude_metrics(first, {"main": 0.010, "subagent": 0.002}, 1), timeout=10)
        await send(claude_metrics(grown, {"main": 0.020, "subagent": 0.004}, 2), timeout=10)
        await wait_for(lambda: 0 in roots(), timeout=20)
        part0 = roots()[0]
        # both query_source series of one (model, type) count: their running totals add up
        assert part0["tokenwatch.trace.input_tokens"].int_value == 1800 + 500 + 7000 + 200
        assert part0["tokenwatch.trace.output_tokens"].int_value == 90 + 35
        assert part0["tokenwatch.trace.cache_read_tokens"].int_value == 7000
        assert abs(part0["tokenwatch.trace.cost_usd"].double_value - 0.024) < 1e-9
        await asyncio.sleep(0.3)
        before = counted(svc)
        assert before == 1800 + 500 + 7000 + 200 + 90 + 35
        # the SDK keeps exporting the same totals after the session was released: nothing new
        await send(claude_metrics(grown, {"main": 0.020, "subagent": 0.004}, 62), timeout=10)
        await asyncio.sleep(1.0)
        assert set(roots()) == {0}
        assert counted(svc) == before
        # a later increase is counted by itself, as the session's next part
        await send(claude_metrics(later, {"main": 0.025, "subagent": 0.004}, 122), timeout=10)
        await wait_for(lambda: 1 in roots(), timeout=20)
        part1 = roots()[1]
        assert part1["tokenwatch.trace.input_tokens"].int_value == 200
        assert part1["tokenwatch.trace.output_tokens"].int_value == 10
        assert abs(part1["tokenwatch.trace.cost_usd"].double_value - 0.005) < 1e-9
        await asyncio.sleep(0.3)
        assert counted(svc) == before + 210
    # the anonymous user id is not a label of tokenwatch's own metrics
    assert "a1b2c3-anonymous-install" not in svc.telemetry.prometheus_text().decode()


def test_claude_counter_restart_counts_from_zero() -> None:
    """A new process for the same session (``--resume``) restarts the counters: a new start time."""
    ms = MetricSessions(10)
    attrs = {"session.id": CLAUDE_SID, "model": "claude-sonnet-5", "type": "output", "query_source": "main"}
    ms.add("claude-code", CLAUDE_SID, Resource(), attrs, "claude_code.token.usage", 500, True, 0.0, start_ns=1)
    ms.add("claude-code", CLAUDE_SID, Resource(), attrs, "claude_code.token.usage", 700, True, 1.0, start_ns=1)
    ms.add("claude-code", CLAUDE_SID, Resource(), attrs, "claude_code.token.usage", 40, True, 2.0, start_ns=9)
    u = ms.pop(("claude-code", CLAUDE_SID))
    assert u.values[("claude-sonnet-5", "output")] == 700 + 40


def test_claude_cost_from_micros_when_the_double_is_missing() -> None:
    sid = "0c8e-claude-micros"
    raw = logs_request("claude-code", "com.anthropic.claude_code.events", [record(0, {
        "session.id": sid, "event.name": "api_request",  # API request event: event.name "api_request"
        "model": "claude-sonnet-5", "input_tokens": 120, "output_tokens": 30,
        "cache_read_tokens": 0, "cache_creation_tokens": 0,
        "cost_usd_micros": 4210,  # "Estimated cost in millionths of a US dollar, emitted as an integer"
        "request_id": "req_011abc",
    }, body="claude_code.api_request")])
    (tree,) = scored(raw)
    root = tree.root()
    assert root is not None
    assert abs(float(root.get("tokenwatch.trace.cost_usd")) - 0.00421) < 1e-12  # type: ignore[arg-type]


# --- Gemini CLI --------------------------------------------------------------------------------------
GEMINI_SID = "7a0f-gemini-session"


def gemini_common() -> dict[str, Any]:
    # getCommonAttributes (telemetryAttributes.ts): session.id, installation.id, interactive, auth_type
    return {"session.id": GEMINI_SID, "installation.id": "inst-42", "interactive": False,
            "auth_type": "gemini-api-key"}


def gemini_response(t: int, role: str, inp: int, out: int, *, cached: int = 0, thoughts: int = 0,
                    tool: int = 0, total: int | None = None) -> LogRecord:
    # ApiResponseEvent.toLogRecord (types.ts): input_token_count = promptTokenCount,
    # output_token_count = candidatesTokenCount, cached_content_token_count, thoughts_token_count,
    # tool_token_count = toolUsePromptTokenCount, total_token_count = totalTokenCount (prompt + candidates
    # + tool-use prompt + thoughts, per the Gemini API's UsageMetadata)
    return record(t, {**gemini_common(), "event.name": "gemini_cli.api_response", "model": "gemini-3.1-pro",
                      "duration_ms": 900, "input_token_count": inp, "output_token_count": out,
                      "cached_content_token_count": cached, "thoughts_token_count": thoughts,
                      "tool_token_count": tool,
                      "total_token_count": inp + out + thoughts + tool if total is None else total,
                      "prompt_id": GEMINI_SID, "status_code": 200, "finish_reasons": ["STOP"], "role": role})


def test_gemini_tool_use_prompt_tokens_are_input() -> None:
    raw = logs_request("gemini-cli", "gemini-cli", [
        gemini_response(0, "main", 2000, 40, cached=1500, thoughts=60, tool=350),
        # a total without room for the tool tokens: they are already inside the input
        gemini_response(10, "main", 1000, 10, tool=100, total=1010),
    ])
    (tree,) = scored(raw)
    root = tree.root()
    assert root is not None
    assert root.get("tokenwatch.trace.input_tokens") == 2000 + 350 + 1000
    assert root.get("tokenwatch.trace.output_tokens") == 40 + 60 + 10
    assert root.get("tokenwatch.trace.cache_read_tokens") == 1500


async def test_gemini_tool_tokens_from_cumulative_metrics(tmp_path: Path) -> None:
    out = tmp_path / "traces.jsonl"
    cfg = agent_config(tmp_path, out, agents=("metrics",))
    # logApiResponse (loggers.ts) records each count on gemini_cli.token.usage {model, type}; the
    # PeriodicExportingMetricReader (sdk.ts) exports it CUMULATIVE; scope "gemini-cli"
    points = [{"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + 10**10), "asInt": str(v),
               "attributes": _kv({**gemini_common(), "model": "gemini-3.1-pro", "type": ttype})}
              for ttype, v in (("input", 2000), ("output", 40), ("cache", 1500), ("thought", 60), ("tool", 350))]
    req = ParseDict({"resourceMetrics": [{
        "resource": {"attributes": _kv({"service.name": "gemini-cli", "session.id": GEMINI_SID})},
        "scopeMetrics": [{"scope": {"name": "gemini-cli"}, "metrics": [
            {"name": "gemini_cli.token.usage", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                                        "dataPoints": points}}]}]}]},
        ExportMetricsServiceRequest()).SerializeToString()

    def root() -> dict[str, Any] | None:
        for _, _, s in by_span_id(read_file(out)).values():
            ours = strip_tokenwatch(s)[1]
            if "tokenwatch.agent.tool" in ours:
                return ours
        return None

    async with running(cfg) as svc:
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            await ch.unary_unary(METRICS)(req, timeout=10)
        await wait_for(lambda: root() is not None, timeout=20)
    got = root()
    assert got is not None
    assert got["tokenwatch.trace.input_tokens"].int_value == 2000 + 350
    assert got["tokenwatch.trace.output_tokens"].int_value == 40 + 60


def test_gemini_utility_roles_are_auxiliary() -> None:
    """Every ``utility_*`` role (llmRole.ts) is the CLI's own call: marked, never blamed for the turn's loop."""
    recs = [record(0, {**gemini_common(), "event.name": "gemini_cli.user_prompt", "prompt": "fix the build",
                       "prompt_id": GEMINI_SID, "prompt_length": 13})]
    t = 1
    for i in range(6):  # the same tool call six times; a loop-detector check runs before each tool call
        recs.append(gemini_response(t, "main", 1200 + i, 30))
        recs.append(gemini_response(t + 1, "utility_loop_detector", 800 + i, 5))
        # ToolCallEvent: function_name, function_args, decision, success
        recs.append(record(t + 2, {**gemini_common(), "event.name": "gemini_cli.tool_call",
                                   "function_name": "run_shell_command",
                                   "function_args": '{"command": "npm test"}', "decision": "auto_accept",
                                   "success": True, "duration_ms": 50, "prompt_id": GEMINI_SID}))
        t += 3
    (tree,) = scored(logs_request("gemini-cli", "gemini-cli", recs))
    detector = [e for e in calls(tree) if e.get("gen_ai.usage.output_tokens") == 5]
    main = [e for e in calls(tree) if e.get("gen_ai.usage.output_tokens") == 30]
    assert len(detector) == 6 and len(main) == 6
    assert all(e.get("tokenwatch.usage.auxiliary") is True for e in detector)
    assert not any(e.get("tokenwatch.waste.reason") == "loop" for e in detector)
    assert any(e.get("tokenwatch.waste.reason") == "loop" for e in main)
    # the turn's prompt goes to the turn's first main request, not to the helper's
    assert "fix the build" in str(main[0].get("gen_ai.input.messages"))
    root = tree.root()
    assert root is not None
    assert root.get("tokenwatch.trace.input_tokens") == sum(1200 + i + 800 + i for i in range(6))


# --- Codex ---------------------------------------------------------------------------------------------
CONV = "0199b1d4-codex-failures"


def codex(t: int, attrs: dict[str, Any]) -> LogRecord:
    # log_event! (events/shared/log.rs) adds to every record: event.timestamp, conversation.id,
    # app.version, auth_mode, originator, user.account_id, user.email, terminal.type, model, slug
    return record(t, {"conversation.id": CONV, "app.version": "0.140.0", "auth_mode": "ApiKey",
                      "originator": "codex_cli_rs", "user.account_id": "acct-secret-7",
                      "user.email": "dev@example.com", "terminal.type": "xterm", "model": "gpt-5.5-codex",
                      "slug": "gpt-5.5-codex", **attrs})


def test_codex_failed_streams_and_connection_errors_are_failed_calls() -> None:
    recs = [
        # SessionTelemetry::record_api_request: a transport error has no http.response.status_code
        codex(0, {"event.name": "codex.api_request", "duration_ms": "30", "attempt": 1,
                  "error.message": "error sending request for url (https://api.openai.com/v1/responses)"}),
        codex(1, {"event.name": "codex.api_request", "duration_ms": "400", "http.response.status_code": 200,
                  "attempt": 2}),
        # sse_event_failed: the SSE event kind with error.message
        codex(2, {"event.name": "codex.sse_event", "event.kind": "response.failed", "duration_ms": "5",
                  "error.message": '{"error": {"code": "server_error"}}'}),
        codex(3, {"event.name": "codex.api_request", "duration_ms": "380", "http.response.status_code": 200,
                  "attempt": 3}),
        # see_event_completed_failed: kind response.completed, error.message, no token counts
        codex(4, {"event.name": "codex.sse_event", "event.kind": "response.completed",
                  "error.message": "failed to parse ResponseCompleted"}),
        # sse_event_failed without a kind: the stream broke (idle timeout)
        codex(5, {"event.name": "codex.sse_event", "duration_ms": "300000",
                  "error.message": "idle timeout waiting for SSE"}),
        codex(6, {"event.name": "codex.api_request", "duration_ms": "390", "http.response.status_code": 200,
                  "attempt": 4}),
        # sse_event_completed: the one response that completed
        codex(7, {"event.name": "codex.sse_event", "event.kind": "response.completed",
                  "input_token_count": "9000", "output_token_count": "700", "cached_token_count": 8000,
                  "reasoning_token_count": 500, "tool_token_count": "9700"}),
    ]
    raw = logs_request("codex_cli_rs", "codex_otel", recs)
    (tree,) = scored(raw)
    failed = [e for e in calls(tree) if e.span.status.code == Status.STATUS_CODE_ERROR]
    ok = [e for e in calls(tree) if e.span.status.code != Status.STATUS_CODE_ERROR]
    assert len(failed) == 4  # the connection error and the three broken streams
    assert len(ok) == 1 and ok[0].get("gen_ai.usage.input_tokens") == 9000
    assert all(e.get("tokenwatch.waste.reason") == "failed_call" for e in failed)
    root = tree.root()
    assert root is not None
    assert root.get("tokenwatch.trace.input_tokens") == 9000  # includes the 8000 cached
    assert root.get("tokenwatch.trace.output_tokens") == 700  # includes the 500 reasoning
    # the account id and email are never written onto a span of the session as they are
    for e in tree.spans:
        assert b"acct-secret-7" not in e.span.SerializeToString()
        assert b"dev@example.com" not in e.span.SerializeToString()
    # ...yet the session has a principal (inflation windows, team sizes): a digest of the account
    principal = root.get("user.id")
    assert isinstance(principal, str) and principal.startswith("account:") and len(principal) == 32


def test_agent_specific_content_is_removed_from_forwarded_events() -> None:
    """With content removal on, Codex tool arguments/output and Claude Code API bodies leave too."""
    codex_raw = logs_request("codex_cli_rs", "codex_otel", [
        # tool_result_with_tags: tool_name, call_id, arguments, duration_ms, success, output
        codex(0, {"event.name": "codex.tool_result", "tool_name": "shell", "call_id": "call_9",
                  "arguments": '{"command": ["cat", "SECRET-ARGS"]}', "duration_ms": "12", "success": "true",
                  "output": "SECRET-OUTPUT", "mcp_server": "", "mcp_server_origin": ""}),
    ])
    claude_raw = logs_request("claude-code", "com.anthropic.claude_code.events", [
        # API request body event (OTEL_LOG_RAW_API_BODIES=1): body = the Messages API request JSON
        record(0, {"session.id": "cc-1", "event.name": "api_request_body", "body": '{"messages": "SECRET-BODY"}',
                   "body_length": 27, "model": "claude-sonnet-5", "query_source": "repl_main_thread"},
               body="claude_code.api_request_body"),
        # Tool result event: error (full message, with OTEL_LOG_TOOL_DETAILS=1), error_type
        record(1, {"session.id": "cc-1", "event.name": "tool_result", "tool_name": "Read", "success": "false",
                   "error_type": "Error:ENOENT", "error": "ENOENT: /home/dev/SECRET-PATH"},
               body="claude_code.tool_result"),
    ])
    agents = AgentSessions(AgentsConfig())
    on, off = RecordPrivacy(None, True, frozenset()), RecordPrivacy(None, False, frozenset())
    agents.privacy = lambda: on  # as the service sets it: the enrich stage's rules, looked up when used
    for raw in (codex_raw, claude_raw):
        out = ExportLogsServiceRequest.FromString(agents.transform(raw))
        recs = [lr for rl in out.resource_logs for sl in rl.scope_logs for lr in sl.log_records]
        assert len(recs) == len(ExportLogsServiceRequest.FromString(raw).resource_logs[0].scope_logs[0].log_records)
        data = out.SerializeToString()
        assert b"SECRET" not in data
        assert b"tool_name" in data or b"body_length" in data  # the records themselves stay
    claude_out = ExportLogsServiceRequest.FromString(agents.transform(claude_raw))
    kept = key_values_to_dict(claude_out.resource_logs[0].scope_logs[0].log_records[1].attributes)
    assert kept["error_type"] == "Error:ENOENT"
    # without content removal nothing is taken out
    agents.privacy = lambda: off
    assert b"SECRET-OUTPUT" in agents.transform(codex_raw)
