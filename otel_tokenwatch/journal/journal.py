"""The durable journal: request bytes on disk before the client's OK, released after delivery.

Why a journal of raw requests rather than a queue per exporter: tokenwatch
also holds spans for assembly, and that buffer must survive a crash too. The
receiver appends the request as it arrived (one record), the pipeline counts
how many trees (or pass-through items) the request fed, and every delivery
(or dead-letter) releases one. A segment file is deleted once every record
in it is released. On start the journal replays unreleased records through
the same pipeline: trees are rebuilt and exports re-sent. Delivery is
at-least-once: a backend may see a span twice after a crash, never zero
times.

Record: ``b"TW" | u32 length | u32 crc32(payload) | u64 seq | u8 signal | payload``.
Released sequence numbers are appended to ``released.log`` (u64 each) so a
restart skips what was already delivered. ``sync`` chooses the guarantee:
``write`` (the OS has the bytes before the OK: survives a killed process),
``fsync`` (on the disk, group-committed: survives a machine crash).
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from otel_tokenwatch.config.service import DurabilityConfig

log = logging.getLogger("otel_tokenwatch.journal")

_HEAD = struct.Struct(">2sIIQB")
_SIGNALS = {"traces": 1, "metrics": 2, "logs": 3}
_SIGNAL_NAMES = {v: k for k, v in _SIGNALS.items()}


class _Segment:
    __slots__ = ("fd", "first_seq", "live", "path", "size")

    def __init__(self, path: Path, first_seq: int) -> None:
        self.path = path
        self.first_seq = first_seq
        self.size = 0
        self.live: set[int] = set()
        self.fd: int | None = None


class Journal:
    """Append-only segments with per-record reference counts. Driven from one event loop."""

    def __init__(self, directory: str, config: DurabilityConfig) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self._segments: list[_Segment] = []
        self._seq_segment: dict[int, _Segment] = {}
        self._refs: dict[int, int] = {}
        self._holding: set[int] = set()
        self._next_seq = 1
        self.bytes_on_disk = 0
        self.appended = 0
        self.released = 0
        self._released_fd = os.open(self.dir / "released.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._sync_task: asyncio.Future[None] | None = None
        self._dirty = False

    # --- writing ----------------------------------------------------------------------
    @property
    def full(self) -> bool:
        return self.bytes_on_disk >= self.config.max_bytes

    def _active(self) -> _Segment:
        seg = self._segments[-1] if self._segments else None
        if seg is None or seg.fd is None or seg.size >= self.config.segment_bytes:
            if seg is not None and seg.fd is not None:
                os.close(seg.fd)
                seg.fd = None
                self._maybe_delete(seg)
            seg = _Segment(self.dir / f"seg-{time.time_ns():020d}-{self._next_seq:012d}.log", self._next_seq)
            seg.fd = os.open(seg.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._segments.append(seg)
        return seg

    def append(self, signal: str, payload: bytes, origin: str = "") -> int:
        """Write one request as received by ``origin`` (a receiver id); returns its sequence number."""
        o = origin.encode()[:255]
        prefix = bytes((len(o),)) + o
        seq = self._next_seq
        self._next_seq += 1
        seg = self._active()
        # header, origin and request handed to the kernel as they are: the request is not copied
        size = len(prefix) + len(payload)
        head = _HEAD.pack(b"TW", size, zlib.crc32(payload, zlib.crc32(prefix)), seq, _SIGNALS[signal])
        assert seg.fd is not None
        _write_all(seg.fd, [head, prefix, payload])
        record_len = len(head) + size
        seg.size += record_len
        seg.live.add(seq)
        self._seq_segment[seq] = seg
        self._refs[seq] = 0
        self._holding.add(seq)  # until the pipeline says how many items it made
        self.bytes_on_disk += record_len
        self.appended += 1
        self._dirty = True
        return seq

    async def commit(self) -> None:
        """Return when everything appended so far is as durable as ``sync`` promises."""
        if self.config.sync != "fsync" or not self._dirty:
            return
        if self._sync_task is None:
            self._sync_task = asyncio.ensure_future(self._fsync())
        task = self._sync_task
        await asyncio.shield(task)

    async def _fsync(self) -> None:
        await asyncio.sleep(0.002)  # let concurrent appends join this group commit
        self._dirty = False
        fds = [s.fd for s in self._segments if s.fd is not None]
        self._sync_task = None
        # the list is only a loop (os.fsync returns None)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: [os.fsync(fd) for fd in fds])  # type: ignore[func-returns-value]

    # --- reference counting --------------------------------------------------------------
    def hold(self, seq: int, items: int) -> None:
        """The request fed ``items`` trees or pass-through items; replace the pipeline's own hold."""
        if seq not in self._refs:
            return
        self._holding.discard(seq)
        self._refs[seq] += items
        if self._refs[seq] <= 0:
            self._release(seq)

    def release(self, seq: int) -> None:
        """One item that came from ``seq`` was delivered (or dead-lettered)."""
        if seq not in self._refs:
            return
        self._refs[seq] -= 1
        if self._refs[seq] <= 0 and seq not in self._holding:
            self._release(seq)

    def _release(self, seq: int) -> None:
        del self._refs[seq]
        self.released += 1
        os.write(self._released_fd, struct.pack(">Q", seq))
        seg = self._seq_segment.pop(seq, None)
        if seg is not None:
            seg.live.discard(seq)
            self._maybe_delete(seg)

    def _maybe_delete(self, seg: _Segment) -> None:
        if seg.live or seg.fd is not None:
            return
        try:
            os.unlink(seg.path)
        except FileNotFoundError:
            pass
        self.bytes_on_disk -= seg.size
        self._segments.remove(seg)
        if not self._segments:
            # nothing outstanding: start the released log afresh so it cannot grow forever
            os.ftruncate(self._released_fd, 0)

    # --- recovery ----------------------------------------------------------------------
    def replay(self) -> Iterator[tuple[int, str, str, bytes]]:
        """Unreleased records of a previous run, oldest first, re-registered: (seq, signal, origin, body)."""
        released: set[int] = set()
        try:
            data = (self.dir / "released.log").read_bytes()
            released = {struct.unpack_from(">Q", data, i)[0] for i in range(0, len(data) - len(data) % 8, 8)}
        except FileNotFoundError:
            pass
        old = sorted(p for p in self.dir.glob("seg-*.log") if all(p != s.path for s in self._segments))
        records: list[tuple[str, str, bytes]] = []
        for path in old:
            blob = path.read_bytes()
            pos = 0
            while pos + _HEAD.size <= len(blob):
                magic, length, crc, seq, sig = _HEAD.unpack_from(blob, pos)
                body = blob[pos + _HEAD.size: pos + _HEAD.size + length]
                if magic != b"TW" or len(body) != length or zlib.crc32(body) != crc:
                    log.warning("journal record damaged; the rest of the segment is skipped",
                                extra={"segment": path.name, "offset": pos})
                    break
                pos += _HEAD.size + length
                if seq not in released and sig in _SIGNAL_NAMES and body:
                    olen = body[0]
                    records.append((_SIGNAL_NAMES[sig], body[1:1 + olen].decode(errors="replace"), body[1 + olen:]))
        # start a clean generation: re-append survivors, then drop the old files
        os.ftruncate(self._released_fd, 0)
        fresh = [(self.append(sig, body, origin), sig, origin, body) for sig, origin, body in records]
        for path in old:
            path.unlink(missing_ok=True)
        yield from fresh

    def close(self) -> None:
        for s in self._segments:
            if s.fd is not None:
                os.close(s.fd)
                s.fd = None
        os.close(self._released_fd)


def _write_all(fd: int, parts: list[bytes]) -> None:
    """``os.writev`` until every byte is written (a regular file may take a write in parts)."""
    done = os.writev(fd, parts)
    total = sum(map(len, parts))
    if done < total:
        rest = b"".join(parts)[done:]
        while rest:
            rest = rest[os.write(fd, rest):]
