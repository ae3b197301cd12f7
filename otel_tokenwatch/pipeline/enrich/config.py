"""Settings of the ``enrich`` processor: how workflow, team and outcome are found, and privacy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from otel_tokenwatch.config.build import ByteSize, Duration, require


@dataclass(frozen=True)
class WorkflowRule:
    """Name a workflow when every given condition matches (exact value, or regex with ``regex: true``)."""

    workflow: str = ""
    service: str = ""
    span_name: str = ""
    attribute: str = ""
    value: str = ""
    regex: bool = False

    def validate(self, path: str) -> None:
        require(bool(self.workflow), f"{path}.workflow", "missing")
        require(bool(self.service or self.span_name or self.attribute), path,
                "give at least one of service, span_name, attribute")
        require(not self.value or bool(self.attribute), f"{path}.value", "needs attribute")
        if self.regex:
            for key in ("service", "span_name", "value"):
                try:
                    re.compile(getattr(self, key))
                except re.error as e:
                    raise ValueError(f"{path}.{key}: not a valid regex: {e}") from None


@dataclass(frozen=True)
class WorkflowConfig:
    #: span attributes that name the workflow, after gen_ai.workflow.name, traceloop.workflow.name and
    #: langfuse.trace.name
    attributes: list[str] = field(default_factory=lambda: ["app.workflow"])
    rules: list[WorkflowRule] = field(default_factory=list)


@dataclass(frozen=True)
class TeamConfig:
    #: resource attributes that name the team, in order
    resource_attributes: list[str] = field(default_factory=lambda: ["service.namespace", "k8s.namespace.name"])
    #: service.name -> team, used when no resource attribute names one
    services: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomeConfig:
    #: span attributes (root first, then any span) that carry an outcome
    attributes: list[str] = field(default_factory=lambda: ["tokenwatch.outcome", "outcome", "app.outcome"])
    #: attribute values -> outcome (besides success/failure/abandoned/unknown themselves)
    values: dict[str, str] = field(default_factory=lambda: {
        "ok": "success", "succeeded": "success", "resolved": "success", "completed": "success", "done": "success",
        "failed": "failure", "error": "failure", "rejected": "failure",
        "gave_up": "abandoned", "cancelled": "abandoned", "canceled": "abandoned", "timeout": "abandoned"})
    #: root status ERROR -> failure, OK -> success
    from_status: bool = True
    #: the late-outcome API on the receivers' ports (gRPC OutcomeService, HTTP POST /v1/outcomes)
    api: bool = True
    #: bearer token the outcome API requires (empty = none); use ${env:NAME}
    auth_token: str = ""
    max_body_size: ByteSize = ByteSize(2**20)
    #: how long an outcome waits for its tree, and a tree summary for its outcome
    pending_ttl: Duration = Duration(3600.0)
    tree_ttl: Duration = Duration(86400.0)

    def validate(self, path: str) -> None:
        allowed = ("success", "failure", "abandoned", "unknown")
        for k, v in self.values.items():
            require(v in allowed, f"{path}.values.{k}", f"must be one of {', '.join(allowed)}")


@dataclass(frozen=True)
class PrivacyConfig:
    #: attributes that identify a person: never metric labels; counted for the k-minimum
    user_attributes: list[str] = field(default_factory=lambda: ["enduser.id", "user.id", "enduser.pseudo.id"])
    #: attributes replaced by a keyed hash on re-exported spans
    pseudonymize: list[str] = field(default_factory=list)
    #: environment variable holding the HMAC key (never logged)
    key_env: str = "TOKENWATCH_PSEUDONYM_KEY"
    #: team figures only for teams with at least this many distinct principals
    min_group_size: int = 5
    #: remove prompt and completion content (attributes and events) from re-exported spans
    drop_content: bool = False
    #: your own attributes that carry content, removed too when drop_content is on
    content_attributes: list[str] = field(default_factory=list)

    def validate(self, path: str) -> None:
        require(self.min_group_size >= 1, f"{path}.min_group_size", "must be >= 1")


@dataclass(frozen=True)
class EnrichConfig:
    workflow: WorkflowConfig = field(default_factory=WorkflowConfig)
    team: TeamConfig = field(default_factory=TeamConfig)
    outcome: OutcomeConfig = field(default_factory=OutcomeConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
