"""Throughput of tokenwatch against a reference relay, measured side by side in one run.

Processes: a client (sends pre-encoded GenAI-heavy requests over OTLP gRPC),
the relay under test, and a sink (an OTLP gRPC server that counts spans).
The reference relay does the least a Python OTLP processor must do: parse
each request, read every span's attributes once, add one attribute,
serialize, forward. tokenwatch runs its real service (`tokenwatch serve`)
with the pipeline variants below. Figures are spans/s from the first send to
the last span at the sink, and the ratio to the reference in the same run.

Usage: python bench/relay.py [--trees N] [--variants assemble,normalize,full,full-nojournal] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import traces

#: the assembly wait of the benches' tokenwatch (assemble.tree_idle), seconds
TREE_IDLE = 0.2
REFUSED = 0  # requests the relay refused (back-pressure) and the client re-sent, in the last run
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- sink ---------------------------------------------------------------------------------
def sink_main(port: int, counter: mp.Value, first: mp.Value, last: mp.Value) -> None:  # type: ignore[type-arg]
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from otel_tokenwatch.otlp.wire import check_traces

    async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        # the sink shares the 2 cores with the relay under test: it validates and counts with the
        # compiled check (a protobuf parse only where that declines), the same for every relay
        checked = check_traces(raw)
        if checked is not None:
            n = checked.spans
        else:
            req = ExportTraceServiceRequest.FromString(raw)
            n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        now = time.time()
        with counter.get_lock():
            if counter.value == 0:
                first.value = now
            counter.value += n
            last.value = now
        return b""

    async def run() -> None:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc.unary_unary_rpc_method_handler(handle)})])
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(run())


# --- reference relay ----------------------------------------------------------------------
def reference_main(port: int, sink_port: int) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    async def run() -> None:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{sink_port}")
        forward = channel.unary_unary(TRACE_EXPORT)

        async def handle(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
            req = ExportTraceServiceRequest.FromString(raw)
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        for kv in sp.attributes:
                            _ = (kv.key, kv.value.WhichOneof("value"))
                        a = sp.attributes.add()
                        a.key = "relay.seen"
                        a.value.bool_value = True
            await forward(req.SerializeToString())
            return b""

        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc.unary_unary_rpc_method_handler(handle)})])
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(run())


# --- client -------------------------------------------------------------------------------
async def send_all(port: int, requests: list[bytes], concurrency: int = 4) -> float:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)])
    await channel.channel_ready()
    call = channel.unary_unary(TRACE_EXPORT)
    queue = list(reversed(requests))
    t0 = time.time()
    refused = [0]

    async def worker() -> None:
        while queue:
            body = queue.pop()
            for _ in range(50):
                try:
                    await call(body, timeout=30)
                    break
                except grpc.aio.AioRpcError as e:
                    if e.code() in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
                        refused[0] += 1
                        await asyncio.sleep(0.05)
                        continue
                    raise

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await channel.close()
    global REFUSED
    REFUSED = refused[0]
    return t0


def tokenwatch_config(port: int, http_port: int, admin_port: int, sink_port: int, processors: list[str],
                      data_dir: str, durability: str = "journal") -> str:
    procs = "\n".join(f"  {p}:" + (f"\n    tree_idle: {TREE_IDLE * 1000:.0f}ms\n    tree_max_wait: 5s" if p == "assemble"
                                    else "")
                      for p in processors)
    return f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{port}
        max_recv_msg_size_mib: 64
      http:
        endpoint: 127.0.0.1:{http_port}
processors:
{procs}
exporters:
  otlp:
    endpoint: 127.0.0.1:{sink_port}
    # like the reference relay: no compression on loopback (the Collector's default is gzip)
    compression: none
    tls:
      insecure: true
service:
  data_dir: {data_dir}
  durability:
    mode: {durability}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{", ".join(processors)}]
      exporters: [otlp]
  telemetry:
    admin:
      endpoint: 127.0.0.1:{admin_port}
"""


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used: /proc/<pid>/stat, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(name: str, start_relay, requests: list[bytes], total: int,  # type: ignore[no-untyped-def]
            wait: float = 0.0) -> tuple[float, float]:
    """(spans/s by the wall clock, spans per CPU-second of the relay process).

    On a shared machine the wall clock also measures the neighbours; the relay's own CPU time
    per span is what one core's throughput is, and moves much less from run to run. ``wait``: the
    assembly wait (tree_idle) the last trees sit out after their last span, whatever the load: a
    fixed latency, not work (it was 10% of a full-path run's wall clock once this machine reached
    60k spans/s), taken off the wall clock and printed.
    """
    sink_port = free_port()
    counter, first, last = mp.Value("q", 0), mp.Value("d", 0.0), mp.Value("d", 0.0)
    sink = mp.Process(target=sink_main, args=(sink_port, counter, first, last), daemon=True)
    sink.start()
    port = free_port()
    relay = start_relay(port, sink_port)
    time.sleep(1.5)
    try:
        cpu0 = cpu_seconds(relay.pid)
        t0 = asyncio.run(send_all(port, requests))
        deadline = time.time() + 120
        while counter.value < total and time.time() < deadline:
            time.sleep(0.02)
        cpu = cpu_seconds(relay.pid) - cpu0
        got = counter.value
        elapsed = last.value - t0 - wait
    finally:
        relay.terminate() if hasattr(relay, "terminate") else None
        relay.join(5) if isinstance(relay, mp.Process) else relay.wait(10)
        sink.terminate()
        sink.join(5)
    rate = got / elapsed if elapsed > 0 else 0.0
    cpu_rate = got / cpu if cpu > 0 else 0.0
    lost = total - got
    waited = f" (to the last span, less the last trees' {wait:.1f} s assembly wait)" if wait else ""
    print(f"{name:<28} {rate:>12,.0f} spans/s   {cpu_rate:>9,.0f} spans/CPU-s   ({got} of {total} spans in "
          f"{elapsed:.2f}s{waited}, {cpu:.2f} CPU-s{', LOST ' + str(lost) if lost else ''}; {REFUSED} requests "
          f"refused and re-sent)", flush=True)
    return rate, cpu_rate


