"""OTLP over gRPC: the three Export services, served from raw bytes.

The handlers take the request as bytes (no generated servicer), so the
exact bytes the client sent are what the journal stores and what a
pass-through pipeline forwards. Refusals carry a ``google.rpc.RetryInfo``
in ``grpc-status-details-bin`` as the OTLP spec asks, which the SDK and
Collector exporters honour.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import Refused, TokenwatchError, Unauthenticated, Unavailable, token_ok
from otel_tokenwatch.receivers.contract import ReceiverContext
from otel_tokenwatch.receivers.otlp.config import GrpcProtocol
from otel_tokenwatch.receivers.otlp.signals import SIGNALS, Signal
from otel_tokenwatch.receivers.otlp.tls import grpc_credentials

log = logging.getLogger("otel_tokenwatch.receiver")


def status_details(code: grpc.StatusCode, message: str, retry_after: float | None) -> bytes:
    """A serialized google.rpc.Status, with RetryInfo when the client should come back later."""
    st = status_pb2.Status(code=code.value[0], message=message)
    if retry_after is not None:
        info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(
            seconds=int(retry_after), nanos=int((retry_after % 1) * 1e9)))
        packed = any_pb2.Any()
        packed.Pack(info)
        st.details.append(packed)
    return cast(bytes, st.SerializeToString())


class GrpcServer:
    transport = "grpc"

    def __init__(self, cfg: GrpcProtocol, ctx: ReceiverContext, auth_token: str = "") -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.auth_token = auth_token
        self.endpoint = cfg.endpoint
        self.server: grpc.aio.Server | None = None
        self.accepting = True
        self.requests = 0
        self.refused = 0

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        handlers: list[grpc.GenericRpcHandler] = []
        for sig in SIGNALS.values():
            if not self.ctx.consumers.accepts(sig.name):
                continue
            service, method = sig.grpc_method.lstrip("/").rsplit("/", 1)

            async def export(body: bytes, context: grpc.aio.ServicerContext, _sig: Signal = sig) -> bytes:
                return await self._export(_sig, body, context)

            handlers.append(grpc.method_handlers_generic_handler(service, {
                method: grpc.unary_unary_rpc_method_handler(export)}))
        handlers.extend(self.ctx.consumers.grpc_handlers)
        return handlers

    async def _export(self, sig: Signal, body: bytes, context: grpc.aio.ServicerContext) -> bytes:
        self.requests += 1
        tel = self.ctx.telemetry
        labels = {"receiver": self.ctx.id, "transport": "grpc", "signal": sig.name}
        try:
            if not self.accepting:
                raise Unavailable("tokenwatch is shutting down; retry another replica or later")
            if self.auth_token:
                md = dict(context.invocation_metadata() or ())
                if not token_ok(md.get("authorization"), self.auth_token):
                    raise Unauthenticated("missing or wrong bearer token in the authorization metadata")
            msg = sig.decode(body, json=False)
            n = sig.dispatch(self.ctx.consumers, msg, body)
            await self.ctx.consumers.commit()
        except TokenwatchError as e:
            self.refused += 1
            if tel is not None:
                tel.add(semconv.M_RECEIVER_REFUSED, 1, {**labels, "reason": e.reason})
            retry_after = getattr(e, "retry_after", None) if isinstance(e, (Refused, Unavailable)) else None
            await context.abort(e.grpc_code, e.message, trailing_metadata=(
                ("grpc-status-details-bin", status_details(e.grpc_code, e.message, retry_after)),))
            raise  # unreachable: abort raises
        if tel is not None:
            tel.add(semconv.M_RECEIVER_ACCEPTED, n, labels)
        return cast(bytes, sig.response().SerializeToString())

    async def start(self) -> None:
        limit = self.cfg.max_recv_msg_size_mib * 2**20
        self.server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", 4 * 2**20),
            ("grpc.so_reuseport", 0),
        ])
        self.server.add_generic_rpc_handlers(tuple(self._handlers()))
        host, _, _ = self.cfg.endpoint.rpartition(":")
        try:
            if self.cfg.tls is not None:
                bound = self.server.add_secure_port(self.cfg.endpoint, grpc_credentials(self.cfg.tls))
            else:
                bound = self.server.add_insecure_port(self.cfg.endpoint)
        except RuntimeError as e:
            raise OSError(f"receivers.{self.ctx.id}: cannot listen on gRPC endpoint {self.cfg.endpoint} "
                          f"(port in use or address not local?): {e}") from None
        self.endpoint = f"{host}:{bound}"
        await self.server.start()

    async def shutdown(self, grace: float = 5.0) -> None:
        self.accepting = False
        if self.server is not None:
            await self.server.stop(grace)

    def status(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "requests": self.requests, "refused": self.refused}
