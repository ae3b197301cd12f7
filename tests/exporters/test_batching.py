"""When an exporter sends: at once when nothing is in flight (latency), batched while a send is."""

from __future__ import annotations

import asyncio
from pathlib import Path

from otel_tokenwatch.config.build import build
from otel_tokenwatch.exporters.contract import ExporterContext, ExportItem
from otel_tokenwatch.exporters.outcome import SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import SendingConfig


class Recording(QueuedExporter):
    """Holds each send until the test lets it finish, and notes what each one carried."""

    def __init__(self, sending: SendingConfig, ctx: ExporterContext) -> None:
        super().__init__(sending, ctx)
        self.sends: list[bytes] = []
        self.release = asyncio.Event()

    async def send(self, data: bytes, count: int) -> SendResult:
        self.sends.append(data)
        await self.release.wait()
        self.release.clear()
        return SendResult(ok=True)


async def test_idle_exporter_sends_at_once_and_batches_while_a_send_is_in_flight(tmp_path: Path) -> None:
    # a flush_timeout far longer than the test: any wait for it would show as a missing send
    cfg = build(SendingConfig, {"batch": {"flush_timeout": "30s"}, "sending_queue": {"num_consumers": 2}},
                "exporters.test")
    exp = Recording(cfg, ExporterContext(id="rec", signal="traces", data_dir=str(tmp_path)))
    await exp.start()
    try:
        exp.offer(ExportItem(b"a", 1))
        for _ in range(50):
            if exp.sends:
                break
            await asyncio.sleep(0.01)
        assert exp.sends == [b"a"]  # nothing was in flight: sent without waiting for a fuller batch
        exp.offer(ExportItem(b"b", 1))
        exp.offer(ExportItem(b"c", 1))
        await asyncio.sleep(0.2)
        assert exp.sends == [b"a"]  # "a" is in flight: the second worker waits for more (or flush_timeout)
        exp.release.set()  # "a" done: nothing in flight, what gathered goes as one batch
        for _ in range(50):
            if len(exp.sends) == 2:
                break
            await asyncio.sleep(0.01)
        assert exp.sends == [b"a", b"bc"]
        exp.release.set()
    finally:
        exp.release.set()
        await exp.shutdown(5)