def memory_per_span(requests: list[bytes], total: int) -> float:
    """Bytes of Python heap per span held open by the assembler (no tree released)."""
    import gc
    import tracemalloc

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler

    cfg = AssembleConfig(tree_idle=3600, tree_max_wait=3600, max_open_traces=10**7, max_bytes=2**40)
    asm = Assembler(cfg)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for raw in requests:
        asm.add(ExportTraceServiceRequest.FromString(raw), 0.0, None)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert asm.open_trees > 0
    return held / total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", type=int, default=8000)
    ap.add_argument("--variants", default="assemble,normalize,full,full-nojournal")
    ap.add_argument("--rounds", type=int, default=3,
                    help="every variant is measured this many times, interleaved, and its best round kept: "
                         "on a shared machine one slow moment otherwise decides a ratio")
    args = ap.parse_args()
    from otel_tokenwatch.otlp import wire

    trees = traces.make_trees(args.trees)
    requests = traces.batch_requests(trees)
    total = sum(len(t) for t in trees)
    size = sum(len(r) for r in requests)
    print(f"workload: {len(trees)} traces, {total} spans, {len(requests)} requests, {size / total:.0f} bytes/span; "
          f"machine: {os.cpu_count()} cores; compiled wire reader: {'yes' if wire.COMPILED else 'NO (protobuf only)'}",
          flush=True)

    def ref(port: int, sink_port: int) -> mp.Process:
        p = mp.Process(target=reference_main, args=(port, sink_port), daemon=True)
        p.start()
        return p

    full = ["assemble", "normalize", "enrich", "score"]
    variants = {"assemble": (["assemble"], "journal"), "normalize": (["assemble", "normalize"], "journal"),
                "full": (full, "journal"), "full-nojournal": (full, "none")}
    rounds: list[dict[str, tuple[float, float]]] = []
    for r in range(args.rounds):
        print(f"-- round {r + 1} of {args.rounds}", flush=True)
        got = {"reference relay": measure("reference relay", ref, requests, total)}
        for v in args.variants.split(","):
            procs, durability = variants[v]
            tmp = tempfile.mkdtemp(prefix="twbench-")

            def tw(port: int, sink_port: int, procs: list[str] = procs, tmp: str = tmp,
                   durability: str = durability) -> subprocess.Popen[bytes]:
                cfg = Path(tmp) / "config.yaml"
                cfg.write_text(tokenwatch_config(port, free_port(), free_port(), sink_port, procs, tmp, durability))
                return subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)],
                                        cwd=tmp)

            label = f"tokenwatch [{', '.join(procs)}]" + (" no journal" if durability == "none" else "")
            got[f"tokenwatch {v}"] = measure(label, tw, requests, total, wait=TREE_IDLE)
        rounds.append(got)
    print(f"memory per buffered span (assembler, tracemalloc): {memory_per_span(requests, total):.0f} bytes "
          f"(encoded span on the wire: {size / total:.0f} bytes)", flush=True)
    for i, unit in enumerate(("spans/s, wall clock", "spans per CPU-second of the relay process")):
        results = {k: max(r[k][i] for r in rounds) for k in rounds[0]}
        ref_rate = results["reference relay"]
        print(f"best of {args.rounds} rounds ({unit}), and the ratio to the reference relay's best:")
        for k, v in results.items():
            per_round = ", ".join(f"{r[k][i] / r['reference relay'][i]:.2f}x" for r in rounds
                                  if r["reference relay"][i])
            ratios = sorted(r[k][i] / r["reference relay"][i] for r in rounds if r["reference relay"][i])
            median = ratios[len(ratios) // 2] if ratios else 0.0
            print(f"  {k:<28} {v:>10,.0f}" + (f"   {v / ref_rate:.2f}x  (within each round: {per_round}; "
                                             f"median {median:.2f}x)" if k != "reference relay" and ref_rate else ""))
        if "tokenwatch full" in results and "tokenwatch full-nojournal" in results:
            print(f"  durability cost: full with journal = "
                  f"{results['tokenwatch full'] / results['tokenwatch full-nojournal']:.2f}x of full without")
    busy_baseline()
    profile_stages(trees)
    profile_service(requests, total, variants["full"][0])


#: where a sampled stack is charged: the innermost frame under one of these paths (leaf first)
STAGES = (("pipeline/normalize/", "normalize"), ("pipeline/score/", "score"), ("pipeline/enrich/", "enrich"),
          ("outcome/", "enrich"), ("telemetry/", "metrics"), ("pipeline/assemble/", "assemble"),
          ("journal/", "journal"), ("exporters/", "export"), ("receivers/", "receive"), ("state/", "state"),
          ("otlp/", "wire (cut, decode, encode spans)"), ("pipeline/tree.py", "wire (cut, decode, encode spans)"),
          ("grpc/", "gRPC (Python side)"), ("asyncio/", "event loop"))


def charge(frames: list[str]) -> str:
    """The stage a stack belongs to: the innermost frame a STAGES path names."""
    for frame in reversed(frames):
        for path, stage in STAGES:
            if path in frame:
                return stage
    return "other"


def profile_service(requests: list[bytes], total: int, procs: list[str]) -> None:
    """The running service's own profile (py-spy, sampling, non-blocking) on the full path: the share of
    busy samples per stage and the functions with the most self time. Unlike the in-process cProfile
    above it sees receive, journal, export and the event loop, and barely slows the process."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        print("profile of the running service: py-spy is not installed (it is in the test extra: "
              "make venv)", flush=True)
        return
    tmp = tempfile.mkdtemp(prefix="twbench-")
    out = Path(tmp) / "profile.txt"
    spies: list[subprocess.Popen[bytes]] = []

    def tw(port: int, sink_port: int) -> subprocess.Popen[bytes]:
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(tokenwatch_config(port, free_port(), free_port(), sink_port, procs, tmp))
        svc = subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)], cwd=tmp)
        time.sleep(1.0)  # py-spy attaches to a started interpreter
        spies.append(subprocess.Popen([str(spy), "record", "-p", str(svc.pid), "-f", "raw", "-o", str(out),
                                       "-r", "250", "--nonblocking"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        return svc

    measure(f"tokenwatch [{', '.join(procs)}] under py-spy", tw, requests, total, wait=TREE_IDLE)
    try:
        _, err = spies[0].communicate(timeout=30)  # py-spy writes its file when the service has ended
    except subprocess.TimeoutExpired:
        spies[0].kill()
        err = b"py-spy did not finish"
    if not out.exists() or not out.stat().st_size:
        print(f"profile of the running service: py-spy wrote nothing ({err.decode(errors='replace')[-300:]})")
        return
    by_stage: dict[str, int] = {}
    by_self: dict[str, int] = {}
    busy = 0
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        busy += int(n)
        by_stage[charge(frames)] = by_stage.get(charge(frames), 0) + int(n)
        leaf = re.sub(r":\d+\)$", ")", frames[-1])  # a function's lines together
        by_self[leaf] = by_self.get(leaf, 0) + int(n)
    print(f"profile of the running service (py-spy, {busy:,} busy samples at 250 Hz; each stack charged to the "
          f"innermost stage it runs in):")
    print("  " + ", ".join(f"{k} {v / busy:.0%}" for k, v in sorted(by_stage.items(), key=lambda kv: -kv[1])))
    print("  most self time:")
    for frame, n in sorted(by_self.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {n / busy:5.1%}  {frame[:120]}")


def busy_baseline() -> None:
    """What a busy workflow's baseline costs per tree once its log is full (the run above starts from
    empty baselines, so its trees never see this): each tree appends its sample to the shared log and
    is judged on the sketch; a replica that starts (or fell far behind) reads the whole log once."""
    import random
    import timeit

    from otel_tokenwatch.pipeline.score.config import ScoreConfig
    from otel_tokenwatch.pipeline.score.engine import NS_BASELINE, Scorer
    from otel_tokenwatch.state import MemoryStore

    cfg = ScoreConfig()  # a week's window, 10,000 samples
    clock = [0.0]
    sc = Scorer(cfg, MemoryStore(), clock=lambda: clock[0])
    rng = random.Random(1)

    def tree() -> None:
        sketch, item = sc._baseline_before("wf|usd", rng.lognormvariate(8, 1.0), clock[0])
        sketch.quantile(cfg.baseline_quantile, clock[0])
        sketch.apply([item], clock[0])

    for i in range(10000):  # one tree a minute for a week
        clock[0] = i * 60.0
        tree()
    per_tree = timeit.timeit(tree, number=2000) / 2000
    sketch = sc._sketches["wf|usd"][1]
    judge = timeit.timeit(lambda: sketch.quantile(0.9, clock[0]), number=200) / 200
    cold = Scorer(cfg, sc.state, clock=lambda: clock[0])
    start = timeit.default_timer()
    cold._sketches.clear()
    cold._baseline_before("wf|usd", 1.0, clock[0])
    read = timeit.default_timer() - start
    _, items = sc.state.log_read(NS_BASELINE, "wf|usd")
    print(f"busy baseline ({sketch.count} samples in the sketch, {sum(map(len, sketch.slots.values()))} counts; "
          f"log of {len(items):,} items, {sum(map(len, items)):,} bytes): per tree {per_tree * 1e6:.0f} us "
          f"(append + judge + count; judge alone {judge * 1e6:.0f} us); a replica starting reads the whole "
          f"log in {read * 1e6:.0f} us", flush=True)
    redis_baseline(cfg, items)


def redis_baseline(cfg: object, items: list[bytes]) -> None:
    """The same busy baseline shared by two replicas through a real Redis (Debian's redis-server, if
    installed): a tree's append when the other replica appended in between, and a cold read."""
    import timeit

    import redis
    import redis_local

    if redis_local.binary() is None:
        print("busy baseline over Redis: redis-server not installed (make servers installs it)")
        return

    from otel_tokenwatch.pipeline.score.engine import NS_BASELINE, Scorer
    from otel_tokenwatch.state.redis_store import RedisStore

    with redis_local.redis_server() as url:
        a, b = (Scorer(cfg, RedisStore(url), clock=lambda: 600000.0) for _ in range(2))  # type: ignore[arg-type]
        pipe = redis.Redis.from_url(url).pipeline()
        pipe.rpush("tokenwatch:" + NS_BASELINE + ":wf|usd", *items)
        pipe.set("tokenwatch:" + NS_BASELINE + ":wf|usd:seq", len(items))
        pipe.execute()
        start = time.perf_counter()
        a._baseline_before("wf|usd", 1.0, 600000.0)
        cold = time.perf_counter() - start
        b._baseline_before("wf|usd", 1.0, 600000.0)

        def two_replicas() -> None:  # each tree of one replica follows one of the other's
            for sc in (a, b):
                sketch, item = sc._baseline_before("wf|usd", 3000.0, 600000.0)
                sketch.quantile(0.9, 600000.0)
                sketch.apply([item], 600000.0)

        per_tree = timeit.timeit(two_replicas, number=500) / 1000
        print(f"busy baseline over Redis, two replicas taking turns: per tree {per_tree * 1e6:.0f} us (one round "
              f"trip: append, and the other replica's sample back); a replica starting reads the "
              f"{len(items):,}-item log in {cold * 1e3:.1f} ms", flush=True)


