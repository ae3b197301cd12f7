"""`tokenwatch serve` with an event-loop stall watchdog, for bench/latency_scaling.py's latency runs.

A p99 of added latency is made by the moments the event loop does not run: while one callback holds it,
due trees wait and received requests are not acknowledged. A sampling profiler spreads those moments
over everything else the process does; this watchdog looks only at them. A task beats every
millisecond; a thread checks the beat every 2 ms and, while it is older than STALL_MS, samples where the
loop's thread is (each distinct stack once per stall). At exit it writes the stalls' count, the longest,
and the stacks seen most often to STALL_OUT (JSON), which the bench prints. The thread's own cost is a
GIL hand-over every 2 ms.

Usage (the bench does this): STALL_OUT=/tmp/x.json python bench/stallwatch.py serve --config cfg.yaml
"""

from __future__ import annotations

import asyncio
import atexit
import collections
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
_lengths: list[float] = []
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
            frame = sys._current_frames().get(_loop_thread)
            if frame is not None:
                key = _where(frame)
                if key not in seen:
                    seen.add(key)
                    _stacks[key] += 1
        elif started is not None:
            _lengths.append(beat - started)
            started = None


async def _beats() -> None:
    while True:
        _beat[0] = time.perf_counter()
        await asyncio.sleep(0.001)


def _dump() -> None:
    with open(OUT, "w") as f:
        json.dump({"stall_ms": STALL * 1000, "stalls": len(_lengths),
                   "longest_ms": [round(x * 1000, 1) for x in sorted(_lengths)[-5:]],
                   "where": _stacks.most_common(6)}, f)


def main() -> int:
    atexit.register(_dump)
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
