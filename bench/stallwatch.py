"""`tokenwatch serve` with an event-loop stall watchdog, for bench/latency_scaling.py's latency runs.

A p99 of added latency is made by the moments the event loop does not run: while one callback holds it,
due trees wait and received requests are not acknowledged. A sampling profiler spreads those moments
over everything else the process does; this watchdog looks only at them. A task beats every
millisecond; a thread checks the beat every 2 ms and, while it is older than STALL_MS, samples where the
loop's thread is (each distinct stack once per stall). At exit it writes the stalls' count, the longest,
and the stacks seen most often to STALL_OUT (JSON), which the bench prints. The thread's own cost is a
GIL hand-over every 2 ms.

The thread needs the GIL to look, so it mostly looks when the loop's thread lets the GIL go: at a socket
send or read. With the state in Redis that is the round trip every release makes, and the stacks alone
would blame it. So the watchdog also times what a stall could be made of, and reports each beside the
stalls: the cyclic collector's pauses (gc.callbacks) and how many stalls held one; each Redis round
trip as the replica sees it (wall, and the loop thread's own CPU in it); each release of trees through
the stages (TracesPipeline._emit_steps: over Redis the loop runs other work while a release awaits its
round trip, so what counts is the stretches between trips), the ones longer than STALL_MS, and for the
longest stalls how much of them was releasing trees and in how many releases. In runs 18-19 (bench/HISTORY.md) that showed the stalls
are loop turns of several releases back to back, not one slow round trip.

Usage (the bench does this): STALL_OUT=/tmp/x.json python bench/stallwatch.py serve --config cfg.yaml
(STALL_BLOCKING_TRIPS=1: the state's round trips block the loop, as before they were awaited; for an A/B)
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import gc
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Coroutine
from typing import Any

STALL = float(os.environ.get("STALL_MS", "6")) / 1000
OUT = os.environ.get("STALL_OUT", "stalls.json")
_beat: list[float | None] = [None]
_stacks: collections.Counter[str] = collections.Counter()
_stalls: list[tuple[float, float]] = []
_others: collections.Counter[str] = collections.Counter()
_names: dict[int, str] = {}
_gc_pauses: list[tuple[float, float, int]] = []  # (start, end, generation)
_gc_started: list[float] = [0.0]
_emits: list[tuple[float, float, float, int]] = []  # every release: (start, end, the loop's CPU, trees)
_trips: list[tuple[float, float]] = []  # Redis round trips: (wall, the loop thread's CPU)
_held: list[tuple[float, float, float]] = []  # the stretches releases held the loop: (start, end, CPU)
_loop_thread = threading.get_ident()


def _name(fs: traceback.FrameSummary) -> str:
    return f"{fs.filename.rsplit('/', 1)[-1].removesuffix('.py')}:{fs.name}"


def _where(frame: Any) -> str:
    """The innermost two frames, then the innermost two of tokenwatch's own past its state store (what the
    library was called for)."""
    stack = traceback.extract_stack(frame)
    inner = [_name(fs) for fs in reversed(stack[-2:])]
    ours = [_name(fs) for fs in reversed(stack[:-2]) if "/otel_tokenwatch/" in fs.filename
            and "/otel_tokenwatch/state/" not in fs.filename][:2]
    return " < ".join(inner + (["..."] if ours else []) + ours)


def _watch() -> None:
    started: float | None = None
    seen: set[str] = set()
    while True:
        time.sleep(0.002)
        beat = _beat[0]
        if beat is None:
            continue  # not serving yet: start-up is not a stall
        if time.perf_counter() - beat > STALL:
            if started is None:
                started, seen = beat, set()
            frames = sys._current_frames()
            if len(_names) != len(frames):
                _names.update((t.ident, t.name) for t in threading.enumerate() if t.ident is not None)
            frame = frames.get(_loop_thread)
            if frame is not None:
                key = _where(frame)
                if key not in seen:
                    seen.add(key)
                    _stacks[key] += 1
            for ident, other in frames.items():  # what the other threads were doing meanwhile
                if ident in (_loop_thread, threading.get_ident()):
                    continue
                key = f"{_names.get(ident, ident)}: {_where(other)}"
                if key not in seen:
                    seen.add(key)
                    _others[key] += 1
        elif started is not None:
            _stalls.append((started, beat))
            started = None


async def _beats() -> None:
    while True:
        _beat[0] = time.perf_counter()
        await asyncio.sleep(0.001)


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    elif _beat[0] is not None:
        _gc_pauses.append((_gc_started[0], time.perf_counter(), info["generation"]))


def _timed(cls: Any, attr: str, record: Any) -> None:
    """Wrap ``cls.attr`` to hand ``record`` each call's arguments, start, end and the loop thread's CPU in it."""
    inner = getattr(cls, attr)

    def timed(self: Any, *args: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return inner(self, *args)
        finally:
            record(args, t0, time.perf_counter(), time.thread_time() - c0)

    setattr(cls, attr, timed)


def _timed_steps(cls: Any, attr: str, record: Any) -> None:
    """Wrap the generator method ``cls.attr`` (a release's steps, state/trip.py) to hand ``record`` its
    arguments and each stretch it ran between two round trips: (start, end, the loop thread's CPU). Over
    Redis the service awaits each trip, so a release holds the loop only in those stretches."""
    inner = getattr(cls, attr)

    def timed(self: Any, *args: Any) -> Any:
        gen = inner(self, *args)
        runs: list[tuple[float, float, float]] = []
        try:
            sent: Any = None
            failed: Exception | None = None
            while True:
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    trip = gen.throw(failed) if failed is not None else gen.send(sent)
                finally:
                    runs.append((t0, time.perf_counter(), time.thread_time() - c0))
                failed = None
                try:
                    sent = yield trip
                except Exception as exc:  # noqa: BLE001 - the trip failed: handed on to the stage, which decides
                    failed = exc
        except StopIteration as stop:
            return stop.value
        finally:
            record(args, runs)

    setattr(cls, attr, timed)


def _time_calls() -> None:
    """Time the state store's round trips as the replica sees them (wall, and the loop thread's own CPU in
    them: the rest is waiting on the socket, or over the awaited path the loop doing other work), to set
    beside the server's own time per script; and each release of trees through the stages
    (TracesPipeline._emit_steps), to tell a stall made of one long release from one made of several,
    and work from waiting. A call with no trees releases nothing: not counted."""
    from otel_tokenwatch.pipelines import TracesPipeline

    def release(args: tuple[Any, ...], runs: list[tuple[float, float, float]]) -> None:
        if args[0] and runs:
            _emits.append((runs[0][0], runs[-1][1], sum(c for *_, c in runs), len(args[0])))
            _held.extend(runs)

    _timed_steps(TracesPipeline, "_emit_steps", release)
    try:
        from otel_tokenwatch.state.redis_store import RedisStore
    except ImportError:
        return
    _timed(RedisStore, "_script", lambda a, t0, t1, cpu: _trips.append((t1 - t0, cpu)))
    inner = RedisStore.batch_async

    async def timed(self: Any, ops: Any) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return await inner(self, ops)
        finally:
            # the loop thread's CPU over the wait includes whatever else it ran meanwhile
            _trips.append((time.perf_counter() - t0, time.thread_time() - c0))

    RedisStore.batch_async = timed  # type: ignore[method-assign]


def _quantiles(xs: list[float]) -> list[float]:
    xs = sorted(xs)
    return [round(xs[int(q * (len(xs) - 1))] * 1000, 2) for q in (0.5, 0.99)] + [round(xs[-1] * 1000, 2)] if xs else []


def _by_size() -> dict[int, list[float]]:
    """Release wall times by how many trees went together (1, or a backlog's slice of 8)."""
    out: dict[int, list[float]] = collections.defaultdict(list)
    for e0, e1, _, n in _emits:
        out[n].append(e1 - e0)
    return out


def _held_by_size() -> dict[int, list[float]]:
    """How long releases held the loop (their stretches between round trips), by trees released together."""
    out: dict[int, list[float]] = collections.defaultdict(list)
    runs = iter(_held)
    for e0, e1, _, n in _emits:
        held = 0.0
        for r0, r1, _ in runs:
            held += r1 - r0
            if r1 >= e1:
                break
        out[n].append(held)
    return out


def _dump() -> None:
    lengths = sorted(end - start for start, end in _stalls)
    in_gc = sum(any(g0 < end and g1 > start for g0, g1, _ in _gc_pauses) for start, end in _stalls)
    # per stall: the share of it spent releasing trees through the stages, and in how many releases
    inside = []
    for start, end in _stalls:
        parts = [(min(e1, end) - max(e0, start)) for e0, e1, *_ in _held if e0 < end and e1 > start]
        n = sum(1 for e0, e1, *_ in _emits if e0 < end and e1 > start)
        inside.append((end - start, sum(parts), n))
    inside.sort()
    long_emits = sorted((e1 - e0, cpu, n) for e0, e1, cpu, n in _emits if e1 - e0 > STALL)
    pauses = sorted(_gc_pauses, key=lambda p: p[1] - p[0])
    with open(OUT, "w") as f:
        json.dump({"stall_ms": STALL * 1000, "stalls": len(_stalls),
                   "longest_ms": [round(x * 1000, 1) for x in lengths[-5:]],
                   "where": _stacks.most_common(6), "other_threads": _others.most_common(6),
                   "stalls_with_gc": in_gc,
                   "gc": {"collections": collections.Counter(str(g) for _, _, g in _gc_pauses),
                          "longest_ms": [[round((g1 - g0) * 1000, 1), g] for g0, g1, g in pauses[-5:]],
                          "over_stall": sum(g1 - g0 > STALL for g0, g1, _ in _gc_pauses)},
                   "redis_trips": {"n": len(_trips), "wall_ms": _quantiles([w for w, _ in _trips]),
                                   "cpu_ms": _quantiles([c for _, c in _trips]),
                                   "over_stall": sum(w > STALL for w, _ in _trips)},
                   "long_emits": [[round(w * 1000, 1), round(c * 1000, 1), n]
                                  for w, c, n in long_emits[-8:]], "long_emit_count": len(long_emits),
                   "release_ms": {str(k): [len(v), round(sum(v) / len(v) * 1000, 2)] for k, v in
                                  sorted(_by_size().items())},
                   "release_held_ms": {str(k): round(sum(v) / len(v) * 1000, 2) for k, v in
                                       sorted(_held_by_size().items())},
                   "stall_releases": [[round(w * 1000, 1), round(r * 1000, 1), n] for w, r, n in inside[-6:]]}, f)


def main() -> int:
    atexit.register(_dump)
    gc.callbacks.append(_gc_timer)
    _time_calls()
    if os.environ.get("STALL_BLOCKING_TRIPS") == "1":  # A/B: the release's round trip holding the loop, as before
        from otel_tokenwatch import service

        service.awaitable = lambda state: False  # type: ignore[assignment]
    threading.Thread(target=_watch, daemon=True, name="stallwatch").start()
    run = asyncio.run

    def run_with_beats(coro: Coroutine[Any, Any, Any], **kw: Any) -> Any:
        async def both() -> Any:
            beats = asyncio.get_running_loop().create_task(_beats())
            try:
                return await coro
            finally:
                beats.cancel()
        return run(both(), **kw)

    asyncio.run = run_with_beats  # type: ignore[assignment]
    from otel_tokenwatch.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
