"""The assembled span tree that every processor stage works on.

A tree holds its spans as encoded OTLP bytes plus references to the shared
resource and scope they came with. Stages read a span's attributes through a
lazily decoded protobuf (``SpanEntry.span`` / ``SpanEntry.attrs``) and add
attributes with ``SpanEntry.set``: the additions are appended to the wire
bytes at encode time, so the original span is forwarded byte for byte plus
what tokenwatch adds. The same tree type serves the service, ``tokenwatch
score``, the SDK exporter and coding-agent sessions (built from log records).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch.otlp.wire import (
    AttrValue,
    c_encode_entries,
    c_encode_request,
    c_repeated_ids,
    decode_span,
    encode_attributes,
    field_bytes,
    field_header,
    key_values_to_dict,
)

if TYPE_CHECKING:
    from otel_tokenwatch.pipeline.call import Call

log = logging.getLogger("otel_tokenwatch.pipeline")


class ResourceInfo:
    """One resource (as encoded), shared by every span that came with it."""

    __slots__ = ("_attrs", "_service_name", "data", "schema_url")

    def __init__(self, data: bytes, schema_url: str) -> None:
        self.data = data
        self.schema_url = schema_url
        self._attrs: dict[str, object] | None = None
        self._service_name: str | None = None

    @property
    def attrs(self) -> dict[str, object]:
        if self._attrs is None:
            self._attrs = key_values_to_dict(Resource.FromString(self.data).attributes)
        return self._attrs

    @property
    def service_name(self) -> str:
        if self._service_name is None:
            v = self.attrs.get("service.name")
            self._service_name = v if isinstance(v, str) and v else "unknown_service"
        return self._service_name


class ScopeInfo:
    """One instrumentation scope (as encoded), shared like ResourceInfo."""

    __slots__ = ("_name", "_scope", "data", "schema_url")

    def __init__(self, data: bytes, schema_url: str) -> None:
        self.data = data
        self.schema_url = schema_url
        self._scope: InstrumentationScope | None = None
        self._name: str | None = None

    @property
    def scope(self) -> InstrumentationScope:
        if self._scope is None:
            self._scope = InstrumentationScope.FromString(self.data)
        return self._scope

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = self.scope.name
        return self._name


class SpanEntry:
    """One span of a tree: wire bytes, ids, and what stages learned about it."""

    __slots__ = (
        "_attrs",
        "_span",
        "_view",
        "added",
        "call",
        "data",
        "late",
        "parent_id",
        "resource",
        "scope",
        "span_id",
    )

    def __init__(self, resource: ResourceInfo, scope: ScopeInfo, data: bytes, span_id: bytes,
                 parent_id: bytes) -> None:
        self.resource = resource
        self.scope = scope
        self.data = data
        self.span_id = span_id
        self.parent_id = parent_id
        self._span: Span | None = None
        self._view: Any = None
        self._attrs: dict[str, object] | None = None
        self.added: dict[str, AttrValue] = {}
        self.call: Call | None = None
        self.late = False

    @property
    def span(self) -> Span:
        """The span as a full protobuf message (read-only use: changes go through ``set``)."""
        if self._span is None:
            self._span = Span.FromString(self.data)
        return self._span

    @property
    def view(self) -> Any:
        """What stages read: the span's ``name``, ``kind``, ``start_time_unix_nano``,
        ``end_time_unix_nano`` and ``status_code``, read with the attributes in one pass
        (``wire.decode_span``); much cheaper than ``span``."""
        if self._view is None:
            self._view, self._attrs = decode_span(self.data)
        return self._view

    @property
    def attrs(self) -> dict[str, object]:
        """The span's original attributes as plain Python values."""
        if self._attrs is None:
            self._view, self._attrs = decode_span(self.data)
        return self._attrs

    def get(self, key: str, default: object = None) -> object:
        """An attribute as the span will leave: what a stage added, else what it carried."""
        if key in self.added:
            return self.added[key]
        return self.attrs.get(key, default)

    def may_contain(self, needle: bytes) -> bool:
        """Cheap pre-check on the wire bytes before decoding anything."""
        return needle in self.data

    def has(self, key: str) -> bool:
        """The span carries attribute ``key``: a dict lookup once decoded, else a byte search first."""
        if self._attrs is not None:
            return key in self._attrs
        return key.encode() in self.data and key in self.attrs

    def set(self, key: str, value: AttrValue) -> None:
        """Add (or replace) an attribute that tokenwatch writes on this span."""
        self.added[key] = value

    def set_if_absent(self, key: str, value: AttrValue) -> bool:
        """Write-back: add only when the span did not carry the key itself."""
        if key in self.added or (self._attrs is not None and key in self._attrs) or (
                self._attrs is None and key.encode() in self.data and key in self.attrs):
            return False
        self.added[key] = value
        return True

    def rewrite(self, edit: Any) -> None:
        """Change the span itself (privacy: pseudonymize, drop content): decode, ``edit(span)``, re-encode.

        Rare by design: only configured privacy rules use it, everything else
        appends attributes and keeps the original bytes.
        """
        span = Span()
        span.CopyFrom(self.span)
        edit(span)
        self.data = span.SerializeToString()
        self._span = span
        self._view = None
        self._attrs = None

    def encoded_parts(self) -> bytes | tuple[bytes, bytes]:
        """The span as it leaves tokenwatch: its bytes, or (its bytes, appended attributes), so a
        request can be built with each span copied once.

        Keys the span already had are replaced (the span re-encoded without them) rather than
        repeated, because OTLP requires unique keys per span.
        """
        added = self.added
        if not added:
            return self.data
        attrs = self._attrs
        if attrs is None:
            attrs = self.attrs if any(k.encode() in self.data for k in added) else {}
        if attrs.keys().isdisjoint(added):
            return self.data, encode_attributes(added.items())
        span = Span.FromString(self.data)
        keep = [kv for kv in span.attributes if kv.key not in added]
        del span.attributes[:]
        span.attributes.extend(keep)
        return span.SerializeToString(), encode_attributes(added.items())


