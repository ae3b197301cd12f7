"""Latency added beyond the assembly wait, and throughput of 1 vs 2 replicas (prints figures).

Latency: one process sends whole traces (one request each) at half of one replica's peak for that
traffic (measured first, as the scaling runs are; batched requests reach a higher peak); a
sink in a process of its own notes when each trace's root arrives (CLOCK_MONOTONIC, the clock
of time.perf_counter in every process); added latency = arrival - acknowledged send - tree_idle.
The sink has a process of its own so that its arrival times do not wait behind the client's
sending loop. Scaling: the same workload split by trace id (as the Collector's loadbalancing
exporter routes) over 1 and then 2 tokenwatch processes (full path), spans/s of each set-up, in two
interleaved rounds, with the CPU-seconds each replica and the load generator used; and the machine's
own ceiling: the same stage work in 1 and 2 processes with no network, interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

# before grpc loads: its INFO lines ("Got goaway" as each run's sink stops) are not figures
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import grpc

sys.path.insert(0, str(Path(__file__).parent))
import redis_local
import traces
from relay import TRACE_EXPORT, TREE_IDLE, cpu_seconds, free_port, tokenwatch_config

from otel_tokenwatch.otlp.wire import split_traces

IDLE = TREE_IDLE  # the replicas' assembly wait (relay.tokenwatch_config)


#: the replicas' shared state (service.state.redis_url), set by main when Redis is used
STATE_URL: str | None = None


def start_tw(port: int, sink_port: int, procs: list[str], setup: str = "",
             stalls: Path | None = None) -> subprocess.Popen[bytes]:
    """One tokenwatch process; replicas of one ``setup`` share their state when Redis is used. With
    ``stalls``, under the event-loop stall watchdog (stallwatch.py), which writes there at exit."""
    tmp = tempfile.mkdtemp(prefix="twbench-")
    cfg = Path(tmp) / "config.yaml"
    text = tokenwatch_config(port, 0, 0, sink_port, procs, tmp)  # http and admin: any free port
    if STATE_URL:
        # every set-up gets a key prefix of its own: one run's baselines are not the next one's
        text = text.replace("\nservice:\n", f"\nservice:\n  state:\n    redis_url: {STATE_URL}\n"
                                              f"    key_prefix: 'bench-{setup or port}:'\n", 1)
    cfg.write_text(text)
    if stalls is not None:
        return subprocess.Popen([sys.executable, str(Path(__file__).parent / "stallwatch.py"), "serve", "--config",
                                 str(cfg)], cwd=tmp, env={**os.environ, "STALL_OUT": str(stalls)})
    return subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)], cwd=tmp)


class Sink:
    def __init__(self) -> None:
        self.arrived: dict[bytes, float] = {}
        self.spans = 0
        self.last = 0.0

    async def handle(self, raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        # the sink shares this process (and the machine's 2 cores) with the client: it reads only ids,
        # through the compiled reader, so that the load generator is not what the figures measure
        now = time.perf_counter()
        for _, _, scopes in split_traces(raw):
            for _, _, spans in scopes:
                self.spans += len(spans)
                for _, tid, _, parent in spans:
                    if not parent:
                        self.arrived.setdefault(tid, now)
        self.last = now
        return b""

    async def start(self) -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc.unary_unary_rpc_method_handler(self.handle)})])
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port


def one_request_per_trace(trees: list) -> list[tuple[bytes, bytes]]:  # type: ignore[type-arg]
    return [(t[0][2].trace_id, traces.batch_requests([t], spans_per_request=10**6, interleave=1)[0]) for t in trees]


def latency_sink_main(conn: Any) -> None:
    """The latency run's sink, in its own process: sends its port, then, when asked, the arrivals."""

    async def run() -> None:
        sink = Sink()
        server, port = await sink.start()
        conn.send(port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until the client asks
        conn.send(sink.arrived)
        await server.stop(0)

    asyncio.run(run())


async def latency(trees: list, rate: float, procs: list[str], watched: bool = False) -> float:  # type: ignore[type-arg]
    """One latency run, its p99 in ms; ``watched``: under the stall watchdog, whose report follows the figures. The
    watchdog's thread takes the GIL every 2 ms, and over Redis (the loop hands the GIL over at every
    round trip) that alone added ~10 ms to the p99 here, so the runs that give the figures go without it."""
    here, there = mp.Pipe()
    sink = mp.Process(target=latency_sink_main, args=(there,), daemon=True)
    sink.start()
    sink_port = here.recv()
    port = free_port()
    stalls = Path(tempfile.mkdtemp(prefix="twstalls-")) / "stalls.json" if watched else None
    server = redis_watch(STATE_URL) if STATE_URL else None
    tw = start_tw(port, sink_port, procs, stalls=stalls)
    try:
        ch = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        await asyncio.wait_for(ch.channel_ready(), 30)
        call = ch.unary_unary(TRACE_EXPORT)
        sent: dict[bytes, float] = {}
        reqs = one_request_per_trace(trees)
        warm, reqs = reqs[:200], reqs[200:]  # first-use costs (price tables, caches) are not latency
        for _, body in warm:
            await call(body, timeout=30)
        await asyncio.sleep(IDLE + 0.5)
        spans_per_trace = sum(traces_len(t) for t in trees) / len(trees)
        interval = spans_per_trace / rate
        t0 = time.perf_counter()
        for i, (tid, body) in enumerate(reqs):
            due = t0 + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await call(body, timeout=30)
            sent[tid] = time.perf_counter()
        await asyncio.sleep(IDLE + 2.0)  # the last trees' assembly wait, and their export
        here.send("arrivals")
        arrived: dict[bytes, float] = await asyncio.get_running_loop().run_in_executor(None, here.recv)
        added = sorted(arrived[t] - sent[t] - IDLE for t in sent if t in arrived)
        p50, p99 = added[len(added) // 2], added[int(len(added) * 0.99)]
        state = ("state in Redis" if STATE_URL else "state in memory") + ("; under the stall watchdog" if watched else "")
        print(f"latency beyond the {IDLE:.1f}s assembly wait at {rate:,.0f} spans/s [{', '.join(procs)}; {state}]: "
              f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {added[-1] * 1000:.1f} ms ({len(added)} "
              f"traces{'' if len(added) == len(sent) else ', ' + str(len(sent) - len(added)) + ' NOT ARRIVED'})",
              flush=True)
        if server is not None:
            print_redis(server)
        await ch.close()
    finally:
        tw.terminate()
        tw.wait(15)
        sink.join(10)
    if stalls is not None:
        print_stalls(stalls)
    return p99 * 1000


def redis_watch(url: str) -> Any:
    """Redis's own account of a latency run: its command statistics, slow log (commands over 1 ms) and
    latency monitor (server events over 2 ms), cleared first. A p99 the server made shows there; one it
    did not was made on the replica's side, and the watchdog's round says of what."""
    import redis

    r = redis.Redis.from_url(url)
    r.config_set("slowlog-log-slower-than", 1000)
    r.config_set("latency-monitor-threshold", 2)
    r.config_resetstat()
    r.slowlog_reset()
    r.execute_command("LATENCY", "RESET")
    return r


def print_redis(r: Any) -> None:
    stats = r.info("commandstats")
    script = stats.get("cmdstat_evalsha") or stats.get("cmdstat_eval") or {"calls": 0, "usec_per_call": 0.0}
    slow = r.slowlog_get(128)
    events = r.execute_command("LATENCY", "LATEST")
    print(f"  Redis itself: {script['calls']:,} script calls at {script['usec_per_call']:.0f} us each; "
          f"{len(slow)} commands over 1 ms{' (longest ' + str(max(e['duration'] for e in slow)) + ' us)' if slow else ''}; "
          f"server latency events over 2 ms: {[(e[0].decode(), e[2]) for e in events] if events else 'none'}",
          flush=True)


def print_stalls(path: Path) -> None:
    """Where the replica's event loop was while it did not run (stallwatch.py): what the p99 waited for."""
    try:
        got = json.loads(path.read_text())
    except (OSError, ValueError):
        print("  (no stall report: the replica did not exit cleanly)", flush=True)
        return
    print(f"  event loop stalled > {got['stall_ms']:.0f} ms {got['stalls']} times (longest "
          f"{', '.join(f'{x:.0f}' for x in got['longest_ms'])} ms); stacks seen most in stalls:", flush=True)
    for where, n in got["where"][:4]:
        print(f"    {n:4d}  {where}", flush=True)
    if got.get("other_threads"):
        print("  the replica's other threads meanwhile:", flush=True)
        for where, n in got["other_threads"][:4]:
            print(f"    {n:4d}  {where}", flush=True)
    gcs = got.get("gc")
    if gcs is not None:
        by_gen = ", ".join(f"gen{g} {n:,}" for g, n in sorted(gcs["collections"].items()))
        longest = ", ".join(f"{ms:.1f} (gen{g})" for ms, g in gcs["longest_ms"])
        print(f"  cyclic GC while serving: {by_gen}; longest {longest} ms; {gcs['over_stall']} pauses over "
              f"{got['stall_ms']:.0f} ms; stalls with a GC inside: {got['stalls_with_gc']} of {got['stalls']} "
              "(the watchdog sees a GC stall where the loop next releases the GIL: often Redis's socket)",
              flush=True)
    if "long_emits" in got:
        print(f"  releases through the stages longer than {got['stall_ms']:.0f} ms: {got['long_emit_count']}"
              + (" (longest, as wall / the loop's CPU ms / trees: "
                 + ", ".join(f"{w} / {c} / {n}" for w, c, n in got["long_emits"]) + ")" if got["long_emits"] else ""),
              flush=True)
    if got.get("release_ms"):
        held = got.get("release_held_ms", {})
        print("  releases through the stages, by trees together: " + ", ".join(
            f"{k}: {n:,} at {ms} ms" + (f" (holding the loop {held[k]} ms)" if k in held else "")
            for k, (n, ms) in got["release_ms"].items() if n >= 5), flush=True)
    if got.get("stall_releases"):
        print("  the longest stalls, as their ms / ms of it releasing trees / releases: "
              + ", ".join(f"{w} / {r} / {n}" for w, r, n in got["stall_releases"]), flush=True)
    trips = got.get("redis_trips")
    if trips and trips["n"]:
        print(f"  Redis round trips seen by the replica: {trips['n']:,}, wall p50/p99/max "
              f"{' / '.join(map(str, trips['wall_ms']))} ms, of it the loop's own CPU "
              f"{' / '.join(map(str, trips['cpu_ms']))} ms; {trips['over_stall']} over {got['stall_ms']:.0f} ms",
              flush=True)


def traces_len(t: list) -> int:  # type: ignore[type-arg]
    return len(t)


async def throughput(trees: list, replicas: int, procs: list[str], per_trace: bool = False,  # type: ignore[type-arg]
                     label: str = "") -> float:
    sink = Sink()
    server, sink_port = await sink.start()
    ports = [free_port() for _ in range(replicas)]
    tws = [start_tw(p, sink_port, procs, setup=f"{replicas}-{ports[0]}") for p in ports]
    try:
        chans = [grpc.aio.insecure_channel(f"127.0.0.1:{p}", options=[("grpc.max_send_message_length", 64 << 20)])
                 for p in ports]
        for c in chans:
            await asyncio.wait_for(c.channel_ready(), 30)
        # route by trace id, then batch per replica (the loadbalancing exporter's behaviour)
        per: list[list] = [[] for _ in range(replicas)]  # type: ignore[type-arg]
        for t in trees:
            tid = t[0][2].trace_id
            per[int(hashlib.sha256(tid).hexdigest(), 16) % replicas].append(t)
        total = sum(traces_len(t) for t in trees)
        # the scaling runs send as an SDK's batch processor does (512 spans of 8 traces at a time); the
        # latency run's traffic (one request per trace) has a peak of its own
        bodies = [[b for _, b in one_request_per_trace(p)] if per_trace else traces.batch_requests(p) for p in per]
        cpu0 = [cpu_seconds(tw.pid) for tw in tws]
        own0 = time.process_time()
        t0 = time.perf_counter()

        async def push(i: int) -> None:
            call = chans[i].unary_unary(TRACE_EXPORT)
            queue = list(reversed(bodies[i]))

            async def worker() -> None:
                while queue:
                    body = queue.pop()
                    while True:
                        try:
                            await call(body, timeout=30)
                            break
                        except grpc.aio.AioRpcError:
                            await asyncio.sleep(0.05)
            await asyncio.gather(*(worker() for _ in range(4)))

        await asyncio.gather(*(push(i) for i in range(replicas)))
        deadline = time.perf_counter() + 180
        while sink.spans < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        # the last trees' assembly wait is latency, not work: a fixed 0.2 s at the end of a 1-2 s run
        # counted against the shorter (2-replica) runs most (relay.measure)
        rate = sink.spans / (sink.last - t0 - IDLE)
        own = time.process_time() - own0
        cpus = [cpu_seconds(tw.pid) - c for tw, c in zip(tws, cpu0)]
        wall = time.perf_counter() - t0
        # where the 2 cores went: each replica, and this process (the client and the sink)
        print(f"{label}{replicas} replica(s) [{', '.join(procs)}]: {rate:,.0f} spans/s ({sink.spans} of {total} in "
              f"{sink.last - t0 - IDLE:.2f} s, to the last span less its {IDLE:.1f} s assembly wait); "
              f"CPU over {wall:.1f} s: replicas {', '.join(f'{c:.1f} s' for c in cpus)}, client and sink {own:.1f} s",
              flush=True)
        for c in chans:
            await c.close()
        return rate
    finally:
        for tw in tws:
            tw.terminate()
            tw.wait(15)
        await server.stop(0)


def _stage_worker(n_trees: int, seed: int, ready: Any, go: Any, out: Any) -> None:
    """One process of machine_ceiling: builds its trees, says ready, waits for the start, times the stages."""
    from otel_tokenwatch.config import load
    from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
    from otel_tokenwatch.pipeline.tree import encode_spans
    from otel_tokenwatch.service import build_processors, tune_gc
    from otel_tokenwatch.state import MemoryStore

    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)

    trees = traces.make_trees(n_trees + 100, seed=seed)
    for t in traces.assembled(trees[n_trees:]):
        chain.process(t)
    work = traces.assembled(trees[:n_trees])
    tune_gc()
    ready.put(1)
    go.wait()
    t0 = time.perf_counter()
    for t in work:
        chain.process(t)
        encode_spans(t.spans)
    out.put((sum(len(t.spans) for t in work), time.perf_counter() - t0))


def machine_ceiling(n_trees: int = 1500) -> float:
    """The same CPU-bound work (the stages, in-process) in 1 and then 2 processes at once: how far
    this machine's cores scale at all, before any network, client or sink takes its share."""
    rates: dict[int, list[float]] = {1: [], 2: []}
    for n in (1, 2, 1, 2):  # interleaved: this machine's speed moves between seconds
        ready, out, go = mp.Queue(), mp.Queue(), mp.Event()
        ps = [mp.Process(target=_stage_worker, args=(n_trees, 7 + i, ready, go, out)) for i in range(n)]
        for p in ps:
            p.start()
        for _ in ps:
            ready.get(timeout=120)
        go.set()
        got = [out.get(timeout=120) for _ in ps]
        for p in ps:
            p.join(10)
        rates[n].append(sum(spans / el for spans, el in got))
    ratios = [two / one for one, two in zip(rates[1], rates[2])]
    print(f"machine ceiling: the stages in-process, 1 process {', '.join(f'{r:,.0f}' for r in rates[1])} spans/s, "
          f"2 at once {', '.join(f'{r:,.0f}' for r in rates[2])} spans/s "
          f"({', '.join(f'{r:.2f}x' for r in ratios)} by round)", flush=True)
    return min(ratios)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", type=int, default=6000)
    ap.add_argument("--rate", type=float, default=0, help="spans/s for the latency run (default: measured)")
    ap.add_argument("--latency-rounds", type=int, default=3)
    ap.add_argument("--state", choices=["redis", "memory"], default="redis" if redis_local.binary() else "memory",
                    help="where the replicas keep baselines, windows and outcomes: a shared Redis (as replicas "
                         "behind the loadbalancing exporter run), or each in its own memory")
    args = ap.parse_args()
    global STATE_URL
    if args.state == "redis":
        with redis_local.redis_server() as url:
            STATE_URL = url
            await run(args)
    else:
        await run(args)


async def in_memory(run: Coroutine[Any, Any, float]) -> float:
    """``run`` with each replica's state in its own memory, as without a redis_url."""
    global STATE_URL
    url, STATE_URL = STATE_URL, None
    try:
        return await run
    finally:
        STATE_URL = url


async def run(args: argparse.Namespace) -> None:
    trees = traces.make_trees(args.trees)
    full = ["assemble", "normalize", "enrich", "score"]
    print(f"machine: {os.cpu_count()} cores; {len(trees)} traces; state: "
          f"{'one Redis shared by the replicas' if STATE_URL else 'memory, per replica'}", flush=True)
    ones, twos = [], []
    for _ in range(2):  # interleaved rounds, as in relay.py
        ones.append(await throughput(trees, 1, full))
        twos.append(await throughput(trees, 2, full))
    ceiling = machine_ceiling()
    by_round = ", ".join(f"{t / o:.2f}x" for o, t in zip(ones, twos))
    print(f"scaling: 2 replicas = {max(twos) / max(ones):.2f}x one replica, best rounds ({by_round} by round; "
          f"the machine's own lower ceiling for 2 processes of pure stage work: {ceiling:.2f}x)", flush=True)
    # half of peak load of the traffic the latency run sends: one request per trace costs the receiver
    # more per span than batches do, so half the batched peak would load a replica to 70-110%
    peak = max([await throughput(trees, 1, full, per_trace=True, label="latency traffic (one request per trace), ")
                for _ in range(2)])
    rate = args.rate or peak / 2
    # one slow moment of this machine decides a p99: several rounds. With the state in Redis, each round is
    # followed by the same load with each replica's state in its own memory (the default without a
    # redis_url): interleaved, both set-ups meet the same minutes of the machine, and what is left
    # between them is what the shared state's round trips add
    rounds: list[float] = []
    mem: list[float] = []
    for _ in range(args.latency_rounds):
        rounds.append(await latency(trees[:1700], rate, full))
        if STATE_URL:
            mem.append(await in_memory(latency(trees[:1700], rate, full)))
    await latency(trees[:1700], rate, full, watched=True)  # where the loop waited (its own figures are not these)
    state = "Redis" if STATE_URL else "memory"
    met = sum(r < 20 for r in rounds)
    summary = [f"{state} {' / '.join(f'{r:.1f}' for r in rounds)} ms (target < 20 ms: met in {met} of {len(rounds)} rounds)"]
    if mem:
        summary.append(f"memory {' / '.join(f'{r:.1f}' for r in mem)} ms (met in {sum(r < 20 for r in mem)} "
                       f"of {len(mem)}; each run right after the Redis round above it)")
    # this machine's speed moves by a third within minutes: the peak measured again after the rounds says
    # whether "half load" stayed half (a load near the peak queues, and then the p50 rises too)
    after = await throughput(trees, 1, full, per_trace=True, label="latency traffic again, after the rounds: ")
    at = f"{rate:,.0f} spans/s" + ("" if args.rate else " (half of the per-trace peak)")
    print(f"p99 of added latency at {at} by round: {'; '.join(summary)}; the load was {rate / peak:.0%} of the "
          f"peak measured before the rounds and {rate / after:.0%} of the peak measured after them", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
