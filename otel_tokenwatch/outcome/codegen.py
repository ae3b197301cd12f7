"""Regenerate the outcome API's Python code from proto/ with grpcio-tools.

``python -m otel_tokenwatch.outcome.codegen`` rewrites otel_tokenwatch/outcome/v1/;
``--check`` exits 1 when the committed code differs from what the .proto
gives (the test suite runs that, so a stale stub cannot land).
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
PROTO = PROTO_DIR / "tokenwatch" / "outcome" / "v1" / "outcome.proto"
OUT = ROOT / "otel_tokenwatch" / "outcome" / "v1"
FILES = ("outcome_pb2.py", "outcome_pb2.pyi", "outcome_pb2_grpc.py")


def generate(dest: Path) -> None:
    from grpc_tools import protoc  # test/dev dependency only

    with tempfile.TemporaryDirectory() as tmp:
        rc = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={tmp}", f"--pyi_out={tmp}",
                          f"--grpc_python_out={tmp}", str(PROTO)])
        if rc != 0:
            raise SystemExit(f"protoc failed on {PROTO} (exit {rc})")
        gen = Path(tmp) / "tokenwatch" / "outcome" / "v1"
        for name in FILES:
            text = (gen / name).read_text()
            # generated imports name the proto package; ours lives inside otel_tokenwatch
            text = text.replace("from tokenwatch.outcome.v1 import", "from otel_tokenwatch.outcome.v1 import")
            (dest / name).write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 if the generated code is stale")
    args = ap.parse_args(argv)
    if not args.check:
        generate(OUT)
        print(f"regenerated {', '.join(FILES)} in {OUT}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        stale = [n for n in FILES if not (OUT / n).exists() or not filecmp.cmp(Path(tmp) / n, OUT / n, shallow=False)]
    if stale:
        print(f"stale generated code: {', '.join(stale)}; run python -m otel_tokenwatch.outcome.codegen",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
