"""How one export attempt ended, as every transport reports it to the shared sender."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    #: worth trying again (OTLP throttling/unavailable rules)
    retryable: bool = False
    #: the server's own hint (RetryInfo / Retry-After), seconds
    retry_after: float | None = None
    #: items the server rejected in partial_success (logged and counted, never retried)
    rejected: int = 0
    #: short reason for logs and the failure metric label
    reason: str = ""
    message: str = ""


SENT = SendResult(ok=True)
