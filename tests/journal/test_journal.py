"""The journal keeps every unreleased request across a restart and forgets released ones."""

from __future__ import annotations

import os
from pathlib import Path

from otel_tokenwatch.journal import DurabilityConfig, Journal


def test_reference_counts_release_only_after_every_item(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig())
    seq = j.append("traces", b"payload", "otlp")
    j.release(seq)  # a delivery that races ahead of the hold must not free the record
    assert j.released == 0
    j.hold(seq, 3)
    j.release(seq)
    assert j.released == 0
    j.release(seq)
    assert j.released == 1
    j.close()


def test_replay_returns_unreleased_records_with_origin(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig(segment_bytes=200))
    seqs = [j.append("traces" if i % 2 else "logs", f"r{i}".encode() * 20, f"rx{i % 2}") for i in range(10)]
    for s in seqs[:6]:
        j.hold(s, 1)
        j.release(s)
    for s in seqs[6:]:
        j.hold(s, 1)
    j.close()
    j2 = Journal(str(tmp_path), DurabilityConfig())
    got = [(sig, origin, body) for _, sig, origin, body in j2.replay()]
    assert got == [("traces" if i % 2 else "logs", f"rx{i % 2}", f"r{i}".encode() * 20) for i in range(6, 10)]
    # the survivors were re-journaled: a second crash still keeps them
    j2.close()
    j3 = Journal(str(tmp_path), DurabilityConfig())
    assert len(list(j3.replay())) == 4
    j3.close()


def test_segments_are_deleted_when_released(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig(segment_bytes=100))
    seqs = [j.append("traces", b"x" * 80) for _ in range(5)]
    assert len([p for p in os.listdir(tmp_path) if p.startswith("seg-")]) >= 4
    for s in seqs:
        j.hold(s, 1)
        j.release(s)
    j.append("traces", b"tail")  # rotation closes the last full segment
    assert len([p for p in os.listdir(tmp_path) if p.startswith("seg-")]) == 1
    j.close()


def test_full_when_over_budget(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig(max_bytes=300, segment_bytes=100))
    while not j.full:
        j.append("traces", b"y" * 50)
    assert j.bytes_on_disk >= 300
    j.close()


def test_damaged_tail_is_skipped_not_fatal(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig())
    j.append("traces", b"good" * 10)
    j.append("traces", b"torn" * 10)
    j.close()
    seg = next(p for p in tmp_path.iterdir() if p.name.startswith("seg-"))
    data = seg.read_bytes()
    seg.write_bytes(data[:-7])  # a write cut short by a crash
    j2 = Journal(str(tmp_path), DurabilityConfig())
    assert [body for *_, body in j2.replay()] == [b"good" * 10]
    j2.close()


async def test_fsync_commit_groups(tmp_path: Path) -> None:
    j = Journal(str(tmp_path), DurabilityConfig(sync="fsync"))
    import asyncio

    for i in range(20):
        j.append("traces", b"z" * 10)
    await asyncio.gather(*(j.commit() for _ in range(20)))
    assert not j._dirty
    j.close()
