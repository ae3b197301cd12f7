"""The top-level configuration, in the OpenTelemetry Collector's shape.

``receivers``, ``processors`` and ``exporters`` map component ids (``type`` or
``type/name``) to that component's settings; ``service.pipelines`` wires them
per signal. Each component's settings are checked against its own config
dataclass, so an error names the full dotted key, e.g.
``exporters.otlp.endpoint: missing``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from otel_tokenwatch.components import SIGNAL_PROCESSORS, factory_for
from otel_tokenwatch.config.build import ByteSize, ConfigError, build, require, unknown_key

SIGNALS = ("traces", "metrics", "logs")


@dataclass(frozen=True)
class PipelineConfig:
    receivers: list[str] = field(default_factory=list)
    processors: list[str] = field(default_factory=list)
    exporters: list[str] = field(default_factory=list)

    def validate(self, path: str) -> None:
        require(bool(self.receivers), f"{path}.receivers", "at least one receiver is required")
        require(bool(self.exporters), f"{path}.exporters", "at least one exporter is required")
        for key in ("receivers", "processors", "exporters"):
            ids = getattr(self, key)
            dup = {i for i in ids if ids.count(i) > 1}
            require(not dup, f"{path}.{key}", f"listed twice: {', '.join(sorted(dup))}")


@dataclass(frozen=True)
class LogsTelemetry:
    level: Literal["debug", "info", "warn", "error"] = "warn"
    encoding: Literal["json", "console"] = "json"


@dataclass(frozen=True)
class MetricsTelemetry:
    #: how often tokenwatch's own metrics are pushed into the metrics pipeline's exporters (0 = never)
    export_interval: float = 0.0
    #: the metrics pipeline that receives tokenwatch's own metrics ("" = the first metrics pipeline)
    pipeline: str = ""
    #: distinct label values kept per label before the rest is folded into "other"
    max_workflows: int = 200
    max_models: int = 100
    max_teams: int = 100

    def validate(self, path: str) -> None:
        require(self.export_interval >= 0, f"{path}.export_interval", "must be >= 0")
        for key in ("max_workflows", "max_models", "max_teams"):
            require(getattr(self, key) >= 1, f"{path}.{key}", "must be >= 1")


@dataclass(frozen=True)
class AdminConfig:
    #: host:port of the admin HTTP server: /metrics, /healthz, /readyz and the status page
    endpoint: str = "127.0.0.1:9464"

    def validate(self, path: str) -> None:
        check_endpoint(self.endpoint, f"{path}.endpoint")


@dataclass(frozen=True)
class TelemetryConfig:
    logs: LogsTelemetry = field(default_factory=LogsTelemetry)
    metrics: MetricsTelemetry = field(default_factory=MetricsTelemetry)
    admin: AdminConfig = field(default_factory=AdminConfig)


@dataclass(frozen=True)
class DurabilityConfig:
    #: journal: acknowledge only what is on disk; none: acknowledge at once (faster, loses data on a crash)
    mode: Literal["journal", "none"] = "journal"
    sync: Literal["write", "fsync"] = "write"
    #: bytes of unreleased requests on disk at most; past it receivers refuse with a retry hint
    max_bytes: ByteSize = ByteSize(2 * 2**30)
    segment_bytes: ByteSize = ByteSize(64 * 2**20)

    def validate(self, path: str) -> None:
        require(self.max_bytes > 0, f"{path}.max_bytes", "must be > 0")
        require(0 < self.segment_bytes <= self.max_bytes, f"{path}.segment_bytes", "must be > 0 and <= max_bytes")


@dataclass(frozen=True)
class StateConfig:
    #: redis://host:port/db to share baselines, inflation windows and early outcomes across replicas;
    #: empty keeps state in memory, snapshotted to the data directory
    redis_url: str = ""
    #: prefix of every Redis key, so several deployments can share one Redis
    key_prefix: str = "tokenwatch:"

    def validate(self, path: str) -> None:
        require(not self.redis_url or self.redis_url.startswith(("redis://", "rediss://", "unix://")),
                f"{path}.redis_url", "must start with redis://, rediss:// or unix://")


@dataclass(frozen=True)
class ServiceSection:
    pipelines: dict[str, PipelineConfig] = field(default_factory=dict)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    #: where the journal, state snapshots and default files live
    data_dir: str = "./tokenwatch-data"
    #: journal (acknowledge only what is on disk, replay on start) or none
    durability: DurabilityConfig = field(default_factory=DurabilityConfig)
    state: StateConfig = field(default_factory=StateConfig)
    extensions: list[str] = field(default_factory=list)
    #: resident memory at most (the Collector's memory_limiter): above it receivers refuse with a
    #: retry hint until memory falls back; 0 turns the check off
    memory_limit: ByteSize = ByteSize(2 * 2**30)
    #: spans (or data points, log records) in one export request at most; larger requests get 413
    max_items_per_request: int = 100_000
    #: attributes on one span, and encoded bytes of one span, at most; a request breaking either gets 413
    max_attributes_per_span: int = 1024
    max_span_size: ByteSize = ByteSize(2**20)


@dataclass(frozen=True)
class Component:
    """One configured component: its id, type and built config."""

    id: str
    type: str
    config: Any


@dataclass(frozen=True)
class Config:
    receivers: dict[str, Component]
    processors: dict[str, Component]
    exporters: dict[str, Component]
    service: ServiceSection
    source: str = "<embedded default>"

    def pipelines(self, signal: str) -> dict[str, PipelineConfig]:
        return {k: v for k, v in self.service.pipelines.items() if k.split("/", 1)[0] == signal}


def check_endpoint(value: str, path: str) -> None:
    """host:port with a port in range; the error says what shape is expected."""
    m = re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[^:\s]*):(\d+)", value or "")
    require(m is not None, path, f"expected host:port, got {value!r}")
    assert m is not None
    require(0 <= int(m.group(2)) <= 65535, path, f"port out of range in {value!r}")


_ENV = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Replace ${env:NAME}, ${NAME} and ${env:NAME:-default} in every string, as the Collector does."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            got = env.get(m.group(1))
            return got if got is not None else (m.group(2) or "")
        expanded = _ENV.sub(sub, value)
        if expanded != value and _ENV.fullmatch(value):
            # a value that is only a reference keeps YAML typing: "${env:PORT}" -> 4317
            try:
                loaded = yaml.safe_load(expanded)
            except yaml.YAMLError:
                return expanded
            return loaded if isinstance(loaded, (int, float, bool)) else expanded
        return expanded
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    return value


def _components(kind: str, mapping: Any) -> dict[str, Component]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise ConfigError(kind, f"expected a mapping of component ids, got {mapping!r}")
    out = {}
    for cid, settings in mapping.items():
        cid = str(cid)
        ctype = cid.split("/", 1)[0]
        fac = factory_for(kind, ctype)
        if fac is None:
            from otel_tokenwatch.components import known_types
            raise ConfigError(f"{kind}.{cid}", f"unknown {kind[:-1]} type {ctype!r} "
                                               f"(known: {', '.join(known_types(kind))})")
        out[cid] = Component(cid, ctype, build(fac.config_class, settings, f"{kind}.{cid}"))
    return out


def from_mapping(raw: Any, source: str = "<mapping>") -> Config:
    """Build and cross-check a whole configuration."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", f"{source}: the top level must be a mapping")
    raw = expand_env(raw)
    known = {"receivers", "processors", "exporters", "service", "extensions", "connectors"}
    for key in raw:
        require(key in known, str(key), unknown_key(key, known - {"connectors"}))
    require(not raw.get("connectors"), "connectors", "connectors are not supported")
    receivers = _components("receivers", raw.get("receivers"))
    processors = _components("processors", raw.get("processors"))
    exporters = _components("exporters", raw.get("exporters"))
    service = build(ServiceSection, raw.get("service"), "service")
    require(bool(service.pipelines), "service.pipelines", "at least one pipeline is required")
    for pid, p in service.pipelines.items():
        path = f"service.pipelines.{pid}"
        signal = pid.split("/", 1)[0]
        require(signal in SIGNALS, path, f"unknown signal {signal!r} (known: {', '.join(SIGNALS)})")
        for kind, table, ids in (("receivers", receivers, p.receivers), ("processors", processors, p.processors),
                                 ("exporters", exporters, p.exporters)):
            for cid in ids:
                require(cid in table, f"{path}.{kind}", f"{cid!r} is not defined under {kind}")
        for i, cid in enumerate(p.processors):
            ptype = processors[cid].type
            allowed = SIGNAL_PROCESSORS.get(ptype, ("traces",))
            require(signal in allowed, f"{path}.processors", f"{cid!r} works on {'/'.join(allowed)}, not {signal}")
            if signal == "traces" and ptype != "assemble":
                require("assemble" in [processors[c].type for c in p.processors[:i]], f"{path}.processors",
                        f"{cid!r} works on assembled trees: list 'assemble' before it")
    return Config(receivers, processors, exporters, service, source)


def load(path: str | Path | None) -> Config:
    """Load a YAML file, or the embedded default when ``path`` is None."""
    if path is None:
        text = resources.files("otel_tokenwatch.config").joinpath("default.yaml").read_text()
        source = "<embedded default>"
    else:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise ConfigError("", f"cannot read config file {path}: {e.strerror}") from None
        source = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("", f"{source}:{where} not valid YAML: {getattr(e, 'problem', e)}") from None
    return from_mapping(raw, source)
