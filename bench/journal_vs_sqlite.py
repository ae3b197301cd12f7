"""The durability choice, measured: tokenwatch's append-only journal vs SQLite in WAL mode (prints figures).

Both store the same encoded requests (the bench workload, ~220 KB each) and make them durable the
same two ways: `write` (survives a process crash) and `fsync` (survives power loss), with group
commits of 8 requests as concurrent receivers produce them; then each releases what was delivered.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import traces

from otel_tokenwatch.config.service import DurabilityConfig
from otel_tokenwatch.journal import Journal

GROUP = 8


async def journal_run(reqs: list[bytes], sync: str) -> float:
    d = tempfile.mkdtemp(prefix="twj-")
    j = Journal(d, DurabilityConfig(sync=sync))  # type: ignore[arg-type]
    t0 = time.perf_counter()
    for i in range(0, len(reqs), GROUP):
        seqs = [j.append("traces", r, "otlp") for r in reqs[i:i + GROUP]]
        await j.commit()
        for s in seqs:
            j.hold(s, 1)
            j.release(s)
    el = time.perf_counter() - t0
    j.close()
    return el


def sqlite_run(reqs: list[bytes], sync: str) -> float:
    d = tempfile.mkdtemp(prefix="tws-")
    db = sqlite3.connect(os.path.join(d, "q.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if sync == 'fsync' else 'OFF'}")
    db.execute("CREATE TABLE q (seq INTEGER PRIMARY KEY, signal TEXT, body BLOB)")
    t0 = time.perf_counter()
    for i in range(0, len(reqs), GROUP):
        db.execute("BEGIN")
        ids = [db.execute("INSERT INTO q (signal, body) VALUES ('traces', ?)", (r,)).lastrowid
               for r in reqs[i:i + GROUP]]
        db.execute("COMMIT")
        db.executemany("DELETE FROM q WHERE seq = ?", [(x,) for x in ids])
    el = time.perf_counter() - t0
    db.close()
    return el


def main() -> None:
    reqs = traces.batch_requests(traces.make_trees(3000))
    mb = sum(len(r) for r in reqs) / 2**20
    print(f"{len(reqs)} requests, {mb:.0f} MiB, group commit of {GROUP}")
    for sync in ("write", "fsync"):
        j = asyncio.run(journal_run(reqs, sync))
        s = sqlite_run(reqs, sync)
        print(f"sync={sync:5}  journal {mb / j:8.0f} MiB/s   sqlite-wal {mb / s:8.0f} MiB/s   "
              f"journal/sqlite {s / j:.2f}x")


if __name__ == "__main__":
    main()
