"""Trees built from the real fixture spans, the way the service builds them."""

from __future__ import annotations

from pathlib import Path

from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.tree import Tree
from tests.conftest import FIXTURES


def trees_of(path: Path | str) -> list[tuple[str, Tree]]:
    """(scenario, tree) for every trace in one file of captured requests (the shared fixtures' line format),
    each request assembled on its own as the service would."""
    out: list[tuple[str, Tree]] = []
    for rec in read(path):
        if rec.signal != "traces":
            continue
        asm = Assembler(AssembleConfig())
        asm.add(rec.request, 0.0, None)  # type: ignore[arg-type]
        for t in asm.flush(0.0, "flush"):
            out.append((str(rec.meta.get("scenario", "")), t))
    return out


def fixture_trees(name: str) -> list[tuple[str, Tree]]:
    """(scenario, tree) for every trace in one shared fixture file."""
    return trees_of(Path(FIXTURES) / name)