@dataclass(slots=True)
class Tree:
    """The spans of one trace, as released by the assembler."""

    trace_id: bytes
    spans: list[SpanEntry] = field(default_factory=list)
    first_seen: float = 0.0
    last_seen: float = 0.0
    byte_size: int = 0
    root_seen: bool = False
    complete: bool = False
    #: why the assembler released it: complete, max_wait, max_open_traces, max_bytes, shutdown, late, flush
    release_reason: str = ""
    #: spans that arrived after the tree had been released (scored against the stored summary)
    late: bool = False
    #: journal sequence numbers of the requests these spans came from (durability)
    sources: set[int] = field(default_factory=set)
    #: where stages leave per-tree results for later stages and for metrics
    facts: dict[str, Any] = field(default_factory=dict)
    #: spans received again (byte for byte, under the same id), held out of ``spans`` so that no stage reads
    #: a retried export as a second call: each goes out again as the entry it repeats leaves (``outgoing``)
    copies: list[SpanEntry] = field(default_factory=list)

    def hold_copies(self) -> None:
        """Move byte-identical repeats of a span out of ``spans`` (see ``copies``). An exporter that timed out
        on a request the receiver had taken sends it again (OTLP delivery is at-least-once); within the
        assembly wait both land in one tree. Two different spans under one id are a broken exporter's: both
        stay and are read."""
        spans = self.spans
        if len(spans) < 2:
            return
        repeated = c_repeated_ids(spans) if c_repeated_ids is not None else None
        if repeated is False or (repeated is None and len({e.span_id for e in spans}) == len(spans)):
            return
        firsts: dict[tuple[bytes, bytes], SpanEntry] = {}
        keep = []
        for e in spans:
            first = firsts.setdefault((e.span_id, e.data), e)
            if first is e:
                keep.append(e)
            else:
                self.copies.append(first)
        self.spans = keep

    def outgoing(self) -> list[SpanEntry]:
        """What leaves: every span, and each one received again once more, as enriched as its first."""
        return self.spans + self.copies if self.copies else self.spans

    @property
    def trace_id_hex(self) -> str:
        return self.trace_id.hex()

    def root(self) -> SpanEntry | None:
        """The span without a parent, or else the earliest span whose parent is not in the tree."""
        local_root: SpanEntry | None = None
        ids = None
        for e in self.spans:
            if not e.parent_id:
                return e
        ids = {e.span_id for e in self.spans}
        for e in self.spans:
            if e.parent_id not in ids and (
                    local_root is None or e.view.start_time_unix_nano < local_root.view.start_time_unix_nano):
                local_root = e
        return local_root

    def children(self) -> dict[bytes, list[SpanEntry]]:
        out: dict[bytes, list[SpanEntry]] = {}
        for e in self.spans:
            out.setdefault(e.parent_id, []).append(e)
        return out

    def encode(self) -> bytes:
        """This tree as one ExportTraceServiceRequest (bytes), copies included."""
        return encode_spans(self.outgoing())


