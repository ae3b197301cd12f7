"""Shared test helpers: run a real tokenwatch Service on loopback ports chosen by the OS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.config import from_mapping
from otel_tokenwatch.service import Service

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
if not FIXTURES.exists():  # the checkout may sit elsewhere; the fixtures live beside it
    FIXTURES = Path(os.environ.get("TOKENWATCH_FIXTURES", "/work/shared/fixtures"))


def need(binary: str) -> str:
    """The path of a server binary the set-up installs; a failure in CI, a skip elsewhere."""
    path = shutil.which(binary) or next((p for p in (f"/usr/bin/{binary}", f"/usr/sbin/{binary}")
                                         if os.path.exists(p)), None)
    if path is None:
        msg = f"{binary} is not installed (make test installs it via .ci/install-servers.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def otlp_receiver(grpc: bool = True, http: bool = True, http_settings: dict[str, Any] | None = None,
                  grpc_settings: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    protocols: dict[str, Any] = {}
    if grpc:
        protocols["grpc"] = {"endpoint": "127.0.0.1:0", **(grpc_settings or {})}
    if http:
        protocols["http"] = {"endpoint": "127.0.0.1:0", **(http_settings or {})}
    return {"protocols": protocols, **extra}


def service_config(tmp: Path, *, processors: dict[str, Any] | None = None, exporters: dict[str, Any],
                   traces_processors: list[str] | None = None, receivers: dict[str, Any] | None = None,
                   durability: str = "journal", metrics_logs: bool = False) -> dict[str, Any]:
    exp_ids = [e for e in exporters if not e.startswith(("file/metrics", "file/logs"))]
    pipelines: dict[str, Any] = {"traces": {"receivers": list(receivers or {"otlp": None}),
                                            "processors": traces_processors or [],
                                            "exporters": exp_ids}}
    if metrics_logs:
        exporters = {**exporters, "file/metrics": {"path": str(tmp / "metrics.jsonl")},
                     "file/logs": {"path": str(tmp / "logs.jsonl")}}
        pipelines["metrics"] = {"receivers": ["otlp"], "exporters": ["file/metrics"]}
        pipelines["logs"] = {"receivers": ["otlp"], "exporters": ["file/logs"]}
    return {
        "receivers": receivers or {"otlp": otlp_receiver()},
        "processors": processors or {},
        "exporters": exporters,
        "service": {"data_dir": str(tmp / "data"), "pipelines": pipelines,
                    "durability": {"mode": durability},
                    "telemetry": {"admin": {"endpoint": "127.0.0.1:0"}}},
    }


@contextlib.asynccontextmanager
async def running(raw: dict[str, Any]) -> AsyncIterator[Service]:
    svc = Service(from_mapping(raw, "<test>"))
    await svc.start()
    try:
        yield svc
    finally:
        await svc.shutdown(timeout=10)


def grpc_endpoint(svc: Service, receiver: str = "otlp") -> str:
    return svc.endpoints()[receiver]["grpc"]


def http_endpoint(svc: Service, receiver: str = "otlp") -> str:
    return "http://" + svc.endpoints()[receiver]["http"]


async def wait_for(cond: Any, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Poll ``cond()`` until true; fail with a clear message after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real Redis (Debian's package) for the tests of one module; each takes its own key prefix."""
    from tests.servers import redis_server

    with redis_server() as url:
        yield url
