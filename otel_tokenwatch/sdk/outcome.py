"""``report_outcome``: tell tokenwatch what a run achieved, from application code.

In a process with the tokenwatch exporter it goes straight to the in-process
engine; otherwise (or with ``endpoint``) it posts to a tokenwatch service's
``/v1/outcomes`` (``TOKENWATCH_OUTCOME_ENDPOINT``, bearer token from
``TOKENWATCH_OUTCOME_TOKEN``). Without a trace id it uses the current span's.
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

import orjson


def report_outcome(outcome: str, trace_id: str | None = None, kpis: dict[str, float] | None = None,
                   conversation_id: str | None = None, endpoint: str | None = None,
                   timeout: float = 5.0) -> dict[str, Any]:
    from otel_tokenwatch.outcome.model import validate

    if trace_id is None and conversation_id is None:
        from opentelemetry import trace

        ctx = trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            raise ValueError("no trace_id given and no current span: pass trace_id or conversation_id")
        trace_id = format(ctx.trace_id, "032x")
    o = validate(outcome, trace_id or "", conversation_id or "", kpis or {}, 0)
    endpoint = endpoint or os.environ.get("TOKENWATCH_OUTCOME_ENDPOINT")
    if endpoint is None:
        from otel_tokenwatch.sdk.exporter import ACTIVE

        if ACTIVE:
            intake = ACTIVE[-1].ctx.extras.get("outcome_intake")
            if intake is not None:
                return intake.report([o])  # type: ignore[no-any-return]
        raise RuntimeError("no tokenwatch exporter in this process and no TOKENWATCH_OUTCOME_ENDPOINT set")
    body = {"outcome": o.outcome, "kpis": o.kpis}
    if o.trace_id:
        body["trace_id"] = o.trace_id
    if o.conversation_id:
        body["conversation_id"] = o.conversation_id
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("TOKENWATCH_OUTCOME_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = endpoint.rstrip("/") + ("" if endpoint.rstrip("/").endswith("/v1/outcomes") else "/v1/outcomes")
    req = urllib.request.Request(url, data=orjson.dumps(body), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return orjson.loads(r.read())  # type: ignore[no-any-return]
