"""The admin HTTP port: /metrics (Prometheus text), /healthz, /readyz, /status.json and a status page.

It runs on its own port so a scrape or a health probe never competes with
OTLP traffic, and it shows operators what the service is doing without a
backend: what is configured, spans in and out, open trees, queue sizes and
the last errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from otel_tokenwatch.admin.page import render_status_page


class AdminServer:
    def __init__(self, endpoint: str, telemetry: Any, status: Callable[[], dict[str, Any]],
                 ready: Callable[[], bool]) -> None:
        self.config_endpoint = endpoint
        self.endpoint = endpoint
        self.telemetry = telemetry
        self.status = status
        self.ready = ready
        self.runner: web.AppRunner | None = None
        #: extra routes (method, path, handler) other components add before start (the outcome API)
        self.routes: list[tuple[str, str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/status.json", self._status_json)
        app.router.add_get("/", self._page)
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self.telemetry.prometheus_text()
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        if self.ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "not ready"}, status=503)

    async def _status_json(self, request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(self.status(), default=str), content_type="application/json")

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=render_status_page(self.status()), content_type="text/html")

    async def start(self) -> None:
        from otel_tokenwatch.httpserve import serve

        self.runner, self.endpoint = await serve(self.app(), self.config_endpoint, "service.telemetry.admin.endpoint")

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
