"""Server TLS from PEM files, for both transports."""

from __future__ import annotations

import ssl
from pathlib import Path

import grpc

from otel_tokenwatch.receivers.otlp.config import TLSServerConfig


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise OSError(f"cannot read TLS {what} {path}: {e.strerror}") from None


def grpc_credentials(cfg: TLSServerConfig) -> grpc.ServerCredentials:
    pair = [(_read(cfg.key_file, "key_file"), _read(cfg.cert_file, "cert_file"))]
    if cfg.client_ca_file:
        return grpc.ssl_server_credentials(pair, root_certificates=_read(cfg.client_ca_file, "client_ca_file"),
                                           require_client_auth=True)
    return grpc.ssl_server_credentials(pair)


def ssl_context(cfg: TLSServerConfig) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    if cfg.client_ca_file:
        ctx.load_verify_locations(cfg.client_ca_file)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
