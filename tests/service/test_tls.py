"""The client fails closed on TLS: a wrong CA, a wrong host name, an expired certificate.
And no setting turns verification off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proclient.core.settings import Paths, ServiceTable, Settings
from proclient.service.client import DEFAULT_TIMEOUT, DmpServiceClient
from proclient.service.errors import ServiceError

from .helpers import LE_GOFF


async def login_fails_with_tls(client: DmpServiceClient, credential) -> None:
    try:
        with pytest.raises(ServiceError) as refused:
            await client.login(credential)
        assert refused.value.code == "SERVICE_TLS"
        assert "certificat du service DMP" in refused.value.message
        assert not client.connected
    finally:
        await client.aclose()


async def test_service_signed_by_another_ca_is_refused(server, credential, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    await login_fails_with_tls(DmpServiceClient(server.base_url, verify=str(other)), credential)


async def test_certificate_for_another_host_name_is_refused(serve, tls, credential, tmp_path):
    running = serve(certificate=tls.issue(tmp_path, "dmp.autre-pharmacie.example"))
    await login_fails_with_tls(DmpServiceClient(running.base_url, verify=tls.context), credential)


async def test_expired_service_certificate_is_refused(serve, tls, credential, tmp_path):
    now = datetime.now(UTC)
    expired = tls.issue(
        tmp_path,
        "127.0.0.1",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    running = serve(certificate=expired)
    await login_fails_with_tls(DmpServiceClient(running.base_url, verify=tls.context), credential)


async def test_same_service_with_the_right_certificate_is_accepted(
    serve, tls, credential, tmp_path
):
    """The control for the three refusals above: only the certificate differs."""
    running = serve(certificate=tls.issue(tmp_path, "127.0.0.1"))
    client = DmpServiceClient(running.base_url, verify=tls.context)
    try:
        await client.login(credential)
        assert (await client.status(LE_GOFF.ins)).status == "not_found"
    finally:
        await client.aclose()


def test_verification_cannot_be_turned_off():
    import ssl

    with pytest.raises(ValueError):
        DmpServiceClient("https://127.0.0.1:1", verify=False)
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError):
        DmpServiceClient("https://127.0.0.1:1", verify=unverified)


def settings(tmp_path, url: str, ca: str | None = None) -> Settings:
    paths = Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")
    return Settings(paths=paths, service=ServiceTable(url=url, ca_bundle=ca))


async def test_client_from_settings_uses_the_ca_bundle(server, tls, credential, tmp_path):
    client = DmpServiceClient.from_settings(settings(tmp_path, server.base_url, str(tls.ca_bundle)))
    try:
        assert client._http.timeout == DEFAULT_TIMEOUT  # connect, read, write and pool set
        assert all(
            value
            for value in (
                DEFAULT_TIMEOUT.connect,
                DEFAULT_TIMEOUT.read,
                DEFAULT_TIMEOUT.write,
                DEFAULT_TIMEOUT.pool,
            )
        )
        assert (await client.login(credential)).id_nat == credential.professional.id_nat
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("url", "ca", "sentence"),
    [
        ("http://dmp.pharmacie.example:8443", None, "https://"),
        ("ftp://dmp.pharmacie.example", None, "https://"),
        ("https://127.0.0.1:8443", "/nonexistent/ca.pem", "service.ca_bundle"),
    ],
)
def test_bad_client_settings_are_one_french_sentence(tmp_path, url, ca, sentence):
    with pytest.raises(ServiceError) as refused:
        DmpServiceClient.from_settings(settings(tmp_path, url, ca))
    assert refused.value.code == "CONFIG"
    assert sentence in refused.value.message


async def test_plain_http_is_accepted_on_loopback_only(tmp_path):
    client = DmpServiceClient.from_settings(settings(tmp_path, "http://127.0.0.1:8080"))
    try:
        assert str(client._http.base_url) == "http://127.0.0.1:8080"
    finally:
        await client.aclose()


# --- the service's side: `proclient serve`'s TLS (server/limits.py) ------------------------


def tls12_client(tls, ciphers: str):
    """A TLS 1.2-only client trusting the test CA and offering only ``ciphers``."""
    import ssl

    context = ssl.create_default_context(cafile=str(tls.ca_bundle))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    return context


def handshake(port: int, context):
    """(TLS version, cipher) of a handshake with the service on ``port``."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            return sock.version(), sock.cipher()[0]


@pytest.fixture
def production(tmp_path, pki, tls):
    from .production_server import production_service

    with production_service(tmp_path / "dmp.sqlite3", pki.ca_pem, tls) as service:
        yield service


def test_the_service_refuses_a_tls12_client_offering_only_cbc_suites(production, tls):
    import ssl

    cbc = tls12_client(tls, "ECDHE+AES:!AESGCM:!AESCCM")  # AES-CBC with SHA-256/384 MACs
    offered = [c for c in cbc.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert offered and not any(c["aead"] for c in offered)
    with pytest.raises(ssl.SSLError):
        handshake(production.port, cbc)


@pytest.mark.parametrize("suites", ["ECDHE+AESGCM", "ECDHE+CHACHA20"])
def test_the_service_accepts_a_tls12_client_offering_aead_suites(production, tls, suites):
    version, cipher = handshake(production.port, tls12_client(tls, suites))
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher)


def test_the_service_prefers_tls13(production, tls):
    version, _cipher = handshake(production.port, tls.context)
    assert version == "TLSv1.3"