def holds_id(ids: bytes, span_id: bytes) -> bool:
    """``span_id`` is one of the 8-byte ids packed in ``ids`` (compact: released traces are remembered by
    the hundred thousand, each with the ids of the spans whose calls were counted)."""
    i = ids.find(span_id)
    while i >= 0:
        if i % 8 == 0:
            return True
        i = ids.find(span_id, i + 1)
    return False


def encode_spans(entries: list[SpanEntry]) -> bytes:
    """Group spans by resource then scope (first-seen order) and encode a request.

    Each span's bytes are copied a single time, into the result, however
    deep the message nesting: by the compiled writer where it is built,
    else as a list of pieces joined once.
    """
    if c_encode_entries is not None:
        try:
            got = c_encode_entries(entries if isinstance(entries, list) else list(entries))
        except Exception:  # a fault in the compiled writer must not lose the tree: Python writes it
            log.exception("compiled span writer failed; encoding in Python")
            got = None
        if got is not None:
            return got
    by_res: dict[int, tuple[ResourceInfo, dict[int, tuple[ScopeInfo, list[bytes | tuple[bytes, bytes]]]]]] = {}
    for e in entries:
        r = by_res.get(id(e.resource))
        if r is None:
            r = by_res[id(e.resource)] = (e.resource, {})
        s = r[1].get(id(e.scope))
        if s is None:
            s = r[1][id(e.scope)] = (e.scope, [])
        s[1].append(e.encoded_parts())
    if c_encode_request is not None:
        try:
            return c_encode_request([(res.data, res.schema_url, [(scope.data, scope.schema_url, spans)
                                                                 for scope, spans in scopes.values()])
                                     for res, scopes in by_res.values()])
        except Exception:
            log.exception("compiled request writer failed; encoding in Python")
    out: list[bytes] = []
    for res, scopes in by_res.values():
        rs: list[bytes] = [field_bytes(1, res.data)]
        for scope, spans in scopes.values():
            ss: list[bytes] = [field_bytes(1, scope.data)]
            for b in spans:
                if isinstance(b, tuple):
                    ss.append(field_header(2, len(b[0]) + len(b[1])))
                    ss.extend(b)
                else:
                    ss.append(field_header(2, len(b)))
                    ss.append(b)
            if scope.schema_url:
                ss.append(field_bytes(3, scope.schema_url.encode()))
            rs.append(field_header(2, sum(map(len, ss))))
            rs.extend(ss)
        if res.schema_url:
            rs.append(field_bytes(3, res.schema_url.encode()))
        out.append(field_header(1, sum(map(len, rs))))
        out.extend(rs)
    return b"".join(out)
