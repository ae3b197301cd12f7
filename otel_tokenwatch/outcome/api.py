"""The outcome API on the receivers' ports: HTTP ``POST /v1/outcomes`` and gRPC ``OutcomeService.Report``.

Both parse into the same validated ``Outcome`` objects and call the same
intake, so their answers cannot drift: 202 (or OK) with counts of applied,
held and duplicate reports; 400/INVALID_ARGUMENT naming the bad field;
401/UNAUTHENTICATED without the configured bearer token; 413 past the body
limit.
"""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from aiohttp import web

from otel_tokenwatch.errors import (
    BadRequest,
    TokenwatchError,
    TooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    token_ok,
)
from otel_tokenwatch.outcome.intake import OutcomeIntake
from otel_tokenwatch.outcome.model import Outcome, validate
from otel_tokenwatch.outcome.v1 import outcome_pb2

MAX_OUTCOMES_PER_REQUEST = 1000


def parse_json(body: bytes) -> list[Outcome]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise BadRequest(f"body is not JSON: {e}") from None
    items = doc if isinstance(doc, list) else [doc]
    if not items or len(items) > MAX_OUTCOMES_PER_REQUEST:
        raise BadRequest(f"send 1 to {MAX_OUTCOMES_PER_REQUEST} outcomes per request")
    out = []
    for i, it in enumerate(items):
        where = f"outcomes[{i}]" if isinstance(doc, list) else "outcome"
        if not isinstance(it, dict):
            raise BadRequest(f"{where}: expected an object")
        unknown = set(it) - {"trace_id", "conversation_id", "outcome", "kpis", "time_unix_nano"}
        if unknown:
            raise BadRequest(f"{where}.{min(unknown)}: unknown field")
        out.append(validate(it.get("outcome"), it.get("trace_id", ""), it.get("conversation_id", ""),
                            it.get("kpis"), it.get("time_unix_nano", 0), where))
    return out


def parse_proto(req: outcome_pb2.ReportRequest) -> list[Outcome]:
    if not req.outcomes or len(req.outcomes) > MAX_OUTCOMES_PER_REQUEST:
        raise BadRequest(f"send 1 to {MAX_OUTCOMES_PER_REQUEST} outcomes per request")
    return [validate(o.outcome, o.trace_id, o.conversation_id, dict(o.kpis), o.time_unix_nano, f"outcomes[{i}]")
            for i, o in enumerate(req.outcomes)]


class OutcomeAPI:
    def __init__(self, intake: OutcomeIntake, auth_token: str = "", max_body_size: int = 2**20) -> None:
        self.intake = intake
        self.auth_token = auth_token
        self.max_body_size = max_body_size

    # --- HTTP ---------------------------------------------------------------------------
    async def http_report(self, request: web.Request) -> web.Response:
        try:
            if self.auth_token and not token_ok(request.headers.get("Authorization"), self.auth_token):
                raise Unauthenticated("missing or wrong bearer token in the Authorization header")
            if request.content_type != "application/json":
                raise UnsupportedMediaType("send application/json")
            if request.content_length is not None and request.content_length > self.max_body_size:
                raise TooLarge(f"body exceeds {self.max_body_size} bytes")
            body = await request.content.read(self.max_body_size + 1)
            if len(body) > self.max_body_size:
                raise TooLarge(f"body exceeds {self.max_body_size} bytes")
            result = self.intake.report(parse_json(body))
        except TokenwatchError as e:
            self.intake._count("rejected")
            return web.json_response({"code": e.grpc_code.value[0], "message": e.message}, status=e.http_status)
        return web.json_response(result, status=202)

    def http_routes(self) -> list[tuple[str, str, Any]]:
        return [("POST", "/v1/outcomes", self.http_report)]

    # --- gRPC ---------------------------------------------------------------------------
    async def grpc_report(self, req: outcome_pb2.ReportRequest, context: grpc.aio.ServicerContext
                          ) -> outcome_pb2.ReportResponse:
        try:
            if self.auth_token:
                md = dict(context.invocation_metadata() or ())
                if not token_ok(md.get("authorization"), self.auth_token):
                    raise Unauthenticated("missing or wrong bearer token in the authorization metadata")
            result = self.intake.report(parse_proto(req))
        except TokenwatchError as e:
            self.intake._count("rejected")
            await context.abort(e.grpc_code, e.message)
            raise
        return outcome_pb2.ReportResponse(applied=result["applied"], held=result["held"],
                                          duplicates=result["duplicates"])

    def grpc_handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler("tokenwatch.outcome.v1.OutcomeService", {
            "Report": grpc.unary_unary_rpc_method_handler(
                self.grpc_report, request_deserializer=outcome_pb2.ReportRequest.FromString,
                response_serializer=outcome_pb2.ReportResponse.SerializeToString)})
