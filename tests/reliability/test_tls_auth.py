"""TLS (server and mutual) and bearer tokens on the receivers and the outcome API, with certificates made here."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp
import grpc
import pytest

from tests.conftest import otlp_receiver, running, service_config
from tests.relay.test_bad_input import otlp_json

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def make_certs(d: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate, with openssl."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=tokenwatch-test-ca")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext")
    return {k: d / k for k in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


@pytest.mark.parametrize("mutual", [False, True], ids=["tls", "mtls"])
async def test_tls_receivers(tmp_path: Path, mutual: bool) -> None:
    c = make_certs(tmp_path)
    tls = {"cert_file": str(c["server.pem"]), "key_file": str(c["server.key"])}
    if mutual:
        tls["client_ca_file"] = str(c["ca.pem"])
    recv = {"otlp": otlp_receiver(grpc_settings={"tls": tls}, http_settings={"tls": tls})}
    cfg = service_config(tmp_path, receivers=recv, exporters={"file": {"path": str(tmp_path / "o.jsonl")}})
    async with running(cfg) as svc:
        eps = svc.endpoints()["otlp"]
        creds = grpc.ssl_channel_credentials(
            root_certificates=c["ca.pem"].read_bytes(),
            private_key=c["client.key"].read_bytes() if mutual else None,
            certificate_chain=c["client.pem"].read_bytes() if mutual else None)
        async with grpc.aio.secure_channel(eps["grpc"], creds) as ch:
            assert await ch.unary_unary(EXPORT)(b"", timeout=10) == b""
        async with grpc.aio.insecure_channel(eps["grpc"]) as ch:  # plaintext to a TLS port
            with pytest.raises(grpc.aio.AioRpcError):
                await ch.unary_unary(EXPORT)(b"", timeout=3)
        ctx = ssl.create_default_context(cafile=str(c["ca.pem"]))
        if mutual:
            ctx.load_cert_chain(str(c["client.pem"]), str(c["client.key"]))
        async with aiohttp.ClientSession() as http:
            async with http.post(f"https://{eps['http']}/v1/traces", json=otlp_json(1), ssl=ctx) as r:
                assert r.status == 200
            if mutual:  # no client certificate: the handshake fails
                bare = ssl.create_default_context(cafile=str(c["ca.pem"]))
                with pytest.raises(aiohttp.ClientError):
                    async with http.post(f"https://{eps['http']}/v1/traces", json=otlp_json(1), ssl=bare):
                        pass


async def test_bearer_tokens_on_receivers_and_outcome_api(tmp_path: Path) -> None:
    recv = {"otlp": otlp_receiver(auth_token="r3ceiver")}
    cfg = service_config(tmp_path, receivers=recv, processors={"assemble": None, "enrich": {
        "outcome": {"auth_token": "0utcome"}}}, traces_processors=["assemble", "enrich"],
        exporters={"file": {"path": str(tmp_path / "o.jsonl")}})
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        eps = svc.endpoints()["otlp"]
        url = f"http://{eps['http']}"
        for headers, status in (({}, 401), ({"Authorization": "Bearer nope"}, 401),
                                ({"Authorization": "Bearer r3ceiver"}, 200)):
            async with http.post(url + "/v1/traces", json=otlp_json(1), headers=headers) as r:
                assert r.status == status
        for headers, status in (({}, 401), ({"Authorization": "Bearer r3ceiver"}, 401),
                                ({"Authorization": "Bearer 0utcome"}, 202)):
            async with http.post(url + "/v1/outcomes", json={"trace_id": "ab" * 16, "outcome": "success"},
                                 headers=headers) as r:
                assert r.status == status
        async with grpc.aio.insecure_channel(eps["grpc"]) as ch:
            call = ch.unary_unary(EXPORT)
            for md, code in (((), grpc.StatusCode.UNAUTHENTICATED),
                             ((("authorization", "Bearer nope"),), grpc.StatusCode.UNAUTHENTICATED)):
                with pytest.raises(grpc.aio.AioRpcError) as e:
                    await call(b"", metadata=md, timeout=5)
                assert e.value.code() == code
            assert await call(b"", metadata=(("authorization", "Bearer r3ceiver"),), timeout=5) == b""
        text = svc.telemetry.prometheus_text().decode()
        assert "r3ceiver" not in text and "0utcome" not in text  # no secret in a metric


async def test_exporters_speak_tls_with_a_ca_file(tmp_path: Path) -> None:
    """tokenwatch A exports over TLS (gRPC and HTTP, CA from a file, client certificate) to tokenwatch B."""
    from tests.conftest import grpc_endpoint, wait_for
    from tests.relay.spans import by_span_id, read_file

    c = make_certs(tmp_path)
    tls = {"cert_file": str(c["server.pem"]), "key_file": str(c["server.key"]), "client_ca_file": str(c["ca.pem"])}
    b_cfg = service_config(tmp_path / "b", receivers={"otlp": otlp_receiver(grpc_settings={"tls": tls},
                                                                            http_settings={"tls": tls})},
                           exporters={"file": {"path": str(tmp_path / "b.jsonl")}})
    async with running(b_cfg) as b:
        eps = b.endpoints()["otlp"]
        client_tls = {"ca_file": str(c["ca.pem"]), "cert_file": str(c["client.pem"]), "key_file": str(c["client.key"])}
        a_cfg = service_config(tmp_path / "a", exporters={
            "otlp": {"endpoint": eps["grpc"], "tls": client_tls},
            "otlphttp": {"endpoint": f"https://{eps['http']}", "tls": client_tls}})
        async with running(a_cfg) as a:
            async with grpc.aio.insecure_channel(grpc_endpoint(a)) as ch:
                body = otlp_json(3)
                from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

                from otel_tokenwatch.otlp.jsoncodec import parse_dict

                req = parse_dict(body, ExportTraceServiceRequest())
                await ch.unary_unary(EXPORT)(req.SerializeToString(), timeout=10)
            # both exporters delivered over TLS: B holds every span twice (once per exporter)
            await wait_for(lambda: sum(1 for r in read_file(tmp_path / "b.jsonl") for rs in r.resource_spans
                                       for ss in rs.scope_spans for _ in ss.spans) == 6, timeout=20)
            st = a.status()["exporters"]
            assert st["otlp (traces)"]["sent_items"] == 3 and st["otlphttp (traces)"]["sent_items"] == 3
    assert len(by_span_id(read_file(tmp_path / "b.jsonl"))) == 3
