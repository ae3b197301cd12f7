"""Shutdown ends even when a worker's cancellation is lost while it retries a dead backend."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.config.build import build
from otel_tokenwatch.exporters import queued
from otel_tokenwatch.exporters.contract import ExporterContext, ExportItem
from otel_tokenwatch.exporters.outcome import SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import SendingConfig


class DeadBackend(QueuedExporter):
    """A backend that takes its time to fail: a worker is nearly always inside send, where a lost
    cancellation leaves it."""

    async def send(self, data: bytes, count: int) -> SendResult:
        await asyncio.sleep(1.0)
        return SendResult(ok=False, retryable=True, reason="unavailable", message="dead backend")


async def lossy_wait_for(aw: Any, timeout: float | None) -> Any:
    """asyncio.wait_for as Python 3.11 can behave when a cancellation arrives as the awaited call
    completes: the call's result comes back and the cancellation is gone."""
    task = asyncio.ensure_future(aw)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        assert current is not None
        current.uncancel()
        return await task


async def test_shutdown_ends_though_a_cancellation_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = build(SendingConfig, {"retry_on_failure": {"initial_interval": "10ms", "max_interval": "10ms",
                                                     "max_elapsed_time": 0}}, "exporters.test")
    monkeypatch.setattr(queued.asyncio, "wait_for", lossy_wait_for)  # the test bounds itself with asyncio.wait
    exp = DeadBackend(cfg, ExporterContext(id="dead", signal="traces", data_dir=str(tmp_path)))
    await exp.start()
    done: list[bool] = []
    exp.offer(ExportItem(b"", 1, done.append))  # an empty request: what is dead-lettered must parse
    await asyncio.sleep(1.3)  # retrying by now, inside its second send
    assert exp.retries > 0
    t0 = time.monotonic()
    stopping = asyncio.ensure_future(exp.shutdown(0.2))
    finished, _ = await asyncio.wait({stopping}, timeout=15)
    # without the stop flag the worker retried for ever and the shutdown never returned
    assert stopping in finished, "shutdown hung on a worker whose cancellation was lost"
    stopping.result()
    assert time.monotonic() - t0 < 6
    # the item was not lost: it is dead-lettered (no journal here), its done called once with False
    assert done == [False]
