"""The service over Redis receives while a release of trees waits for its round trip.

Between the service and a real Redis sits a proxy that holds every reply for HOLD seconds. While it
holds the reply to a release's script, the service answers another export: its event loop was not
blocked on the round trip (state/trip.py, state/redis_async.py). Both trees come out scored whole,
in order; a tree released on receipt (at its span bound, or late) does not hold the export that
brought it; and a shutdown while a release waits still forwards it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file
from tests.reliability.test_state_outage import roots, whole
from tests.scaleout.test_replicas_redis import EXPORT, split_by_trace
from tests.servers import redis_server

pytestmark = pytest.mark.server
HOLD = 0.6


class HoldingProxy:
    """TCP proxy to ``target`` that delivers each reply chunk HOLD seconds after it came; ``holding``
    is set while a reply waits (threads of its own: the service's loop cannot make it run)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.holding = threading.Event()
        self.held = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, hold: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if hold:
                    self.held += 1
                    self.holding.set()
                    time.sleep(HOLD)
                    self.holding.clear()
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._closed = True
        self.listener.close()


@contextlib.contextmanager
def holding_redis() -> Iterator[tuple[str, HoldingProxy]]:
    with redis_server() as url:
        host, port = url.split("//")[1].split("/")[0].split(":")
        proxy = HoldingProxy((host, int(port)))
        try:
            yield f"redis://127.0.0.1:{proxy.port}/0", proxy
        finally:
            proxy.close()


def traces() -> list[tuple[bytes, Any]]:
    out: list[tuple[bytes, Any]] = []
    for rec in read(Path(FIXTURES) / "openinference-openai.jsonl"):
        if rec.signal == "traces":
            out += list(split_by_trace(rec.request).items())  # type: ignore[arg-type]
    return out


def config(tmp: Path, url: str) -> dict[str, Any]:
    cfg: dict[str, Any] = service_config(
        tmp, processors={"assemble": {"tree_idle": "50ms"}, "normalize": None, "enrich": None, "score": None},
        traces_processors=["assemble", "normalize", "enrich", "score"],
        exporters={"file": {"path": str(tmp / "out.jsonl")}})
    cfg["service"]["state"] = {"redis_url": url, "key_prefix": f"tw-hold-{time.time_ns()}:"}
    return cfg


async def wait_holding(proxy: HoldingProxy, timeout: float = 10.0) -> None:
    await wait_for(proxy.holding.is_set, timeout=timeout, interval=0.005)


async def test_receives_while_a_release_waits_for_redis(tmp_path: Path) -> None:
    (first, req1), (second, req2) = traces()[:2]
    out = tmp_path / "out.jsonl"
    with holding_redis() as (url, proxy):
        async with running(config(tmp_path, url)) as svc:
            chan = grpc.aio.insecure_channel(grpc_endpoint(svc))
            send = chan.unary_unary(EXPORT)
            await send(req1.SerializeToString(), timeout=10)
            await wait_holding(proxy)  # the first tree's release waits for its script's reply
            t0 = time.monotonic()
            await send(req2.SerializeToString(), timeout=10)
            took = time.monotonic() - t0
            # answered while the reply was held: a loop blocked on the round trip could not have
            assert proxy.holding.is_set(), f"the export took {took:.2f}s: it waited for the held reply"
            await wait_for(lambda: {first.hex(), second.hex()} <= roots(out).keys(), timeout=20)
            got = roots(out)
            assert whole(got[first.hex()]) and whole(got[second.hex()]), got
            await chan.close()
    assert proxy.held >= 2


async def test_shutdown_while_a_release_waits_forwards_it(tmp_path: Path) -> None:
    (first, req1), *_ = traces()
    out = tmp_path / "out.jsonl"
    with holding_redis() as (url, proxy):
        async with running(config(tmp_path, url)) as svc:
            chan = grpc.aio.insecure_channel(grpc_endpoint(svc))
            await chan.unary_unary(EXPORT)(req1.SerializeToString(), timeout=10)
            await chan.close()
            await wait_holding(proxy)
            assert first.hex() not in roots(out)
        # the service shut down while the release waited; it was forwarded, scored, before the end
        assert whole(roots(out)[first.hex()])


async def test_a_tree_released_on_receipt_is_answered_before_its_round_trip_returns(tmp_path: Path) -> None:
    """A trace that reaches its span bound is released on receipt (as late spans are), not by the ticker:
    its round trip is awaited off the receive path too, so the export that brought it is answered while
    Redis holds the reply."""
    (_, req1), *_ = traces()
    out = tmp_path / "out.jsonl"
    cfg = config(tmp_path, "")
    cfg["processors"]["assemble"]["max_spans_per_trace"] = 2
    with holding_redis() as (url, proxy):
        cfg["service"]["state"]["redis_url"] = url
        async with running(cfg) as svc:
            chan = grpc.aio.insecure_channel(grpc_endpoint(svc))
            before = proxy.held  # replies so far (the service's start-up)
            await chan.unary_unary(EXPORT)(req1.SerializeToString(), timeout=10)
            # answered; the tree released when its second span came waits for its reply meanwhile
            await wait_for(lambda: proxy.held > before, timeout=5, interval=0.005)
            assert proxy.holding.is_set(), "the export waited for the released tree's round trip"
            sent = {s.span_id for rs in req1.resource_spans for ss in rs.scope_spans for s in ss.spans}
            await wait_for(lambda: sent <= {s.span_id for _, _, s in by_span_id(read_file(out)).values()}
                           if out.exists() else False, timeout=20)
            await chan.close()
