"""The ``tokenwatch`` command: serve, validate, score.

Exit codes: 0 success, 2 bad configuration or unreadable input (the message
names the key or the file and line), 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from otel_tokenwatch import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokenwatch", description="GenAI spend next to what it bought: an OTLP relay "
                                "that assembles traces, prices every call and scores waste.")
    p.add_argument("--version", action="version", version=f"tokenwatch {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the service (embedded default config when --config is not given)")
    s.add_argument("--config", "-c", help="YAML config in the Collector's shape")

    v = sub.add_parser("validate", help="check a config file; exit 0 or 2 naming the bad key")
    v.add_argument("config", help="YAML config file")

    sc = sub.add_parser("score", help="score OTLP files (JSON lines or protobuf) with the service's own stages")
    sc.add_argument("paths", nargs="+", help="OTLP/JSON lines files, fixture files or OTLP protobuf files")
    sc.add_argument("--format", "-f", choices=["table", "json", "html"], default="table")
    sc.add_argument("--output", "-o", help="write here instead of stdout (html defaults to tokenwatch-report.html)")
    sc.add_argument("--config", "-c", help="use this config's traces pipeline (default: embedded)")
    sc.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return p


def _load(path: str | None) -> object:
    from otel_tokenwatch.config import ConfigError, load

    try:
        return load(path)
    except ConfigError as e:
        where = f"{path}: " if path else ""
        print(f"tokenwatch: invalid config: {where}{e}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "validate":
        cfg = _load(args.config)
        print(f"{args.config}: ok ({len(cfg.service.pipelines)} pipelines)")  # type: ignore[attr-defined]
        return 0
    if args.command == "serve":
        from otel_tokenwatch.service import Service, tune_gc
        from otel_tokenwatch.telemetry import logs

        cfg = _load(args.config)
        logs.configure(cfg.service.telemetry.logs.level, cfg.service.telemetry.logs.encoding)  # type: ignore[attr-defined]
        try:
            service = Service(cfg)  # type: ignore[arg-type]
            tune_gc()
            asyncio.run(service.run(on_ready=lambda line: print(line, file=sys.stderr, flush=True)))
        except OSError as e:
            hint = "" if "port in use" in str(e) else " (is another process using the port? set it in the config)"
            print(f"tokenwatch: cannot start: {e}{hint}", file=sys.stderr)
            return 1
        return 0
    if args.command == "score":
        from otel_tokenwatch.report.score_cli import run_score
        from otel_tokenwatch.service import tune_gc

        tune_gc()  # a score run holds every tree: the same collector settings as the service
        return run_score(args.paths, args.format, args.output, args.config, progress=not args.no_progress)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
