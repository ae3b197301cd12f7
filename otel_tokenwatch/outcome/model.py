"""One reported outcome, validated the same way for gRPC and HTTP."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from otel_tokenwatch.errors import BadRequest

OUTCOMES = ("success", "failure", "abandoned", "unknown")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
MAX_KPIS = 32


@dataclass(frozen=True)
class Outcome:
    outcome: str
    trace_id: str = ""
    conversation_id: str = ""
    kpis: dict[str, float] = field(default_factory=dict)
    time_unix_nano: int = 0

    @property
    def key(self) -> str:
        """Idempotency key: the same report twice is one report."""
        blob = orjson.dumps([self.trace_id, self.conversation_id, self.outcome, sorted(self.kpis.items()),
                             self.time_unix_nano])
        return hashlib.sha256(blob).hexdigest()[:32]

    def to_bytes(self) -> bytes:
        return orjson.dumps({"outcome": self.outcome, "trace_id": self.trace_id,
                             "conversation_id": self.conversation_id, "kpis": self.kpis,
                             "time_unix_nano": self.time_unix_nano})

    @classmethod
    def from_bytes(cls, data: bytes) -> Outcome:
        d = orjson.loads(data)
        return cls(d["outcome"], d.get("trace_id", ""), d.get("conversation_id", ""), d.get("kpis") or {},
                   int(d.get("time_unix_nano") or 0))


def validate(outcome: Any, trace_id: Any = "", conversation_id: Any = "", kpis: Any = None,
             time_unix_nano: Any = 0, where: str = "outcome") -> Outcome:
    """Build an Outcome or raise BadRequest naming the bad field."""
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        raise BadRequest(f"{where}.outcome: must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    trace_id = trace_id or ""
    conversation_id = conversation_id or ""
    if not isinstance(trace_id, str) or (trace_id and not _HEX32.match(trace_id.lower())) or trace_id == "0" * 32:
        raise BadRequest(f"{where}.trace_id: expected 32 hex characters, got {str(trace_id)[:40]!r}")
    if not isinstance(conversation_id, str) or len(conversation_id) > 256:
        raise BadRequest(f"{where}.conversation_id: expected a string of at most 256 characters")
    if not trace_id and not conversation_id:
        raise BadRequest(f"{where}: name a trace_id or a conversation_id")
    kp: dict[str, float] = {}
    if kpis:
        if not isinstance(kpis, dict) or len(kpis) > MAX_KPIS:
            raise BadRequest(f"{where}.kpis: expected an object of at most {MAX_KPIS} numbers")
        for k, v in kpis.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or len(str(k)) > 64:
                raise BadRequest(f"{where}.kpis.{str(k)[:64]}: expected a number")
            kp[str(k)] = float(v)
    if isinstance(time_unix_nano, str) and time_unix_nano.isdigit():
        time_unix_nano = int(time_unix_nano)
    if isinstance(time_unix_nano, bool) or not isinstance(time_unix_nano, int) or time_unix_nano < 0:
        raise BadRequest(f"{where}.time_unix_nano: expected a non-negative integer")
    return Outcome(outcome, trace_id.lower(), conversation_id, kp, time_unix_nano)
