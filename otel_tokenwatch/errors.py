"""Errors typed in one place, with the one table that maps them to gRPC codes and HTTP statuses.

Receivers raise or catch these and answer as the OTLP specification says:
a request that can never succeed is permanent (400/413/415, INVALID_ARGUMENT),
a full buffer is retryable with a hint (429 + Retry-After, RESOURCE_EXHAUSTED
+ RetryInfo), an unauthenticated caller gets 401/UNAUTHENTICATED.
"""

from __future__ import annotations

import grpc


class TokenwatchError(Exception):
    """Base class. ``reason`` is the metric label for the refusal."""

    http_status = 500
    grpc_code = grpc.StatusCode.INTERNAL
    reason = "internal"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(TokenwatchError):
    """The body does not parse or breaks a rule; retrying it cannot help."""

    http_status = 400
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "bad_request"


class TooLarge(TokenwatchError):
    http_status = 413
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED  # gRPC has no 413; the OTLP spec allows this without RetryInfo
    reason = "too_large"


class UnsupportedMediaType(TokenwatchError):
    http_status = 415
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "media_type"


class Unauthenticated(TokenwatchError):
    http_status = 401
    grpc_code = grpc.StatusCode.UNAUTHENTICATED
    reason = "unauthenticated"


class NotFound(TokenwatchError):
    http_status = 404
    grpc_code = grpc.StatusCode.UNIMPLEMENTED
    reason = "not_found"


class Refused(TokenwatchError):
    """Backpressure: a budget is reached; the client should retry after ``retry_after`` seconds."""

    http_status = 429
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "backpressure"
    retryable = True

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(TokenwatchError):
    """Shutting down or not ready: retry elsewhere or later."""

    http_status = 503
    grpc_code = grpc.StatusCode.UNAVAILABLE
    reason = "unavailable"
    retryable = True

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# For exporters: how a backend's answer is judged (OTLP spec, "Failures").
RETRYABLE_GRPC = {
    grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS,
    # RESOURCE_EXHAUSTED is retried only when the server sent RetryInfo (as the Collector does)
}
RETRYABLE_HTTP = {429, 502, 503, 504}


def token_ok(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    import hmac

    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())
