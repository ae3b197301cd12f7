"""Build step for the one compiled part: the OTLP wire reader (otel_tokenwatch/otlp/_wirec.c).

Everything else is in pyproject.toml. The extension is optional: where no C
compiler is at hand the package installs without it and wire.py reads spans
through protobuf instead (same answers, slower; see README "Performance").
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("otel_tokenwatch.otlp._wirec", ["otel_tokenwatch/otlp/_wirec.c"],
                             extra_compile_args=["-Wall", "-Wno-missing-field-initializers"],
                             optional=True)])
