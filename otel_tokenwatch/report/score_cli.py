"""``tokenwatch score FILE...``: the service's own stages over files, no server needed.

Reads OTLP/JSON lines (the file exporter's output, the fixtures), Collector
protobuf files, or single OTLP/JSON documents; assembles every trace; runs
the configured traces pipeline (embedded default: normalize, enrich,
score); prints a table, JSON, or writes a self-contained HTML report.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson

from otel_tokenwatch.config import ConfigError, load
from otel_tokenwatch.config.build import ByteSize, Duration
from otel_tokenwatch.otlp.files import UnreadableInput, read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext, slices
from otel_tokenwatch.report.html import render, usd
from otel_tokenwatch.report.summary import TreeRow, row_of, summarize
from otel_tokenwatch.state import MemoryStore


class Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0

    def __call__(self, msg: str, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if final or now - self.last > 0.2:
            self.last = now
            end = "\n" if final else ""
            sys.stderr.write(f"\r\033[K{msg}{end}" if sys.stderr.isatty() else (msg + "\n" if final else ""))
            sys.stderr.flush()


def score_files(paths: list[str], config_path: str | None, progress: Progress) -> list[TreeRow]:
    config = load(config_path)
    pid = next((p for p in config.service.pipelines if p.split("/", 1)[0] == "traces"), None)
    if pid is None:
        raise ConfigError("service.pipelines", "no traces pipeline to score with")
    from otel_tokenwatch.service import build_processors

    ctx = ProcessorContext(data_dir=config.service.data_dir, state=MemoryStore())
    assemble, stages = build_processors(config, pid, ctx)
    chain = ProcessorChain(stages)
    chain.start()
    # files hold whole traces: no idle release, no bounds that would split a tree
    asm = Assembler(AssembleConfig(tree_idle=Duration(1e9), tree_max_wait=Duration(1e9), max_open_traces=10**9,
                                   max_bytes=ByteSize(2**62), max_spans_per_trace=(assemble.max_spans_per_trace
                                                                         if assemble else 100000)))
    spans = 0
    trees = []
    for path in paths:
        for rec in read(path):
            if rec.signal != "traces":
                continue
            trees.extend(asm.add(rec.request, 0.0, None))
            spans += sum(len(ss.spans) for rs in rec.request.resource_spans
                         for ss in rs.scope_spans)
            progress(f"reading {path}: {spans:,} spans, {asm.open_trees:,} traces")
    trees.extend(asm.flush(0.0, "flush"))
    rows = []
    done = 0
    for part in slices(trees):  # released together, as the service does
        chain.process_many(part)
        for t in part:
            r = row_of(t)
            if r is not None:
                rows.append(r)
        done += len(part)
        progress(f"scoring: {done:,} of {len(trees):,} traces")
    chain.shutdown()
    progress(f"scored {len(rows):,} GenAI traces of {len(trees):,} ({spans:,} spans)", final=True)
    return rows


def table(rows: list[TreeRow], summary: dict[str, Any]) -> str:
    out = [(f"{'trace id':<32}  {'workflow':<24} {'outcome':<9} {'calls':>5} {'tokens':>9} {'spend':>10} "
            f"{'score':>5}  top reason")]
    for r in sorted(rows, key=lambda r: -r.waste_score):
        out.append(f"{r.trace_id:<32}  {r.workflow[:24]:<24} {r.outcome:<9} {r.calls:>5} {r.tokens:>9,} "
                   f"{usd(r.cost_usd):>10} {r.waste_score:>5.2f}  {r.top_reason}")
    out.append("")
    out.append(f"{'workflow':<24} {'traces':>6} {'successes':>9} {'spend':>10} {'per success':>12} {'wasted':>7}")
    for w in summary["workflows"]:
        out.append(f"{w['workflow'][:24]:<24} {w['trees']:>6} {w['successes']:>9} {usd(w['cost_usd']):>10} "
                   f"{usd(w['cost_per_success']):>12} {w['waste_share']:>7.0%}")
    if len(summary["teams"]) > 1 or (summary["teams"] and summary["teams"][0]["team"] != "unknown"):
        out.append("")
        out.append(f"{'team':<24} {'traces':>6} {'successes':>9} {'spend':>10} {'per success':>12} {'wasted':>7}")
        for t in summary["teams"]:
            out.append(f"{t['team'][:24]:<24} {t['trees']:>6} {t['successes']:>9} {usd(t['cost_usd']):>10} "
                       f"{usd(t['cost_per_success']):>12} {t['waste_share']:>7.0%}")
    out.append("")
    out.append(f"total spend {usd(summary['cost_usd'])}, wasted {usd(summary['wasted_usd'])} "
               f"({summary['waste_share']:.0%}); by reason: " + ", ".join(
                   f"{k} {usd(v)}" for k, v in summary["wasted_usd_by_reason"].items() if v > 0))
    return "\n".join(out) + "\n"


def run_score(paths: list[str], fmt: str, output: str | None, config_path: str | None, progress: bool) -> int:
    try:
        rows = score_files(paths, config_path, Progress(progress))
    except UnreadableInput as e:
        print(f"tokenwatch score: {e}", file=sys.stderr)
        return 2
    except ConfigError as e:
        print(f"tokenwatch score: config error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"tokenwatch score: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2
    summary = summarize(rows)
    if fmt == "json":
        from dataclasses import asdict

        text = orjson.dumps({"traces": [asdict(r) for r in rows], "workflows": summary["workflows"],
                             "teams": summary["teams"],
                             "summary": summary},
                            option=orjson.OPT_INDENT_2).decode() + "\n"
    elif fmt == "html":
        text = render(rows, summary, paths)
        output = output or "tokenwatch-report.html"
    else:
        text = table(rows, summary)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        if fmt == "html":
            print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
