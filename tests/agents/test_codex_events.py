"""Codex events by their documented names (genai-dialects.md): one session, counted once, a loop found."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from otel_tokenwatch.agents.factory import AgentsConfig, AgentSessions
from otel_tokenwatch.otlp.wire import encode_attributes
from tests.agents.captured import scored

CONV = "0199a7c2-codex-conversation"


def record(t: int, attrs: dict[str, Any]) -> LogRecord:
    lr = LogRecord(time_unix_nano=1_700_000_000_000_000_000 + t * 1_000_000)
    return LogRecord.FromString(lr.SerializeToString() + encode_attributes(
        list({"conversation.id": CONV, **attrs}.items()), field=6))


def test_codex_session() -> None:
    recs = [record(0, {"event.name": "codex.user_prompt", "prompt": "fix the flaky test"})]
    t = 1
    for i in range(5):  # the same shell command five times, each after a completed response
        recs.append(record(t, {"event.name": "codex.sse_event", "event.kind": "response.completed",
                               "model": "gpt-5-codex", "input_token_count": 20000 + i, "cached_token_count": 18000,
                               "output_token_count": 300, "reasoning_token_count": 200}))
        recs.append(record(t + 1, {"event.name": "codex.tool_result", "tool_name": "shell",
                                   "arguments": '{"command": ["pytest", "-x"]}', "success": "false"}))
        t += 2
    recs.append(record(t, {"event.name": "codex.api_request", "http.response.status_code": 500, "attempt": 1,
                           "model": "gpt-5-codex"}))
    rl = ResourceLogs(scope_logs=[ScopeLogs(log_records=recs)])
    rl.resource.attributes.add(key="service.name").value.string_value = "codex_cli_rs"
    raw = ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()

    agents = AgentSessions(AgentsConfig())
    trees = scored(raw, agents=agents)  # the same agents stage transforms the forwarded events below
    assert len(trees) == 1
    tree = trees[0]
    root = tree.root()
    assert root is not None
    assert root.get("tokenwatch.agent.tool") == "codex"
    # input includes cached (Codex reports it so), output includes reasoning: nothing is added
    assert root.get("tokenwatch.trace.input_tokens") == sum(20000 + i for i in range(5))
    assert root.get("tokenwatch.trace.output_tokens") == 5 * 300
    assert root.get("tokenwatch.trace.cache_read_tokens") == 5 * 18000
    assert root.get("tokenwatch.trace.failed_calls") == 0  # the failed request billed nothing
    reasons = {e.get("tokenwatch.waste.reason") for e in tree.spans} - {None}
    assert "loop" in reasons and "failed_call" in reasons
    forwarded = ExportLogsServiceRequest.FromString(agents.transform(raw))
    assert sum(len(sl.log_records) for r in forwarded.resource_logs for sl in r.scope_logs) == len(recs)
