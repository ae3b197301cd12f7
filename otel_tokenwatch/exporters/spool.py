"""One exporter's own persistent queue: what it could not deliver for a while, on disk.

The shared journal holds a request until every exporter has confirmed it. An exporter whose
backend is slow or down would therefore hold the journal, fill it, and make the receivers refuse
data the other backends could take. Instead, items older than ``spill_after`` are appended here
and released from the journal; the spool is replayed on start and truncated once everything in it
was delivered (or dead-lettered). At-least-once: after a crash the spool is sent again.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

_HEAD = struct.Struct(">II")  # payload length, item count


class Spool:
    def __init__(self, path: str) -> None:
        self.path = path
        self.outstanding = 0  # spooled items not yet settled
        self.bytes = 0

    def append(self, data: bytes, count: int) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path, "ab") as f:
            f.write(_HEAD.pack(len(data), count) + data)
        self.outstanding += 1
        self.bytes += _HEAD.size + len(data)

    def settled(self) -> None:
        """One spooled item was delivered or dead-lettered; an empty spool is removed."""
        self.outstanding -= 1
        if self.outstanding <= 0:
            self.outstanding = 0
            self.bytes = 0
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def replay(self) -> Iterator[tuple[bytes, int]]:
        """What a previous run spooled and did not deliver (a torn last record is dropped: it was never
        released from the journal, which replays it)."""
        try:
            with open(self.path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            return
        pos = 0
        while pos + _HEAD.size <= len(blob):
            n, count = _HEAD.unpack_from(blob, pos)
            if pos + _HEAD.size + n > len(blob):
                break
            yield blob[pos + _HEAD.size:pos + _HEAD.size + n], count
            pos += _HEAD.size + n
        self.bytes = pos
