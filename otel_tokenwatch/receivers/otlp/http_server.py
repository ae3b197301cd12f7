"""OTLP over HTTP: POST /v1/{traces,metrics,logs}, protobuf or JSON, optionally gzip.

Answers follow the OTLP/HTTP spec: the response body uses the request's
encoding; failures carry a ``google.rpc.Status``; 429/503 carry
Retry-After. Decompression is done here, in bounded steps, so a small gzip
body that inflates past ``max_request_body_size`` is a 413, not an
out-of-memory.
"""

from __future__ import annotations

import logging
import math
import zlib
from typing import Any

from aiohttp import web
from google.rpc import status_pb2

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import (
    BadRequest,
    Refused,
    TokenwatchError,
    TooLarge,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    token_ok,
)
from otel_tokenwatch.otlp.jsoncodec import dumps
from otel_tokenwatch.receivers.contract import ReceiverContext
from otel_tokenwatch.receivers.otlp.config import HttpProtocol
from otel_tokenwatch.receivers.otlp.signals import SIGNALS, Signal
from otel_tokenwatch.receivers.otlp.tls import ssl_context

log = logging.getLogger("otel_tokenwatch.receiver")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """Decompress gzip/deflate without ever holding more than ``limit`` + one chunk."""
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        d = zlib.decompressobj()
    else:
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r} (use gzip, deflate or none)")
    try:
        out = d.decompress(body, limit + 1)
        if len(out) > limit or d.unconsumed_tail:
            raise TooLarge(f"decompressed body exceeds max_request_body_size ({limit} bytes)")
        out += d.flush()
        if not d.eof:
            raise BadRequest(f"truncated {encoding} body")
    except zlib.error as e:
        raise BadRequest(f"body is not valid {encoding}: {e}") from None
    if len(out) > limit:
        raise TooLarge(f"decompressed body exceeds max_request_body_size ({limit} bytes)")
    return out


def error_response(e: TokenwatchError, json: bool) -> web.Response:
    st = status_pb2.Status(code=e.grpc_code.value[0], message=e.message)
    headers = {}
    retry_after = getattr(e, "retry_after", None)
    if isinstance(e, (Refused, Unavailable)) and retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if json:
        return web.Response(status=e.http_status, body=dumps(st), content_type=JSON, headers=headers)
    return web.Response(status=e.http_status, body=st.SerializeToString(), content_type=PROTOBUF, headers=headers)


class HttpServer:
    transport = "http"

    def __init__(self, cfg: HttpProtocol, ctx: ReceiverContext, auth_token: str = "") -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.auth_token = auth_token
        self.endpoint = cfg.endpoint
        self.runner: web.AppRunner | None = None
        self.accepting = True
        self.requests = 0
        self.refused = 0

    def app(self) -> web.Application:
        # the body limit is enforced in handle(), before and after decompression
        app = web.Application(client_max_size=self.cfg.max_request_body_size + 1)
        paths = {"traces": self.cfg.traces_url_path, "metrics": self.cfg.metrics_url_path,
                 "logs": self.cfg.logs_url_path}
        for name, sig in SIGNALS.items():
            if self.ctx.consumers.accepts(name):
                async def route(request: web.Request, _sig: Signal = sig) -> web.StreamResponse:
                    return await self.handle(request, _sig)
                app.router.add_post(paths[name], route)
        for method, path, handler in self.ctx.consumers.http_routes:
            app.router.add_route(method, path, handler)
        return app

    async def handle(self, request: web.Request, sig: Signal) -> web.StreamResponse:
        self.requests += 1
        tel = self.ctx.telemetry
        labels = {"receiver": self.ctx.id, "transport": "http", "signal": sig.name}
        ctype = request.content_type.lower()
        json = ctype == JSON
        try:
            if not self.accepting:
                raise Unavailable("tokenwatch is shutting down; retry another replica or later")
            if self.auth_token and not token_ok(request.headers.get("Authorization"), self.auth_token):
                raise Unauthenticated("missing or wrong bearer token in the Authorization header")
            if ctype not in (PROTOBUF, JSON):
                raise UnsupportedMediaType(f"unsupported Content-Type {ctype or '(none)'!r}: "
                                           f"send {PROTOBUF} or {JSON}")
            limit = self.cfg.max_request_body_size
            if request.content_length is not None and request.content_length > limit:
                raise TooLarge(f"body of {request.content_length} bytes exceeds max_request_body_size ({limit})")
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise TooLarge(f"body exceeds max_request_body_size ({limit} bytes)") from None
            body = inflate(body, request.headers.get("Content-Encoding", "").strip().lower(), limit)
            msg = sig.decode(body, json=json)
            n = sig.dispatch(self.ctx.consumers, msg, None if json else body)
            await self.ctx.consumers.commit()
        except TokenwatchError as e:
            self.refused += 1
            if tel is not None:
                tel.add(semconv.M_RECEIVER_REFUSED, 1, {**labels, "reason": e.reason})
            return error_response(e, json)
        if tel is not None:
            tel.add(semconv.M_RECEIVER_ACCEPTED, n, labels)
        resp = sig.response()
        if json:
            return web.Response(body=dumps(resp), content_type=JSON)
        return web.Response(body=resp.SerializeToString(), content_type=PROTOBUF)

    async def start(self) -> None:
        from otel_tokenwatch.httpserve import serve

        ssl_ctx = ssl_context(self.cfg.tls) if self.cfg.tls is not None else None
        self.runner, self.endpoint = await serve(self.app(), self.cfg.endpoint,
                                                 f"receivers.{self.ctx.id}.protocols.http.endpoint", ssl_ctx,
                                                 auto_decompress=False)

    async def shutdown(self) -> None:
        self.accepting = False
        if self.runner is not None:
            await self.runner.cleanup()

    def status(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "requests": self.requests, "refused": self.refused}
