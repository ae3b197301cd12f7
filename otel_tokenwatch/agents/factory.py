"""The ``agents`` processor for logs pipelines: coding-agent events become scored sessions.

Events are forwarded unchanged (lossless); on the side they are grouped into
sessions, which run through the first traces pipeline's own stages
(normalize, enrich, score), feed tokenwatch's metrics under the same names,
and, with ``export_traces``, go to that pipeline's exporters as a synthetic
trace per session (prompt and tool-argument text removed first).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from otel_tokenwatch.agents.events import read_event, session_of, tool_of
from otel_tokenwatch.agents.sessions import SessionAssembler
from otel_tokenwatch.config.build import Duration, require
from otel_tokenwatch.otlp.wire import key_values_to_dict
from otel_tokenwatch.pipeline.processor import ProcessorContext, ProcessorFactory
from otel_tokenwatch.pipeline.tree import Tree, encode_spans

log = logging.getLogger("otel_tokenwatch.agents")


@dataclass(frozen=True)
class AgentsConfig:
    session_idle: Duration = Duration(60.0)
    session_max_wait: Duration = Duration(3600.0)
    max_sessions: int = 10000
    #: send a synthetic trace per session to the traces pipeline's exporters
    export_traces: bool = True

    def validate(self, path: str) -> None:
        require(self.session_idle > 0, f"{path}.session_idle", "must be > 0")
        require(self.max_sessions >= 1, f"{path}.max_sessions", "must be >= 1")


class AgentSessions:
    """Not a tree stage: it makes trees (sessions) out of log records, then hands them to one."""

    name = "agents"

    def __init__(self, cfg: AgentsConfig) -> None:
        self.cfg = cfg
        self.assembler = SessionAssembler(cfg.session_idle, cfg.session_max_wait, cfg.max_sessions)
        #: set by the service: runs the stages, records metrics and exports a tree
        self.emit: Callable[[Tree], None] | None = None
        self.events_read = 0
        self.sessions_out = 0

    #: set by the service: the enrich stage's privacy rules, so forwarded events follow them too
    privacy: Any = None

    def transform(self, raw: bytes) -> bytes:
        """The events as they are forwarded: marked with the tool, privacy rules applied.

        Every record is kept (lossless); only attributes are added, pseudonymized or, with
        content removal on, taken out. Requests without coding-agent events pass unchanged.
        """
        req = ExportLogsServiceRequest.FromString(raw)
        changed = False
        privacy = self.privacy() if callable(self.privacy) else None
        for rl in req.resource_logs:
            service = next((kv.value.string_value for kv in rl.resource.attributes if kv.key == "service.name"), "")
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    name = next((kv.value.string_value for kv in lr.attributes if kv.key == "event.name"), "") \
                        or lr.event_name or lr.body.string_value
                    tool = tool_of(service, sl.scope.name, name)
                    if tool is None:
                        continue
                    changed = True
                    if privacy is not None:
                        privacy.apply_to_record(lr)
                    lr.attributes.add(key="tokenwatch.agent.tool").value.string_value = tool
                    short = name.removeprefix("claude_code.").removeprefix("gemini_cli.")
                    if short in ("api_request", "api_response") or name == "codex.sse_event":
                        lr.attributes.add(key="tokenwatch.usage.counted").value.bool_value = True
        return req.SerializeToString() if changed else raw

    def consume(self, raw: bytes, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        req = ExportLogsServiceRequest.FromString(raw)
        released: list[Tree] = []
        for rl in req.resource_logs:
            res_attrs = key_values_to_dict(rl.resource.attributes)
            service = str(res_attrs.get("service.name", ""))
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    a = key_values_to_dict(lr.attributes)
                    name = str(a.get("event.name") or lr.event_name or lr.body.string_value or "")
                    tool = tool_of(service, sl.scope.name, name)
                    if tool is None:
                        continue
                    sid = session_of(a) or session_of(res_attrs)
                    if sid is None:
                        continue
                    span = read_event(tool, name, a, lr.time_unix_nano or lr.observed_time_unix_nano)
                    if span is None:
                        continue
                    self.events_read += 1
                    released += self.assembler.add(tool, sid, rl.resource, span, now)
        self._emit(released)

    def tick(self, now: float | None = None) -> None:
        self._emit(self.assembler.expire(time.monotonic() if now is None else now))

    def flush(self) -> None:
        self._emit(self.assembler.flush())

    def _emit(self, trees: list[Tree]) -> None:
        for t in trees:
            self.sessions_out += 1
            if self.emit is not None:
                try:
                    self.emit(t)
                except Exception:
                    log.exception("session could not be scored")


def strip_content(tree: Tree) -> bytes:
    """The synthetic session trace without prompt or tool-argument text (they stay in the events)."""
    from otel_tokenwatch.pipeline.enrich.privacy import drop_content

    for e in tree.spans:
        drop_content(e)
    return encode_spans(tree.spans)


def _create(cfg: AgentsConfig, ctx: ProcessorContext) -> Any:
    return AgentSessions(cfg)


FACTORY = ProcessorFactory(type="agents", config_class=AgentsConfig, create=_create)
