"""parse_structured reads JSON with orjson only where that gives exactly what json gives.

orjson is several times faster on captured messages, but it reads integers past 64 bits
as floats and refuses NaN/Infinity; those texts must still read as the standard library
reads them, or fingerprints, argument hashes and token counts would drift.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_tokenwatch.otlp import wire
from otel_tokenwatch.pipeline.normalize.coerce import parse_structured

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(json_values, st.sampled_from([None, 2]))
def test_reads_what_json_reads(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    if text[0] not in "[{\"":
        text = json.dumps([value], indent=indent)
    # repr: NaN != NaN, and 1 == 1.0 would hide an int read as a float
    assert repr(parse_structured(text)) == repr(json.loads(text))


def test_edges() -> None:
    for text in ("[18446744073709551616]", "[-12345678901234567890]", "[-9999999999999999999]",
                 "[-9223372036854775809]", '{"a": NaN}', "[1e400]", '["\\ud800"]',
                 "[9223372036854775807, 0.1, -0.0]"):
        assert repr(parse_structured(text)) == repr(json.loads(text)), text
    assert parse_structured("['a', 'b']") == ["a", "b"]  # a Python repr, as some instrumentations send lists
    assert parse_structured("not json") == "not json"


@pytest.mark.skipif(wire.c_has_digit_run is None, reason="compiled module not built (a CI test requires it)")
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 a-é١\U0001f600"), max_size=60), st.integers(0, 25))
def test_compiled_digit_run_matches_a_regex(s: str, n: int) -> None:
    expected = n <= 0 or re.search(f"[0-9]{{{n}}}", s) is not None
    assert wire.c_has_digit_run(s, n) is expected
