"""Settings of the ``otlp`` receiver, with the Collector's key names."""

from __future__ import annotations

from dataclasses import dataclass, field

from otel_tokenwatch.config.build import ByteSize, require


@dataclass(frozen=True)
class TLSServerConfig:
    """Server TLS: a certificate and key (PEM files); client_ca_file turns on mutual TLS."""

    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""

    def validate(self, path: str) -> None:
        require(bool(self.cert_file), f"{path}.cert_file", "missing (a PEM certificate is needed for TLS)")
        require(bool(self.key_file), f"{path}.key_file", "missing (a PEM private key is needed for TLS)")


@dataclass(frozen=True)
class GrpcProtocol:
    endpoint: str = "127.0.0.1:4317"
    #: largest accepted request (uncompressed), as the Collector's max_recv_msg_size_mib
    max_recv_msg_size_mib: int = 16
    tls: TLSServerConfig | None = None

    def validate(self, path: str) -> None:
        from otel_tokenwatch.config.service import check_endpoint

        check_endpoint(self.endpoint, f"{path}.endpoint")
        require(self.max_recv_msg_size_mib > 0, f"{path}.max_recv_msg_size_mib", "must be > 0")


@dataclass(frozen=True)
class HttpProtocol:
    endpoint: str = "127.0.0.1:4318"
    #: largest accepted body, before and after decompression (Collector default 20MiB)
    max_request_body_size: ByteSize = ByteSize(20 * 2**20)
    traces_url_path: str = "/v1/traces"
    metrics_url_path: str = "/v1/metrics"
    logs_url_path: str = "/v1/logs"
    tls: TLSServerConfig | None = None

    def validate(self, path: str) -> None:
        from otel_tokenwatch.config.service import check_endpoint

        check_endpoint(self.endpoint, f"{path}.endpoint")
        require(self.max_request_body_size > 0, f"{path}.max_request_body_size", "must be > 0")
        for key in ("traces_url_path", "metrics_url_path", "logs_url_path"):
            require(getattr(self, key).startswith("/"), f"{path}.{key}", "must start with /")


@dataclass(frozen=True)
class Protocols:
    grpc: GrpcProtocol | None = None
    http: HttpProtocol | None = None


@dataclass(frozen=True)
class OTLPReceiverConfig:
    protocols: Protocols = field(default_factory=Protocols)
    #: a bearer token the clients must send (Authorization: Bearer ...); empty = no check
    auth_token: str = ""
    #: or read the token from this file (a mounted secret); wins over auth_token
    auth_token_file: str = ""

    def token(self) -> str:
        if self.auth_token_file:
            from pathlib import Path

            return Path(self.auth_token_file).read_text().strip()
        return self.auth_token

    def validate(self, path: str) -> None:
        if self.auth_token_file:
            import os

            require(os.path.isfile(self.auth_token_file), f"{path}.auth_token_file",
                    f"cannot read {self.auth_token_file}")
        require(self.protocols.grpc is not None or self.protocols.http is not None, f"{path}.protocols",
                "enable at least one of grpc, http")
