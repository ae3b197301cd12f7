"""The queue, batcher and retry loop every exporter shares (the Collector's exporterhelper).

``offer`` never blocks: it appends to an in-memory queue. ``num_consumers``
workers take what is queued, up to ``batch.max_items``/``max_bytes``,
concatenate the encoded requests and call the transport's ``send``. A
retryable failure waits (the server's RetryInfo/Retry-After when given,
else exponential backoff with jitter) and tries the same batch again; a
permanent failure, or retrying past ``max_elapsed_time``, writes the batch
to the dead-letter file and counts it, so nothing disappears silently.
Each item's ``done`` is called once, after its batch is settled: that is
what releases the journal records behind it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.exporters.contract import ExporterContext, ExportItem, Signal
from otel_tokenwatch.exporters.deadletter import DeadLetter
from otel_tokenwatch.exporters.outcome import SendResult
from otel_tokenwatch.exporters.settings import SendingConfig
from otel_tokenwatch.exporters.spool import Spool

log = logging.getLogger("otel_tokenwatch.exporter")


class QueuedExporter:
    """Subclasses implement ``send(data)`` (and may override ``open``/``close``)."""

    def __init__(self, sending: SendingConfig, ctx: ExporterContext) -> None:
        self.id = ctx.id
        self.signal: Signal = ctx.signal
        self.ctx = ctx
        self.sending = sending
        self.queue: deque[ExportItem] = deque()
        self.queued_items = 0
        self.in_flight = 0
        #: items taken from the queue but not yet settled (still held in memory, still retried)
        self.in_flight_items = 0
        self.sent_items = 0
        self.failed_items = 0
        self.rejected_items = 0
        self.retries = 0
        self.last_error = ""
        self.last_error_at = 0.0
        self._wake = asyncio.Event() if _has_loop() else None
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False
        #: set by shutdown: workers end even if a cancellation was swallowed on the way
        self._stopped = False
        self.deadletter = DeadLetter(ctx.data_dir, ctx.id, ctx.signal)
        #: this exporter's own persistent queue (durability on only)
        self.spool: Spool | None = None
        if ctx.extras.get("durable"):
            import os

            safe = ctx.id.replace("/", "_")
            self.spool = Spool(os.path.join(ctx.data_dir, "spool", f"{safe}.{ctx.signal}.spool"))
        self._in_flight_batches: list[list[ExportItem]] = []
        tel = ctx.telemetry
        if tel is not None:
            labels = {"exporter": f"{ctx.id}/{ctx.signal}"}
            tel.observe(semconv.M_EXPORTER_QUEUE_SIZE,
                        lambda: [(float(self.queued_items + self.in_flight_items), labels)])
            tel.observe(semconv.M_EXPORTER_QUEUE_CAPACITY,
                        lambda: [(float(self.sending.sending_queue.queue_size), labels)])

    # --- the Exporter contract ------------------------------------------------------
    @property
    def saturated(self) -> bool:
        return self.queued_items + self.in_flight_items >= self.sending.sending_queue.queue_size

    def offer(self, item: ExportItem) -> None:
        item.at = time.monotonic()
        self.queue.append(item)
        self.queued_items += item.count
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        self._stopped = False
        if self._wake is None:
            self._wake = asyncio.Event()
        if self.spool is not None:
            for data, count in self.spool.replay():  # what a previous run moved here and did not deliver
                self.spool.outstanding += 1
                item = ExportItem(data, count, self._spool_settled, spooled=True)
                self.queue.append(item)
                self.queued_items += count
        if self.queue:
            self._wake.set()
        await self.open()
        for i in range(self.sending.sending_queue.num_consumers):
            self._workers.append(asyncio.create_task(self._worker(), name=f"export-{self.id}-{self.signal}-{i}"))
        if self.spool is not None and self.sending.sending_queue.spill_after > 0:
            self._workers.append(asyncio.create_task(self._spiller(), name=f"spill-{self.id}-{self.signal}"))

    # --- the spool: a slow backend never holds the shared journal ----------------------------
    def _spool_settled(self, ok: bool) -> None:
        if self.spool is not None:
            self.spool.settled()

    def spill(self, now: float) -> int:
        """Move items older than spill_after (queued or being retried) to the spool; returns how many."""
        assert self.spool is not None
        cut = now - self.sending.sending_queue.spill_after
        moved = 0
        for it in [*self.queue, *(i for b in self._in_flight_batches for i in b)]:
            if it.spooled or it.at > cut:
                continue
            self.spool.append(it.data, it.count)
            it.spooled = True
            release, it.done = it.done, self._spool_settled
            _done_cb(release, True)  # durable in the spool now: the journal may let it go
            moved += 1
        return moved

    async def _spiller(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, float(self.sending.sending_queue.spill_after) / 4))
            try:
                n = self.spill(time.monotonic())
            except OSError as e:
                log.error("could not spool undelivered items; they stay in the journal",
                          extra={"exporter": self.id, "error": str(e)})
                continue
            if n:
                log.warning("backend slow: undelivered items moved to this exporter's spool",
                            extra={"exporter": self.id, "items": n})

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Send what is queued within ``timeout``; what is left stays in the journal or is dead-lettered."""
        self._closing = True
        deadline = time.monotonic() + timeout
        while (self.queue or self.in_flight) and time.monotonic() < deadline and self._workers:
            if self._wake is not None:
                self._wake.set()
            await asyncio.sleep(0.02)
        self._stopped = True  # seen by workers even if a cancellation below is lost (see _worker)
        for w in self._workers:
            w.cancel()
        _, stuck = await asyncio.wait(self._workers, timeout=5.0) if self._workers else (set(), set())
        for w in stuck:  # not expected: say so rather than hang the shutdown
            log.warning("exporter worker did not stop within 5s", extra={"exporter": self.id, "task": w.get_name()})
        self._workers.clear()
        if self.queue:
            left = list(self.queue)
            self.queue.clear()
            n = sum(i.count for i in left)
            self.queued_items = 0
            if self.ctx.extras.get("durable"):
                log.warning("exporter stopped with data queued; the journal replays it on the next start",
                            extra={"exporter": self.id, "items": n})
            else:
                self._dead_letter(left, "shutdown", "stopped before the backend took it")
        await self.close()

    def status(self) -> dict[str, Any]:
        return {"queued_items": self.queued_items, "queue_capacity": self.sending.sending_queue.queue_size,
                "in_flight_batches": self.in_flight, "sent_items": self.sent_items,
                "failed_items": self.failed_items, "rejected_items": self.rejected_items,
                "retries": self.retries, "last_error": self.last_error,
                "last_error_at": self.last_error_at or None,
                "deadletter": self.deadletter.path if self.deadletter.written else None,
                "spooled_bytes": self.spool.bytes if self.spool is not None else None}

    # --- for subclasses ----------------------------------------------------------------
    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, data: bytes, count: int) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError

    # --- internals ---------------------------------------------------------------------
    def _take_batch(self) -> list[ExportItem]:
        b = self.sending.batch
        batch: list[ExportItem] = []
        items = size = 0
        while self.queue:
            nxt = self.queue[0]
            if batch and (items + nxt.count > b.max_items or size + len(nxt.data) > b.max_bytes):
                break
            self.queue.popleft()
            batch.append(nxt)
            items += nxt.count
            size += len(nxt.data)
        return batch

    def _batch_ready(self) -> bool:
        b = self.sending.batch
        if self._closing or b.flush_timeout == 0.0 or not self.in_flight:
            # nothing in flight: waiting for more would only add latency; while a send is in flight,
            # what arrives meanwhile gathers into the next batch (up to flush_timeout or a full batch)
            return True
        items = 0
        size = 0
        for it in self.queue:
            items += it.count
            size += len(it.data)
            if items >= b.max_items or size >= b.max_bytes:
                return True
        return False

    async def _worker(self) -> None:
        assert self._wake is not None
        # asyncio.wait_for in Python 3.11 can swallow a cancellation that arrives as the awaited send
        # completes: the worker then checks the flag, or it would retry a dead backend forever and the
        # shutdown waiting for it would hang
        while not self._stopped:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self._batch_ready():
                # wait for a full batch or flush_timeout, whichever is first
                try:
                    await asyncio.wait_for(self._until_full(), self.sending.batch.flush_timeout)
                except TimeoutError:
                    pass
            batch = self._take_batch()
            if not batch:
                continue
            n = sum(i.count for i in batch)
            self.queued_items -= n
            self.in_flight += 1
            self.in_flight_items += n
            self._in_flight_batches.append(batch)
            try:
                await self._deliver(batch, n)
            except asyncio.CancelledError:
                # shutdown while sending: put the batch back for the journal/dead letter
                for it in reversed(batch):
                    self.queue.appendleft(it)
                self.queued_items += n
                raise
            finally:
                self.in_flight -= 1
                self.in_flight_items -= n
                self._in_flight_batches.remove(batch)

    async def _until_full(self) -> None:
        while not self._batch_ready():
            await asyncio.sleep(0.01)

    async def _deliver(self, batch: list[ExportItem], n: int) -> None:
        data = batch[0].data if len(batch) == 1 else b"".join(i.data for i in batch)
        r = self.sending.retry_on_failure
        started = time.monotonic()
        interval = float(r.initial_interval)
        tel = self.ctx.telemetry
        labels = {"exporter": self.id, "signal": self.signal}
        while True:
            try:
                result = await asyncio.wait_for(self.send(data, n), self.sending.timeout + 1.0)
            except TimeoutError:
                result = SendResult(ok=False, retryable=True, reason="timeout", message="export timed out")
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a transport bug must not kill the worker
                result = SendResult(ok=False, retryable=True, reason="error", message=f"{type(e).__name__}: {e}")
            if result.ok:
                self.sent_items += n - result.rejected
                if tel is not None:
                    tel.add(semconv.M_EXPORTER_SENT, n - result.rejected, labels)
                if result.rejected:
                    self.rejected_items += result.rejected
                    if tel is not None:
                        tel.add(semconv.M_EXPORTER_REJECTED, result.rejected, labels)
                    log.warning("backend rejected part of an export (partial_success); not retried",
                                extra={"exporter": self.id, "rejected": result.rejected, "error": result.message})
                for it in batch:
                    _done(it, True)
                return
            self._note_error(result)
            elapsed = time.monotonic() - started
            give_up = not (result.retryable and r.enabled)
            if not give_up and r.max_elapsed_time > 0:
                give_up = elapsed >= r.max_elapsed_time
            if give_up:
                self._dead_letter(batch, result.reason or "failed", result.message)
                return
            if result.retry_after is not None:
                delay = result.retry_after
            else:
                delay = interval * (1 + r.randomization_factor * (2 * random.random() - 1))
                interval = min(interval * r.multiplier, float(r.max_interval))
            if r.max_elapsed_time > 0:
                delay = max(0.0, min(delay, r.max_elapsed_time - elapsed))
            if self._stopped:  # shutting down: the caller puts the batch back (journal or dead letter)
                raise asyncio.CancelledError
            self.retries += 1
            if tel is not None:
                tel.add(semconv.M_EXPORTER_RETRIED, 1, labels)
            await asyncio.sleep(delay)

    def _note_error(self, result: SendResult) -> None:
        msg = f"{result.reason}: {result.message}" if result.message else result.reason
        if msg != self.last_error:
            log.warning("export failed", extra={"exporter": self.id, "error": msg, "retryable": result.retryable})
        self.last_error = msg
        self.last_error_at = time.time()

    def _dead_letter(self, batch: list[ExportItem], reason: str, message: str) -> None:
        n = sum(i.count for i in batch)
        self.failed_items += n
        if self.ctx.telemetry is not None:
            self.ctx.telemetry.add(semconv.M_EXPORTER_FAILED, n,
                                   {"exporter": self.id, "signal": self.signal, "reason": reason})
        try:
            path = self.deadletter.write([i.data for i in batch])
            log.error("export gave up; data written to the dead-letter file",
                      extra={"exporter": self.id, "items": n, "error": f"{reason}: {message}", "path": path})
        except OSError as e:
            log.error("export gave up and the dead-letter file could not be written; data lost",
                      extra={"exporter": self.id, "items": n, "error": str(e)})
        for it in batch:
            _done(it, False)


def _done_cb(cb: Any, ok: bool) -> None:
    if cb is not None:
        try:
            cb(ok)
        except Exception:
            log.exception("delivery callback failed")


def _done(item: ExportItem, ok: bool) -> None:
    if item.done is not None:
        try:
            item.done(ok)
        except Exception:
            log.exception("delivery callback failed")


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False
