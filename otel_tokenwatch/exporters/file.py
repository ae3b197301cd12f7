"""The ``file`` exporter: one OTLP/JSON export request per line, as the Collector's file exporter.

Rotation is by size (``rotation.max_megabytes``), keeping ``max_backups``
older files named ``<name>-<UTC time>.<ext>``, the Collector's lumberjack
convention. ``format: proto`` writes the Collector's length-prefixed
protobuf instead. Both are readable by ``tokenwatch score``.
"""

from __future__ import annotations

import asyncio
import glob
import os
import struct
import time
from dataclasses import dataclass, field
from typing import Literal

from otel_tokenwatch.config.build import Duration, require
from otel_tokenwatch.exporters.contract import ExporterContext, ExporterFactory
from otel_tokenwatch.exporters.deadletter import request_class
from otel_tokenwatch.exporters.outcome import SENT, SendResult
from otel_tokenwatch.exporters.queued import QueuedExporter
from otel_tokenwatch.exporters.settings import BatchConfig, QueueConfig, RetryConfig, SendingConfig
from otel_tokenwatch.otlp.jsoncodec import dumps


@dataclass(frozen=True)
class RotationConfig:
    max_megabytes: int = 100
    max_backups: int = 10

    def validate(self, path: str) -> None:
        require(self.max_megabytes >= 1, f"{path}.max_megabytes", "must be >= 1")
        require(self.max_backups >= 0, f"{path}.max_backups", "must be >= 0")


@dataclass(frozen=True)
class FileConfig(SendingConfig):
    path: str = ""
    format: Literal["json", "proto"] = "json"
    rotation: RotationConfig = field(default_factory=RotationConfig)
    #: fsync after each write (slower; survives power loss)
    fsync: bool = False
    # a local file needs no long timeouts or many writers
    timeout: Duration = Duration(30.0)
    sending_queue: QueueConfig = field(default_factory=lambda: QueueConfig(num_consumers=1))
    batch: BatchConfig = field(default_factory=lambda: BatchConfig(flush_timeout=Duration(0.05)))
    retry_on_failure: RetryConfig = field(default_factory=lambda: RetryConfig(initial_interval=Duration(1.0)))

    def validate(self, path: str) -> None:
        require(bool(self.path), f"{path}.path", "missing")


class FileExporter(QueuedExporter):
    def __init__(self, cfg: FileConfig, ctx: ExporterContext) -> None:
        super().__init__(cfg, ctx)
        self.cfg = cfg
        self.path = cfg.path
        self.request_cls = request_class(ctx.signal)
        self._size = 0
        self._fd: int | None = None

    async def open(self) -> None:
        self._open()

    def _open(self) -> None:
        d = os.path.dirname(self.path)
        if d:
            os.makedirs(d, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def encode(self, data: bytes) -> bytes:
        if self.cfg.format == "proto":
            return struct.pack(">I", len(data)) + data
        return dumps(self.request_cls.FromString(data)) + b"\n"

    async def send(self, data: bytes, count: int) -> SendResult:
        out = self.encode(data)
        try:
            await asyncio.to_thread(self._write, out)
        except OSError as e:
            # disk full or gone: retryable, the operator can free space
            return SendResult(ok=False, retryable=True, reason="io", message=f"{self.path}: {e.strerror}")
        return SENT

    def _write(self, out: bytes) -> None:
        if self._fd is None:
            self._open()
        limit = self.cfg.rotation.max_megabytes * 2**20
        if self._size and self._size + len(out) > limit:
            self._rotate()
        assert self._fd is not None
        view = memoryview(out)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        if self.cfg.fsync:
            os.fsync(self._fd)
        self._size += len(out)

    def _rotate(self) -> None:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        base, ext = os.path.splitext(self.path)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}"
        os.replace(self.path, f"{base}-{stamp}{ext}")
        backups = sorted(glob.glob(f"{glob.escape(base)}-*{ext}"))
        for old in backups[:max(0, len(backups) - self.cfg.rotation.max_backups)]:
            os.remove(old)
        self._open()


def _create(cfg: FileConfig, ctx: ExporterContext) -> FileExporter:
    return FileExporter(cfg, ctx)


FACTORY = ExporterFactory(type="file", config_class=FileConfig, create=_create, stability="beta")
