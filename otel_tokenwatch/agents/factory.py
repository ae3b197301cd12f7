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

from otel_tokenwatch.agents.events import codex_has_usage, read_event, session_of, short_name, tool_of
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
        from otel_tokenwatch.agents.metrics import MetricSessions

        self.metric_sessions = MetricSessions(cfg.max_sessions)
        #: (tool, session) pairs seen in events (bounded): their metrics are never counted
        self.event_sessions: BoundedSet = BoundedSet(4 * cfg.max_sessions)

    #: set by the service: the enrich stage's privacy rules, so forwarded events follow them too
    privacy: Any = None

    def transform(self, raw: bytes) -> bytes:
        """The events as they are forwarded: marked with the tool, privacy rules applied.

        Every record is kept (lossless); only attributes are added, pseudonymized or, with
        content removal on, taken out. With content removal on, the GenAI content events other
        instrumentations send as logs (``gen_ai.user.message``, ``gen_ai.choice``,
        ``gen_ai.client.inference.operation.details``: openai-v2's legacy path, OTel botocore, Semantic
        Kernel, Google ADK) lose their body and content attributes too. Other requests pass unchanged.
        """
        req = ExportLogsServiceRequest.FromString(raw)
        changed = False
        privacy = self.privacy() if callable(self.privacy) else None
        drop = privacy is not None and privacy.drop_content  # so privacy is not None where drop (type: ignores below)
        for rl in req.resource_logs:
            service = _service(rl.resource)
            agent_seen = False
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    name = next((kv.value.string_value for kv in lr.attributes if kv.key == "event.name"), "") \
                        or lr.event_name or lr.body.string_value
                    tool = tool_of(service, sl.scope.name, name)
                    if tool is None:
                        if drop and privacy.drop_genai_event(lr, lr.event_name or name):  # type: ignore[union-attr]
                            changed = True
                        continue
                    changed = agent_seen = True
                    short = short_name(name)
                    if privacy is not None:
                        privacy.apply_to_record(lr, short)
                    lr.attributes.add(key="tokenwatch.agent.tool").value.string_value = tool
                    # Codex: only the usage-bearing response.completed (the per-SSE-event records hold no usage)
                    if short in ("api_request", "api_response") or (
                            name == "codex.sse_event" and codex_has_usage({kv.key for kv in lr.attributes})):
                        lr.attributes.add(key="tokenwatch.usage.counted").value.bool_value = True
            if agent_seen and drop:
                privacy.apply_to_resource(rl.resource)  # type: ignore[union-attr]  # the command line holds a headless run's prompt
        return req.SerializeToString() if changed else raw

    def transform_metrics(self, raw: bytes) -> bytes:
        """The metrics as they are forwarded: with content removal on, a coding agent's resource loses its
        command line (``process.command_args``: ``gemini -p "<prompt>"``, see RecordPrivacy.apply_to_resource)."""
        privacy = self.privacy() if callable(self.privacy) else None
        if privacy is None or not privacy.drop_content:
            return raw
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        req = ExportMetricsServiceRequest.FromString(raw)
        changed = False
        for rm in req.resource_metrics:
            service = _service(rm.resource)
            if any(tool_of(service, sm.scope.name, m.name) for sm in rm.scope_metrics for m in sm.metrics):
                changed = privacy.apply_to_resource(rm.resource) or changed
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
                    if span.kind == "inference":
                        self.event_sessions.add((tool, sid))
                    released += self.assembler.add(tool, sid, rl.resource, span, now)
        self._emit(released)

    # --- metrics: counted only for sessions that sent no events ---------------------------------
    def consume_metrics(self, raw: bytes, now: float | None = None) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        now = time.monotonic() if now is None else now
        req = ExportMetricsServiceRequest.FromString(raw)
        for rm in req.resource_metrics:
            res_attrs = key_values_to_dict(rm.resource.attributes)
            service = str(res_attrs.get("service.name", ""))
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    if m.name not in AGENT_USAGE_METRICS:
                        continue
                    kind = m.WhichOneof("data")
                    data = getattr(m, kind)
                    cumulative = getattr(data, "aggregation_temporality", 1) == 2
                    for dp in data.data_points:
                        a = key_values_to_dict(dp.attributes)
                        tool = tool_of(service, sm.scope.name, m.name)
                        sid = session_of(a) or session_of(res_attrs)
                        if tool is None or sid is None:
                            continue
                        value = dp.sum if kind == "histogram" else (
                            dp.as_double if dp.WhichOneof("value") == "as_double" else float(dp.as_int))
                        self.metric_sessions.add(tool, sid, rm.resource, a, m.name, value, cumulative, now,
                                                 start_ns=dp.start_time_unix_nano)

    def _metrics_only(self, now: float, all_: bool = False) -> list[Tree]:
        trees = []
        due = self.metric_sessions.take_evicted()  # pushed out by max_sessions: released, not dropped
        due += [self.metric_sessions.pop(k) for k in self.metric_sessions.due(now, self.cfg.session_idle, all_)]
        for usage in due:
            if (usage.tool, usage.session_id) in self.event_sessions:
                continue  # its events were counted: the metrics repeat them
            trees.append(usage.tree())
        return trees

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._emit(self.assembler.expire(now))
        self._emit(self._metrics_only(now))

    def flush(self) -> None:
        self._emit(self.assembler.flush())
        self._emit(self._metrics_only(0.0, all_=True))

    def _emit(self, trees: list[Tree]) -> None:
        for t in trees:
            self.sessions_out += 1
            if self.emit is not None:
                try:
                    self.emit(t)
                except Exception:
                    log.exception("session could not be scored")


def _service(resource: Any) -> str:
    return next((kv.value.string_value for kv in resource.attributes if kv.key == "service.name"), "")


AGENT_USAGE_METRICS = frozenset({"claude_code.token.usage", "claude_code.cost.usage", "gemini_cli.token.usage",
                                 "codex.turn.token_usage"})


class BoundedSet:
    """A set that forgets its oldest members past ``size``."""

    def __init__(self, size: int) -> None:
        from collections import OrderedDict

        self.size = size
        self._d: OrderedDict[Any, None] = OrderedDict()

    def add(self, k: Any) -> None:
        self._d[k] = None
        self._d.move_to_end(k)
        if len(self._d) > self.size:
            self._d.popitem(last=False)

    def __contains__(self, k: object) -> bool:
        return k in self._d


def strip_content(tree: Tree) -> bytes:
    """The synthetic session trace without prompt or tool-argument text (they stay in the events)."""
    from otel_tokenwatch.pipeline.enrich.privacy import drop_content

    for e in tree.spans:
        drop_content(e)
    return encode_spans(tree.spans)


def _create(cfg: AgentsConfig, ctx: ProcessorContext) -> Any:
    return AgentSessions(cfg)


FACTORY = ProcessorFactory(type="agents", config_class=AgentsConfig, create=_create)
