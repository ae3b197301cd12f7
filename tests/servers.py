"""Real servers for end-to-end tests, started on free loopback ports and always stopped."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson

from tests.conftest import need


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(url: str, data: bytes | None = None, timeout: float = 5.0) -> object:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return orjson.loads(r.read())


def stop(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    """Terminate a server, and kill it if it has not gone within ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout}s: {last}")


@contextlib.contextmanager
def prometheus(tmp: Path, scrape_target: str, rule_files: list[Path]) -> Iterator[str]:
    """A real Prometheus (Debian's package) scraping ``scrape_target`` every second."""
    binary = need("prometheus")
    port = free_port()
    cfg = tmp / "prometheus.yml"
    rules = "\n".join(f"  - {p}" for p in rule_files)
    cfg.write_text(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
{rules}
scrape_configs:
  - job_name: tokenwatch
    static_configs:
      - targets: ['{scrape_target}']
""")
    log = open(tmp / "prometheus.log", "wb")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen([binary, f"--config.file={cfg}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/-/ready", proc=proc)
        yield base
    finally:
        stop(proc, 10)
        log.close()


@contextlib.contextmanager
def phoenix(tmp: Path) -> Iterator[tuple[str, str]]:
    """Arize Phoenix (installed in .venv-phoenix by the set-up) on free ports: (http base, grpc endpoint)."""
    root = Path(__file__).resolve().parents[1]
    binary = root / ".venv-phoenix" / "bin" / "phoenix"
    if not binary.exists():
        need("phoenix-in-.venv-phoenix")  # fails in CI, skips elsewhere, with the set-up's name in the message
    http_port, grpc_port = free_port(), free_port()
    env = {**os.environ, "PHOENIX_PORT": str(http_port), "PHOENIX_GRPC_PORT": str(grpc_port),
           "PHOENIX_HOST": "127.0.0.1", "PHOENIX_WORKING_DIR": str(tmp / "phoenix"),
           "PHOENIX_TELEMETRY_ENABLED": "false", "DO_NOT_TRACK": "1"}
    log = open(tmp / "phoenix.log", "wb")  # noqa: SIM115 - open while the server runs
    proc = subprocess.Popen([str(binary), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{http_port}"
        wait_http(base + "/healthz", timeout=120, proc=proc)
        yield base, f"127.0.0.1:{grpc_port}"
    finally:
        stop(proc, 15)
        log.close()


def start_redis(port: int, password: str | None = None) -> subprocess.Popen[bytes]:
    """Debian's redis-server on ``port`` (loopback, no persistence; ``password``: the default user's),
    answering PING when this returns."""
    binary = need("redis-server")
    auth = ["--requirepass", password] if password else []
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             *auth], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    deadline = time.monotonic() + 15
    while True:
        try:
            redis.Redis(port=port, password=password).ping()
            return proc
        except redis.ConnectionError:
            assert proc.poll() is None, f"redis-server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "redis-server did not start within 15 s"
            time.sleep(0.1)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A real Redis on a free loopback port: its URL."""
    port = free_port()
    proc = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc, 10)
