"""The baseline sketch keeps its merged counts as slots come and go: it must judge exactly as
merging every slot on every judgement did, also when built again from the log of samples."""

from __future__ import annotations

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
    log: list[bytes] = []  # what the state store holds: the samples, bounded as the scorer bounds it
    now = 0.0
    for value, step, reload in evs:
        now += step
        log = [*log, s.sample(value, now)][-2 * max_count:]
        s.add(value, now)
        if reload:  # another replica starting, or a restart: the sketch built from the log
            s = WindowSketch(480.0, max_count)
            s.apply(log, now)
        assert s.count == sum(sum(bs.values()) for bs in s.slots.values()) <= max_count + 60
        assert s.quantile(q, now) == reference_quantile(s, q)
    assert s.quantile(q, now + 10_000) is None  # everything expired


def test_sketch_count_follows_adds_and_expiry() -> None:
    s = WindowSketch(480.0, 50)
    for i in range(200):
        s.add(float(i % 17), now=float(i * 3))  # slots of 10 s: old ones expire, the bound trims
        assert s.count == sum(sum(bs.values()) for bs in s.slots.values()) <= 50 + 4
