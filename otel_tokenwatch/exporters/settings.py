"""Sending settings shared by every exporter, under the Collector's exporterhelper keys.

``timeout``, ``retry_on_failure`` and ``sending_queue`` mean what they mean in
the Collector, so a Collector exporter block can be pasted here; ``batch``
groups queued requests into one export (by concatenating the encoded
requests, which is a valid request: ``resource_spans`` is a repeated field).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from otel_tokenwatch.config.build import ByteSize, Duration, require


@dataclass(frozen=True)
class RetryConfig:
    enabled: bool = True
    initial_interval: Duration = Duration(5.0)
    randomization_factor: float = 0.5
    multiplier: float = 1.5
    max_interval: Duration = Duration(30.0)
    #: give up (dead-letter) after this long; 0 = retry forever
    max_elapsed_time: Duration = Duration(300.0)

    def validate(self, path: str) -> None:
        require(self.initial_interval > 0, f"{path}.initial_interval", "must be > 0")
        require(0 <= self.randomization_factor < 1, f"{path}.randomization_factor", "must be in [0, 1)")
        require(self.multiplier >= 1, f"{path}.multiplier", "must be >= 1")
        require(self.max_interval >= self.initial_interval, f"{path}.max_interval", "must be >= initial_interval")


@dataclass(frozen=True)
class QueueConfig:
    enabled: bool = True
    #: concurrent exports
    num_consumers: int = 2
    #: items (spans, data points, log records) queued at most; past it receivers refuse with 429/RESOURCE_EXHAUSTED
    queue_size: int = 200_000
    #: with durability on, items this exporter has not delivered after this long move from the shared journal
    #: to this exporter's own spool file, so a slow backend never holds the journal (and the others) back;
    #: 0 keeps everything in the journal
    spill_after: Duration = Duration(30.0)

    def validate(self, path: str) -> None:
        require(self.num_consumers >= 1, f"{path}.num_consumers", "must be >= 1")
        require(self.queue_size >= 1, f"{path}.queue_size", "must be >= 1")


@dataclass(frozen=True)
class BatchConfig:
    #: wait at most this long for more data before sending a partial batch
    flush_timeout: Duration = Duration(0.002)
    #: items per export at most
    max_items: int = 8192
    #: encoded bytes per export at most (a single larger request is still sent alone)
    max_bytes: ByteSize = ByteSize(4 * 2**20)

    def validate(self, path: str) -> None:
        require(self.flush_timeout >= 0, f"{path}.flush_timeout", "must be >= 0")
        require(self.max_items >= 1, f"{path}.max_items", "must be >= 1")
        require(self.max_bytes >= 1024, f"{path}.max_bytes", "must be >= 1KiB")


@dataclass(frozen=True)
class ClientTLSConfig:
    """Client TLS as the Collector spells it; ``insecure: true`` sends plaintext."""

    insecure: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False

    def validate(self, path: str) -> None:
        require(bool(self.cert_file) == bool(self.key_file), path, "cert_file and key_file go together")


@dataclass(frozen=True)
class SendingConfig:
    """The exporterhelper part that every network exporter embeds."""

    timeout: Duration = Duration(5.0)
    retry_on_failure: RetryConfig = field(default_factory=RetryConfig)
    sending_queue: QueueConfig = field(default_factory=QueueConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
