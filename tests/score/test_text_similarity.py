"""The halving prefix search says what a character-by-character walk says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from otel_tokenwatch.pipeline.score.fingerprint import common_prefix_len, common_prefix_share, similarity


def walk_prefix(a: str, b: str) -> int:
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    return p


@settings(max_examples=2000, deadline=None)
@given(st.text("ab", max_size=40), st.text("ab", max_size=40))
def test_prefix_suffix_measures_equal_the_walk(a: str, b: str) -> None:
    p = walk_prefix(a, b)
    assert common_prefix_len(a, b) == p
    assert common_prefix_share(a, b) == (p / len(b) if b else 0.0)
    m = min(len(a), len(b))
    s = walk_prefix(a[::-1], b[::-1])
    want = 1.0 if a == b or not max(len(a), len(b)) else (p + min(s, m - p)) / max(len(a), len(b))
    assert similarity(a, b) == want


def test_a_long_shared_context_with_a_new_question() -> None:
    ctx = "x" * 100_000
    assert similarity(ctx + "what is 2+2?", ctx + "and 3+3?") > 0.99
    assert common_prefix_share(ctx + "a", ctx + "b") == 100_000 / 100_001