def profile_stages(trees: list) -> None:  # type: ignore[type-arg]
    """Where time goes in the stages (in-process, one core): the top of a cProfile run."""
    import cProfile
    import io
    import pstats

    from otel_tokenwatch.config import load
    from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
    from otel_tokenwatch.service import build_processors, tune_gc
    from otel_tokenwatch.state import MemoryStore

    state = MemoryStore()
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=state))
    chain = ProcessorChain(stages)

    for t in traces.assembled(trees[-300:]):  # warm up: read plans, price lookups, string caches as in a running service
        chain.process(t)
    ts = traces.assembled(trees[:1000])
    tune_gc()  # as the service runs
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_tokenwatch.pipeline.tree import encode_spans
    from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
    from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

    metrics = GenAIMetrics(SelfTelemetry(readers=[InMemoryMetricReader()], buffer_counters=True))
    first = ts[: len(ts) // 2]
    half = sum(len(t.spans) for t in first)
    spent: dict[str, float] = {}
    t_all = time.perf_counter()
    for t in first:  # each stage timed alone, then what the service does after them
        for stage in stages:
            t0 = time.perf_counter()
            stage.process(t)
            spent[stage.name] = spent.get(stage.name, 0.0) + time.perf_counter() - t0
        t0 = time.perf_counter()
        metrics.record_tree(t)
        t1 = time.perf_counter()
        encode_spans(t.spans)
        spent["metrics (record_tree)"] = spent.get("metrics (record_tree)", 0.0) + t1 - t0
        spent["encode"] = spent.get("encode", 0.0) + time.perf_counter() - t1
    el = time.perf_counter() - t_all
    prof = cProfile.Profile()
    prof.enable()
    for t in ts[len(ts) // 2:]:
        chain.process(t)
    prof.disable()
    snap = Path(tempfile.mkdtemp(prefix="twstate-")) / "state.json"
    state.snapshot(str(snap))
    print(f"scoring state after {len(ts)} trees: {snap.stat().st_size / len(ts):,.0f} bytes per tree in the state "
          f"store (outcome book summaries, baselines, fingerprint windows; bounded by TTLs)")
    print(f"stages, metrics and encoding in-process (one core): {half / el:,.0f} spans/s over {half} spans; us per span: "
          + ", ".join(f"{k} {v / half * 1e6:.1f}" for k, v in spent.items() if k != "assemble"))
    worst = max(spent, key=lambda k: spent[k])
    print(f"100k spans/s on one core is 10.0 us per span for everything (receive, journal, assemble, stages, export); "
          f"the stages above take {sum(spent.values()) / half * 1e6:.1f} us, the largest of them {worst} "
          f"{spent[worst] / half * 1e6:.1f} us ({spent[worst] / sum(spent.values()):.0%}): that stage holds it back")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    print("top of the stages' profile (tottime):")
    for line in out.getvalue().splitlines():
        if line.strip() and ("/" in line or "ncalls" in line or "{" in line):
            print("  " + line.strip()[:140])


if __name__ == "__main__":
    main()
