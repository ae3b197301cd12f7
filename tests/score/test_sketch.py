"""The baseline sketch keeps its merged counts as slots come and go: it must judge exactly as
merging every slot on every judgement did, and store the same JSON."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_tokenwatch.pipeline.score.sketch import GAMMA, WindowSketch


def reference_quantile(s: WindowSketch, q: float) -> float | None:
    """The sketch's quantile as first written: merge every slot, walk the buckets up."""
    merged: dict[int, int] = {}
    for bs in s.slots.values():
        for b, c in bs.items():
            merged[b] = merged.get(b, 0) + c
    total = sum(merged.values())
    if total == 0:
        return None
    rank, seen = q * (total - 1), 0
    for b in sorted(merged):
        seen += merged[b]
        if seen > rank:
            return 0.0 if b == -1 else 2 * GAMMA**b / (GAMMA + 1)
    return None


events = st.lists(st.tuples(st.floats(0, 1e7, allow_nan=False), st.floats(0, 500), st.booleans()),
                  min_size=1, max_size=120)


@settings(max_examples=200, deadline=None)
@given(events, st.sampled_from([0.5, 0.9, 0.99]), st.integers(5, 60))
def test_judges_as_a_full_merge_does(evs: list[tuple[float, float, bool]], q: float, max_count: int) -> None:
    s = WindowSketch(480.0, max_count)  # 10 s slots
    now = 0.0
    for value, step, reload in evs:
        now += step
        s.add(value, now)
        if reload:  # what another replica or a restart reads back from the store
            s = WindowSketch(480.0, max_count, orjson.loads(s.to_json()))
        assert s.count == sum(sum(bs.values()) for bs in s.slots.values()) <= max_count + 60
        assert s.quantile(q, now) == reference_quantile(s, q)
    assert s.quantile(q, now + 10_000) is None  # everything expired


def test_stored_zero_counts_are_harmless() -> None:
    s = WindowSketch(480.0, 100, {"slots": {"0": {"5": 0, "7": 2}}})
    assert s.count == 2 and s.quantile(0.9, 1.0) == 2 * GAMMA**7 / (GAMMA + 1)
    s.add(1.0, 20_000.0)  # slot 0 expires with its zero
    assert s.count == 1


def test_reads_the_layout_older_versions_stored() -> None:
    """Baselines already in Redis or in a snapshot keep counting after an upgrade."""
    s = WindowSketch(480.0, 100)
    for i, v in enumerate((10.0, 20.0, 20.0, 0.0, 5000.0)):
        s.add(v, float(i * 7))
    old = {"slots": {str(k): {str(b): c for b, c in bs.items()} for k, bs in s.slots.items()}}
    again = WindowSketch(480.0, 100, orjson.loads(orjson.dumps(old)))
    assert again.slots == s.slots and again.count == s.count == 5
    assert again.quantile(0.9, 30.0) == s.quantile(0.9, 30.0) == reference_quantile(s, 0.9)
    assert WindowSketch(480.0, 100, orjson.loads(s.to_json())).slots == s.slots


def test_sketch_count_follows_adds_and_expiry() -> None:
    s = WindowSketch(480.0, 50)
    for i in range(200):
        s.add(float(i % 17), now=float(i * 3))  # slots of 10 s: old ones expire, the bound trims
        assert s.count == sum(sum(bs.values()) for bs in s.slots.values()) <= 50 + 4
    again = WindowSketch(480.0, 50, s.to_dict())
    assert again.count == s.count and again.quantile(0.9, 600.0) == s.quantile(0.9, 600.0)

