"""The memory state backend: TTLs, bounds, atomic pop/add, and snapshots across a restart."""

from __future__ import annotations

from pathlib import Path

from otel_tokenwatch.state import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_ttl_and_pop() -> None:
    c = Clock()
    s = MemoryStore(clock=c)
    s.put("o", "t1", b"v", ttl=10)
    assert s.get("o", "t1") == b"v"
    c.t += 11
    assert s.get("o", "t1") is None
    s.put("o", "t2", b"w")
    assert s.pop("o", "t2") == b"w" and s.pop("o", "t2") is None


def test_add_if_absent_is_idempotent_within_ttl() -> None:
    c = Clock()
    s = MemoryStore(clock=c)
    assert s.add_if_absent("seen", "k", ttl=5) is True
    assert s.add_if_absent("seen", "k", ttl=5) is False
    c.t += 6
    assert s.add_if_absent("seen", "k", ttl=5) is True


def test_append_keeps_newest() -> None:
    s = MemoryStore()
    for i in range(10):
        s.append("w", "p", str(i).encode(), max_len=3)
    assert s.items("w", "p") == [b"7", b"8", b"9"]


def test_global_bound_evicts_oldest() -> None:
    s = MemoryStore(max_entries=3)
    for i in range(5):
        s.put("n", str(i), b"x")
    assert s.keys("n") == ["2", "3", "4"]


def test_snapshot_survives_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    s = MemoryStore(snapshot_path=path)
    s.put("baseline", "wf", b"\x00\x01sketch")
    s.append("inflation", "svc", b"a", max_len=10)
    s.close()
    t = MemoryStore(snapshot_path=path)
    assert t.get("baseline", "wf") == b"\x00\x01sketch"
    assert t.items("inflation", "svc") == [b"a"]


def test_damaged_snapshot_is_a_cold_start(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"{not json")
    s = MemoryStore(snapshot_path=str(path))
    assert s.keys("anything") == []
