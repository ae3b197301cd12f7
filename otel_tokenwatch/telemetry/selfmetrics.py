"""tokenwatch's own metrics, recorded through an OpenTelemetry SDK MeterProvider.

One MeterProvider per service (no globals): a Prometheus reader with a
registry of its own feeds ``/metrics`` on the admin port, and an optional
periodic reader pushes the same metrics into the metrics pipeline's
exporters. Instruments are created from the declarations in ``semconv``, so
a metric cannot be recorded under a name that is not documented.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, generate_latest

from otel_tokenwatch import __version__, semconv

Gauge = Callable[[], Iterable[tuple[float, dict[str, str]]]]


class SelfTelemetry:
    """Instruments by declared name, plus the Prometheus text of everything recorded."""

    def __init__(self, service_name: str = "tokenwatch", readers: list[MetricReader] | None = None,
                 prometheus: bool = True, meter_provider: Any = None, buffer_counters: bool = False) -> None:
        """``meter_provider``: record into an application's provider instead (the SDK plugin).

        ``buffer_counters``: sum counter increments in a dict and hand them to
        the SDK only when a reader collects (or ``flush``). A tree records a
        dozen increments and the SDK's ``add`` costs tens of microseconds
        each (attribute cleaning, view matching), which made metrics a fifth
        of the service's work per span; summed first, a series costs one SDK
        call per collection. The service turns this on; the SDK plugin,
        recording into an application's provider, does not.
        """
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        self.registry = CollectorRegistry(auto_describe=True)
        self.own_provider = meter_provider is None
        if meter_provider is not None:
            self.provider = meter_provider
        else:
            all_readers: list[MetricReader] = list(readers or [])
            if prometheus:
                all_readers.append(PrometheusMetricReader(registry=self.registry, disable_target_info=True,
                                                          scope_info_enabled=False))
            # no exemplars: stages run outside any sampled span, so the SDK's default (trace-based) filter
            # never keeps one, yet looks up the context on every measurement
            self.provider = MeterProvider(metric_readers=all_readers, exemplar_filter=AlwaysOffExemplarFilter(),
                                          resource=Resource.create({"service.name": service_name,
                                                                    "service.version": __version__}))
        self.meter: Meter = self.provider.get_meter("otel_tokenwatch", __version__)
        self._instruments: dict[str, Any] = {}
        self._gauges: dict[str, list[Gauge]] = {}
        self._buffered = buffer_counters
        self._pending: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._lock = threading.Lock()  # readers collect on their own threads

    def instrument(self, name: str) -> Any:
        """The counter/histogram declared under ``name`` (created on first use)."""
        inst = self._instruments.get(name)
        if inst is None:
            m = semconv.METRICS[name]
            if m.instrument == "counter":
                inst = self.meter.create_counter(name, unit=m.unit, description=m.brief)
            elif m.instrument == "histogram":
                inst = self.meter.create_histogram(name, unit=m.unit, description=m.brief)
            elif m.instrument == "updowncounter":
                inst = self.meter.create_up_down_counter(name, unit=m.unit, description=m.brief)
            else:
                raise ValueError(f"{name} is a gauge: register it with observe()")
            self._instruments[name] = inst
        return inst

    def add(self, name: str, value: float, attributes: dict[str, str] | None = None) -> None:
        if not value:
            return
        if not self._buffered:
            self.instrument(name).add(value, attributes)
            return
        key = (name, tuple(attributes.items()) if attributes else ())
        with self._lock:
            pending = self._pending
            pending[key] = pending.get(key, 0) + value

    def add_many(self, increments: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> None:
        """Counter increments keyed (name, label pairs), added under one lock: a tree's metrics at once."""
        if not self._buffered:
            for (name, attrs), value in increments.items():
                if value:
                    self.instrument(name).add(value, dict(attrs))
            return
        with self._lock:
            pending = self._pending
            for key, value in increments.items():
                if value:
                    pending[key] = pending.get(key, 0) + value

    def flush_pending(self) -> None:
        """Hand buffered counter increments to the SDK (before every collection)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for (name, attrs), value in pending.items():
            self.instrument(name).add(value, dict(attrs))

    def record(self, name: str, value: float, attributes: dict[str, str] | None = None) -> None:
        self.instrument(name).record(value, attributes)

    def observe(self, name: str, callback: Gauge) -> None:
        """Register a source for a declared gauge; several sources may share one gauge."""
        m = semconv.METRICS[name]
        if m.instrument != "gauge":
            raise ValueError(f"{name} is not a gauge")
        if name not in self._gauges:
            self._gauges[name] = []

            def _cb(options: CallbackOptions, _name: str = name) -> Iterable[Observation]:
                # gauge callbacks run before a reader reads the counters: buffered increments land first
                self.flush_pending()
                for source in list(self._gauges[_name]):
                    for value, attrs in source():
                        yield Observation(value, attrs)

            self.meter.create_observable_gauge(name, callbacks=[_cb], unit=m.unit, description=m.brief)
        self._gauges[name].append(callback)

    def flush(self) -> None:
        """Push now through every periodic reader (before shutdown, in tests)."""
        self.flush_pending()
        if hasattr(self.provider, "force_flush"):
            self.provider.force_flush(timeout_millis=5000)

    def prometheus_text(self) -> bytes:
        self.flush_pending()
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self.flush_pending()
        if self.own_provider:
            self.provider.shutdown()


class PipelineMetricExporter:
    """Hands tokenwatch's own metrics to a metrics pipeline as OTLP (so any backend gets them)."""

    def __new__(cls, offer: Callable[[bytes, int], None]) -> Any:
        from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
        from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult

        class _Exporter(MetricExporter):
            def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
                req = encode_metrics(metrics_data)
                n = sum(len(getattr(m, m.WhichOneof("data")).data_points) for rm in req.resource_metrics
                        for sm in rm.scope_metrics for m in sm.metrics if m.WhichOneof("data"))
                if n:
                    offer(req.SerializeToString(), n)
                return MetricExportResult.SUCCESS

            def force_flush(self, timeout_millis: float = 10_000) -> bool:
                return True

            def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
                return None

        return _Exporter()
