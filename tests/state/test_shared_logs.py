"""Sequenced logs, the state replicas add to on every tree: the same answers from memory and from a
real Redis, and no sample lost when replicas append to one baseline at the same time."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.engine import NS_BASELINE, Scorer
from otel_tokenwatch.pipeline.score.sketch import WindowSketch
from otel_tokenwatch.state import MemoryStore
from otel_tokenwatch.state.redis_store import LOG_TAIL, RedisStore
from tests.state.conftest import fresh_prefix


def test_append_returns_sequence_and_what_others_appended_since(store: Any) -> None:
    assert store.log_read("b", "wf") == (0, [])
    assert store.log_append("b", "wf", b"a", max_len=100, ttl=60, since=0) == (1, [])
    assert store.log_append("b", "wf", b"b", max_len=100, ttl=60, since=1) == (2, [])
    # another writer appends two; the first one's next append brings them, oldest first
    assert store.log_append("b", "wf", b"c", max_len=100, ttl=60, since=0) == (3, [b"a", b"b"])
    store.log_append("b", "wf", b"d", max_len=100, ttl=60, since=3)
    assert store.log_append("b", "wf", b"e", max_len=100, ttl=60, since=2) == (5, [b"c", b"d"])
    assert store.log_read("b", "wf") == (5, [b"a", b"b", b"c", b"d", b"e"])
    assert store.log_read("b", "other") == (0, [])


def test_extend_appends_many_back_to_back_in_one_step(store: Any) -> None:
    """The trees released together append their samples at once: one sequence number per item, what
    others appended before the first of them, and the same log as appending them one by one."""
    assert store.log_extend("b", "wf", [b"a", b"b", b"c"], max_len=100, ttl=60, since=0) == (3, [])
    store.log_append("b", "wf", b"d", max_len=100, ttl=60, since=3)  # another writer
    assert store.log_extend("b", "wf", [b"e", b"f"], max_len=100, ttl=60, since=3) == (6, [b"d"])
    assert store.log_read("b", "wf") == (6, [b"a", b"b", b"c", b"d", b"e", b"f"])
    # in a batch with other calls, and trimmed to max_len as a whole
    got = store.batch([("put", "o", "k", b"v", 60), ("log_extend", "b", "wf", [b"g", b"h", b"i"], 4, 60, 5),
                       ("get", "o", "k")])
    assert got == [None, (9, [b"f"]), b"v"]
    assert store.log_read("b", "wf") == (9, [b"f", b"g", b"h", b"i"])
    assert store.log_extend("b", "wf", [b"j"], max_len=4, ttl=60, since=1) == (10, None)  # trimmed away


def test_a_writer_too_far_behind_is_told_to_read_the_whole_log(store: Any) -> None:
    for i in range(LOG_TAIL + 5):
        store.log_append("b", "wf", b"%d" % i, max_len=10, ttl=60, since=i)
    seq, items = store.log_read("b", "wf")
    assert seq == LOG_TAIL + 5 and items == [b"%d" % i for i in range(LOG_TAIL - 5, LOG_TAIL + 5)]  # trimmed
    # the items since sequence 1 are trimmed away: not at hand
    assert store.log_append("b", "wf", b"x", max_len=10, ttl=60, since=1) == (LOG_TAIL + 6, None)
    # a sequence from before the log started again (state lost) is not trusted either
    assert store.log_append("b", "wf", b"y", max_len=10, ttl=60, since=10**6)[1] is None


def test_log_expires_with_its_ttl() -> None:
    now = [1000.0]
    s = MemoryStore(clock=lambda: now[0])
    s.log_append("b", "wf", b"a", max_len=10, ttl=5, since=0)
    now[0] += 6
    assert s.log_read("b", "wf") == (0, [])
    assert s.log_append("b", "wf", b"b", max_len=10, ttl=5, since=0) == (1, [])


def test_log_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.json")
    s = MemoryStore(snapshot_path=path)
    for i in range(5):
        s.log_append("b", "wf", b"%d" % i, max_len=3, ttl=None, since=i)
    s.close()
    t = MemoryStore(snapshot_path=path)
    assert t.log_read("b", "wf") == (5, [b"2", b"3", b"4"])
    assert t.log_append("b", "wf", b"5", max_len=3, ttl=None, since=5) == (6, [])
    assert t.log_read("b", "wf") == (6, [b"3", b"4", b"5"])


def _baseline(scorer: Scorer, total: float) -> WindowSketch:
    sketch, item = scorer._baseline_before("wf|usd", total, scorer.clock())
    before = sketch.count
    sketch.apply([item], scorer.clock())
    assert sketch.count == before + 1
    return sketch


def test_replicas_appending_at_once_lose_no_sample(redis_url: str) -> None:
    """Two scorers, each with its own connection, add to one workflow's baseline from two threads at
    once (the GIL is released around every Redis round trip, so their appends interleave). Every
    sample reaches the shared log, and each scorer's sketch, once it has looked again, counts all of
    them. (A baseline read, changed and written back whole would lose the samples of whichever
    replica wrote first.)"""
    cfg = ScoreConfig()
    prefix = fresh_prefix("race")
    stores = [RedisStore(redis_url, prefix=prefix) for _ in range(2)]
    scorers = [Scorer(cfg, s) for s in stores]
    per_thread = 300
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(sc: Scorer, offset: int) -> None:
        try:
            start.wait(5)
            for i in range(per_thread):
                _baseline(sc, 100.0 + offset + i)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(sc, k * 1000)) for k, sc in enumerate(scorers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    seq, items = stores[0].log_read(NS_BASELINE, "wf|usd")
    assert seq == 2 * per_thread and len(items) == 2 * per_thread
    # the threads' appends interleaved (values near 100 and near 1100 fall in far-apart buckets):
    # otherwise one ran before the other and this would prove little
    owners = [int(i.split(b",")[1]) > 300 for i in items]
    assert sum(a != b for a, b in itertools.pairwise(owners)) > 2

    def whole_log() -> WindowSketch:
        w = WindowSketch(cfg.baseline_window, cfg.baseline_max_samples)
        w.apply(stores[0].log_read(NS_BASELINE, "wf|usd")[1], scorers[0].clock())
        return w

    # each scorer, at its next tree, counts exactly the samples logged (its own included, once judged);
    # a third replica starting now reads the whole log and holds the same counts
    late = Scorer(cfg, RedisStore(redis_url, prefix=prefix))
    for sc in [*scorers, late, scorers[0]]:
        got = _baseline(sc, 50.0)
        want = whole_log()
        assert got.count == want.count and got._merged == want._merged
    assert want.count == 2 * per_thread + 4
    for s in stores:
        s.close()


def test_a_replica_far_behind_judges_a_slice_against_everything_logged_before_each_tree(store: Any) -> None:
    """Trees released together on a replica that fell more than LOG_TAIL appends behind: the slice's
    samples go to the log at once, the log is read whole, and each tree is judged against every sample
    logged before its own (the others' and the earlier trees' of its slice), never its own or later."""
    cfg = ScoreConfig()
    a, b = Scorer(cfg, store), Scorer(cfg, store)
    now = a.clock()
    _baseline(b, 100.0)  # b has looked once
    for i in range(LOG_TAIL + 8):
        _baseline(a, 200.0 + i)
    found, _ = b._baselines_before([("wf|usd", 300.0, now), ("wf|usd", 301.0, now), ("wf|usd", 302.0, now)])
    counts = []
    for sketch, item in found:  # as score_many judges them: in order, each applied once judged
        counts.append(sketch.count)
        sketch.apply([item], now)
    assert counts == [1 + LOG_TAIL + 8, 2 + LOG_TAIL + 8, 3 + LOG_TAIL + 8]
    assert store.log_read(NS_BASELINE, "wf|usd")[0] == 1 + LOG_TAIL + 8 + 3
    # and b is up to date afterwards: its next tree reads nothing but its own sequence number
    assert _baseline(b, 1.0).count == 4 + LOG_TAIL + 8 + 1
