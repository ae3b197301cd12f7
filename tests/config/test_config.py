"""Config loading: the Collector's shape, env expansion, and errors that name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from otel_tokenwatch.config import ConfigError, from_mapping, load
from otel_tokenwatch.config.build import parse_duration, parse_size
from otel_tokenwatch.config.service import expand_env

TESTDATA = Path(__file__).parent / "testdata"


def test_testdata_config_loads_with_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TW_TEST_GRPC_PORT", "14317")
    cfg = load(TESTDATA / "config.yaml")
    assert cfg.receivers["otlp"].config.protocols.grpc.endpoint == "127.0.0.1:14317"
    asm = cfg.processors["assemble"].config
    assert asm.tree_idle == 0.5 and asm.tree_max_wait == 60.0 and asm.max_bytes == 64 * 2**20
    assert cfg.service.data_dir == "/tmp/tw-default"
    assert cfg.service.pipelines["traces"].exporters == ["debug"]


def test_embedded_default_loads() -> None:
    cfg = load(None)
    assert cfg.source == "<embedded default>"
    assert cfg.service.telemetry.admin.endpoint == "127.0.0.1:9464"
    assert set(cfg.service.pipelines) == {"traces", "metrics", "logs"}


def _base() -> dict:
    return yaml.safe_load((TESTDATA / "config.yaml").read_text().replace("${env:TW_TEST_GRPC_PORT}", "4317"))


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["exporters"].update({"otlp": {}}), "exporters.otlp.endpoint: missing"),
    (lambda c: c["processors"]["assemble"].update({"tree_idle": "0s"}), "processors.assemble.tree_idle: must be > 0"),
    (lambda c: c["processors"]["assemble"].update({"tree_idel": "1s"}),
     "processors.assemble.tree_idel: unknown key (did you mean tree_idle? known keys: late_cache_size,"),
    (lambda c: c["processors"]["assemble"].update({"patience": "1s"}),
     "processors.assemble.patience: unknown key (known keys: late_cache_size,"),  # nothing close: no guess
    (lambda c: c.update({"recievers": c.pop("receivers")}), "recievers: unknown key (did you mean receivers?"),
    (lambda c: c["processors"]["assemble"].update({"tree_max_wait": "soon"}),
     "processors.assemble.tree_max_wait: expected a duration"),
    (lambda c: c["processors"]["assemble"].update({"max_bytes": "lots"}), "processors.assemble.max_bytes: expected a size"),
    (lambda c: c["service"]["pipelines"]["traces"].update({"exporters": ["nope"]}),
     "service.pipelines.traces.exporters: 'nope' is not defined under exporters"),
    (lambda c: c["service"]["pipelines"].update({"spans": {"receivers": ["otlp"], "exporters": ["debug"]}}),
     "service.pipelines.spans: unknown signal"),
    (lambda c: c["exporters"].update({"kafka": {}}), "exporters.kafka: unknown exporter type 'kafka'"),
    (lambda c: c.update({"extension": {}}), "extension: unknown key"),
    (lambda c: c["service"]["telemetry"].update({"admin": {"endpoint": "nowhere"}}) if "telemetry" in c["service"]
     else c["service"].update({"telemetry": {"admin": {"endpoint": "nowhere"}}}),
     "service.telemetry.admin.endpoint: expected host:port"),
    (lambda c: c["service"]["pipelines"]["traces"].update({"receivers": []}),
     "service.pipelines.traces.receivers: at least one receiver is required"),
])
def test_errors_name_the_key(mutate, key: str) -> None:  # type: ignore[no-untyped-def]
    raw = _base()
    mutate(raw)
    with pytest.raises(ConfigError) as e:
        from_mapping(raw)
    assert str(e.value).startswith(key), str(e.value)


def test_stage_before_assemble_is_refused() -> None:
    raw = _base()
    raw["processors"]["normalize"] = None
    raw["service"]["pipelines"]["traces"]["processors"] = ["normalize", "assemble"]
    with pytest.raises(ConfigError, match="list 'assemble' before it"):
        from_mapping(raw)


def test_env_expansion_rules() -> None:
    env = {"PORT": "4317", "HOST": "h"}
    assert expand_env("${env:PORT}", env) == 4317
    assert expand_env("${HOST}:${env:PORT}", env) == "h:4317"
    assert expand_env("${env:MISSING:-fallback}", env) == "fallback"
    assert expand_env("${env:MISSING}", env) == ""
    assert expand_env({"a": ["${HOST}"]}, env) == {"a": ["h"]}


def test_durations_and_sizes() -> None:
    assert parse_duration("250ms", "x") == 0.25
    assert parse_duration("2m", "x") == 120
    assert parse_duration(3, "x") == 3.0
    assert parse_size("1KiB", "x") == 1024
    assert parse_size("10MB", "x") == 10_000_000
    with pytest.raises(ConfigError):
        parse_duration(True, "x")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "otel_tokenwatch", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    raw = _base()
    good.write_text(yaml.safe_dump(raw))
    assert _cli("validate", str(good)).returncode == 0
    raw["exporters"]["otlp"] = {"timeout": "5s"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    r = _cli("validate", str(bad))
    assert r.returncode == 2
    assert str(bad) in r.stderr and "exporters.otlp.endpoint: missing" in r.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("receivers: [\n")
    r = _cli("validate", str(broken))
    assert r.returncode == 2 and "not valid YAML" in r.stderr


def test_version() -> None:
    r = _cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("tokenwatch ")


def test_the_readme_example_is_a_valid_config() -> None:
    import re
    from pathlib import Path

    import yaml

    from otel_tokenwatch.config import from_mapping

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```yaml\n(receivers:.*?)```", readme, re.DOTALL)
    assert block is not None
    cfg = from_mapping(yaml.safe_load(block.group(1)), "README.md")
    assert cfg.service.pipelines["logs"].processors == ["agents"]
