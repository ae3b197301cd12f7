"""Real OTLP servers for tests: gRPC and HTTP, that can be told to fail before they accept."""

from __future__ import annotations

from typing import Any

import grpc
from aiohttp import web
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class FlakyGrpcBackend:
    """TraceService that answers UNAVAILABLE (with RetryInfo) ``fail_first`` times, then stores everything."""

    def __init__(self, fail_first: int = 0, retry_delay: float = 0.3, port: int = 0) -> None:
        self.fail_first = fail_first
        self.retry_delay = retry_delay
        self.port = port
        self.calls = 0
        self.call_times: list[float] = []
        self.requests: list[ExportTraceServiceRequest] = []
        self.server: grpc.aio.Server | None = None

    async def _export(self, body: bytes, context: grpc.aio.ServicerContext) -> bytes:
        import time

        self.calls += 1
        self.call_times.append(time.monotonic())
        if self.calls <= self.fail_first:
            info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(
                seconds=int(self.retry_delay), nanos=int((self.retry_delay % 1) * 1e9)))
            packed = any_pb2.Any()
            packed.Pack(info)
            st = status_pb2.Status(code=grpc.StatusCode.UNAVAILABLE.value[0], message="warming up", details=[packed])
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up",
                                trailing_metadata=(("grpc-status-details-bin", st.SerializeToString()),))
        self.requests.append(ExportTraceServiceRequest.FromString(body))
        return ExportTraceServiceResponse().SerializeToString()

    async def start(self) -> str:
        self.server = grpc.aio.server()
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc.unary_unary_rpc_method_handler(self._export)}),))
        self.port = self.server.add_insecure_port(f"127.0.0.1:{self.port}")
        await self.server.start()
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)


class FlakyHttpBackend:
    """/v1/traces answering 503 + Retry-After ``fail_first`` times, then storing everything."""

    def __init__(self, fail_first: int = 0, port: int = 0, status: int = 503) -> None:
        self.fail_first = fail_first
        self.port = port
        self.status = status
        self.calls = 0
        self.call_times: list[float] = []
        self.requests: list[ExportTraceServiceRequest] = []
        self.runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        import time

        self.calls += 1
        self.call_times.append(time.monotonic())
        if self.calls <= self.fail_first:
            return web.Response(status=self.status, headers={"Retry-After": "1"}, text="busy")
        body = await request.read()  # aiohttp has already undone Content-Encoding: gzip
        self.requests.append(ExportTraceServiceRequest.FromString(body))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/v1/traces", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
