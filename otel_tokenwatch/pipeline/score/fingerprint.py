"""Request fingerprints: a keyed hash, key in memory only, on content where captured, else on shape."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import orjson

from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.tree import SpanEntry

_KEY = secrets.token_bytes(32)


def _h(parts: list[object]) -> str:
    return hmac.new(_KEY, orjson.dumps(parts, default=str), hashlib.sha256).hexdigest()[:24]


def fingerprint(e: SpanEntry, c: Call) -> tuple[str, str]:
    """(fingerprint, basis) where basis is ``content`` or ``shape``."""
    if c.input_content is not None:
        return _h([c.operation, c.model, c.system_content, c.input_content]), "content"
    return _h([c.operation, c.model, c.tool_definitions_digest, c.max_tokens, c.temperature, c.input_tokens,
               e.parent_id.hex()]), "shape"


def similarity(a: str, b: str) -> float:
    """Share of the longer text covered by the common prefix and suffix: cheap, and right for
    'the same huge context with a rephrased question at the end'."""
    if a == b:
        return 1.0
    n = max(len(a), len(b))
    if n == 0:
        return 1.0
    p = 0
    m = min(len(a), len(b))
    while p < m and a[p] == b[p]:
        p += 1
    s = 0
    while s < m - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return (p + s) / n


def common_prefix_share(a: str, b: str) -> float:
    """Share of ``b`` that starts with the same text as ``a``."""
    m = min(len(a), len(b))
    p = 0
    while p < m and a[p] == b[p]:
        p += 1
    return p / len(b) if b else 0.0
