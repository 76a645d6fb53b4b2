"""Rate limits that cannot be turned against a professional, and the purge of what
unauthenticated requests leave behind, on the real service (HTTPS, both databases).

A second client address is a second loopback address: the client socket is bound to
127.0.0.2 (Linux routes all of 127/8 to lo), so the service sees another TCP peer.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from proclient.credentials.software import SoftwareCredential, unlock_demo

OTHER_ADDRESS = "127.0.0.2"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@asynccontextmanager
async def http_from(server, tls, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTPS client of ``server`` whose connections come from ``address``."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=tls.context)
    async with httpx.AsyncClient(base_url=server.base_url, transport=transport) as http:
        yield http


async def attempt(
    http: httpx.AsyncClient,
    credential: SoftwareCredential,
    *,
    certificate: str | None = None,
    valid: bool = True,
) -> httpx.Response:
    """One login: a challenge, then the session request with ``certificate`` (the
    credential's PEM by default) and a valid signature or a wrong one."""
    challenge = await http.post("/v1/auth/challenge")
    assert challenge.status_code == 200, challenge.text
    nonce = base64.b64decode(challenge.json()["nonce"])
    signature = credential.sign(nonce if valid else b"not the nonce")
    return await http.post(
        "/v1/auth/session",
        json={
            "challenge_id": challenge.json()["challenge_id"],
            "certificate": certificate or credential.certificate_pem.decode(),
            "signature": base64.b64encode(signature).decode(),
        },
    )


def code(response: httpx.Response) -> str:
    return "OK" if response.status_code == 200 else response.json()["code"]


def assert_limited(response: httpx.Response, *, at_most: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "AUTH_RATE_LIMITED"
    assert 1 <= int(response.headers["Retry-After"]) <= at_most


# --- one certificate, however it is written ---------------------------------------------------


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _read_tlv(data: bytes, offset: int) -> tuple[int, int]:
    """(start of the content, end of the element) of the DER element at ``offset``."""
    first = data[offset + 1]
    if first < 0x80:
        return offset + 2, offset + 2 + first
    count = first & 0x7F
    size = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    return offset + 2 + count, offset + 2 + count + size


def resigned_form(pem: bytes) -> str:
    """The same certificate with its CA's ECDSA signature in its other valid form (s -> n-s):
    another DER, the same signed content, still verifying under the CA."""
    cert = x509.load_pem_x509_certificate(pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    content, _end = _read_tlv(der, 0)
    _tbs_content, tbs_end = _read_tlv(der, content)
    _alg_content, alg_end = _read_tlv(der, tbs_end)
    r, s = decode_dss_signature(cert.signature)
    assert isinstance(cert.signature_algorithm_parameters, ec.ECDSA)  # the demo CA: P-256
    signature = encode_dss_signature(r, P256_ORDER - s)
    other = _tlv(0x30, der[content:alg_end] + _tlv(0x03, b"\x00" + signature))
    assert other != der
    return x509.load_der_x509_certificate(other).public_bytes(serialization.Encoding.PEM).decode()


def pem_rewrites(pem: bytes) -> dict[str, str]:
    text = pem.decode()
    lines = text.strip().splitlines()
    body = "".join(lines[1:-1])
    return {
        "CRLF line ends": text.replace("\n", "\r\n"),
        "text before BEGIN": "Bag Attributes\n    friendlyName: CPS\n" + text,
        "one-line base64": f"{lines[0]}\n{body}\n{lines[-1]}\n",
        "trailing spaces": "".join(line + "   \n" for line in lines),
        "re-encoded CA signature": resigned_form(pem),
    }


async def test_rewritten_pems_of_one_certificate_share_its_limit(server, tls, pki):
    """Each rewrite is accepted as the professional's certificate; after five refusals with
    the original text, a refusal with any rewrite is 429 too (the limit counts the parsed
    certificate, not the text)."""
    pharmacist = unlock_demo(pki.default)
    rewrites = pem_rewrites(pharmacist.certificate_pem)
    async with http_from(server, tls) as http:
        for name, pem in rewrites.items():
            accepted = await attempt(http, pharmacist, certificate=pem)
            assert code(accepted) == "OK", name
        for _ in range(5):
            assert code(await attempt(http, pharmacist, valid=False)) == "AUTH_BAD_SIGNATURE"
        for name, pem in rewrites.items():
            refused = await attempt(http, pharmacist, certificate=pem, valid=False)
            assert refused.status_code == 429, (name, refused.text)
            assert_limited(refused)


# --- another address cannot lock a professional out -------------------------------------------


async def test_bad_signatures_from_another_address_do_not_stop_a_valid_login(server, tls, pki):
    pharmacist = unlock_demo(pki.default)
    async with http_from(server, tls, OTHER_ADDRESS) as attacker:
        for _ in range(5):
            assert code(await attempt(attacker, pharmacist, valid=False)) == "AUTH_BAD_SIGNATURE"
        assert_limited(await attempt(attacker, pharmacist, valid=False))

        async with http_from(server, tls) as own:
            for _ in range(3):
                session = await attempt(own, pharmacist)
                assert session.status_code == 200, session.text
                assert session.json()["professional"]["id_nat"] == "899700024450"
            # The professional's own refusals still say why: the pair is not over its limit.
            assert code(await attempt(own, pharmacist, valid=False)) == "AUTH_BAD_SIGNATURE"

        # Even from the limited address, a valid signature passes (server/auth.py: the limit
        # is against guessing, and a signature cannot be guessed); refusals stay 429.
        assert code(await attempt(attacker, pharmacist)) == "OK"
        assert_limited(await attempt(attacker, pharmacist, valid=False))


async def test_an_address_failing_with_many_certificates_is_limited(serve, tls, pki):
    """Twenty refusals from one address within a minute, with three certificates and
    unparsable ones (none over its own limit): every login from that address is then 429,
    valid or not, before its challenge is used; other addresses are not affected; a minute
    later the address may log in again."""
    server = serve(challenge_ttl=timedelta(minutes=5))
    credentials = [unlock_demo(professional) for professional in pki.professionals]
    async with http_from(server, tls, OTHER_ADDRESS) as attacker, http_from(server, tls) as own:
        for credential in credentials:
            for _ in range(5):
                refused = await attempt(attacker, credential, valid=False)
                assert code(refused) == "AUTH_BAD_SIGNATURE"
        for index in range(5):
            garbage = f"-----BEGIN CERTIFICATE-----\nnot a certificate {index}\n"
            assert code(await attempt(attacker, credentials[0], certificate=garbage)) == (
                "AUTH_CERT_INVALID"
            )

        blocked = await attempt(attacker, credentials[1])
        assert_limited(blocked)
        assert "adresse" in blocked.json()["detail"]
        assert_limited(await attempt(attacker, credentials[2], certificate="garbage"))
        for credential in credentials:
            assert code(await attempt(own, credential)) == "OK"

        # A blocked attempt does not use its challenge: it still works once allowed.
        challenge = (await attacker.post("/v1/auth/challenge")).json()
        signature = credentials[0].sign(base64.b64decode(challenge["nonce"]))
        body = {
            "challenge_id": challenge["challenge_id"],
            "certificate": credentials[0].certificate_pem.decode(),
            "signature": base64.b64encode(signature).decode(),
        }
        assert_limited(await attacker.post("/v1/auth/session", json=body))
        server.clock.advance(seconds=59)
        assert_limited(await attacker.post("/v1/auth/session", json=body), at_most=1)
        server.clock.advance(seconds=2)
        assert (await attacker.post("/v1/auth/session", json=body)).status_code == 200


# --- challenges -------------------------------------------------------------------------------


async def test_challenges_are_limited_per_address(server, tls):
    async with http_from(server, tls, OTHER_ADDRESS) as flood, http_from(server, tls) as own:
        for _ in range(30):
            assert (await flood.post("/v1/auth/challenge")).status_code == 200
        refused = await flood.post("/v1/auth/challenge")
        assert_limited(refused)
        assert refused.headers["Retry-After"] == "60"  # the clock stands still
        assert (await own.post("/v1/auth/challenge")).status_code == 200
        server.clock.advance(seconds=45)
        again = await flood.post("/v1/auth/challenge")
        assert_limited(again)
        assert again.headers["Retry-After"] == "15"
        server.clock.advance(seconds=16)
        assert (await flood.post("/v1/auth/challenge")).status_code == 200


def row_counts(server) -> dict[str, int]:
    with server.storage.read() as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("challenges", "sessions", "auth_failures")
        }


async def test_expired_challenges_sessions_and_old_failures_are_purged(serve, tls, pki):
    """Purged at most once per purge_interval, on the way of a challenge request."""
    server = serve(purge_interval=timedelta(minutes=10))
    pharmacist = unlock_demo(pki.default)
    async with http_from(server, tls) as own, http_from(server, tls, OTHER_ADDRESS) as other:
        assert code(await attempt(own, pharmacist)) == "OK"  # its challenge purges (nothing)
        for _ in range(2):
            assert code(await attempt(other, pharmacist, valid=False)) == "AUTH_BAD_SIGNATURE"
        for _ in range(28):
            assert (await other.post("/v1/auth/challenge")).status_code == 200
        async with http_from(server, tls, "127.0.0.3") as third:
            for _ in range(30):
                assert (await third.post("/v1/auth/challenge")).status_code == 200
        assert row_counts(server) == {"challenges": 61, "sessions": 1, "auth_failures": 2}

        server.clock.advance(minutes=2)  # everything above expired, but no purge is due
        assert (await own.post("/v1/auth/challenge")).status_code == 200
        assert row_counts(server) == {"challenges": 62, "sessions": 1, "auth_failures": 2}

        server.clock.advance(minutes=9)  # due: challenges and failures go, the session stays
        assert (await own.post("/v1/auth/challenge")).status_code == 200
        assert row_counts(server) == {"challenges": 1, "sessions": 1, "auth_failures": 0}

        server.clock.advance(minutes=10)  # the 15-minute session has expired too
        assert (await other.post("/v1/auth/challenge")).status_code == 200
        assert row_counts(server) == {"challenges": 1, "sessions": 0, "auth_failures": 0}
