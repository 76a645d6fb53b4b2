"""Professional authentication: challenge, signature by the card's key, session token.

The service sends a random nonce; the professional's credential signs it (RSA PKCS#1 v1.5,
SHA-256) and sends it back with its certificate. The certificate must come from a trusted
CA and be valid now; the challenge serves once and only for ``challenge_ttl``. The session
token is random, short-lived, bound to that professional, and kept only as a SHA-256.

Rate limits. A professional's certificate is public, so a limit keyed on the certificate
alone lets anyone lock a named professional out; every limit here includes the client's
address (the TCP peer, as the ASGI server reports it). Counters live in the database
(``auth_failures``, ``challenges``), so that every process on one database shares them.

- Failed authentications are counted per (certificate, address) pair and per address. The
  certificate is known by the SHA-256 of its signed part (the tbsCertificate, DER) after
  parsing the PEM: rewriting the PEM (line ends, text around it, line length, spaces)
  changes nothing, and neither does re-encoding the CA's signature (an ECDSA signature has
  two valid forms, so the whole certificate's DER does not name it uniquely). A certificate
  that cannot be parsed counts under the address only.
- Past ``auth_address_failure_limit`` failures from an address within the window, every
  attempt from it is answered 429 with Retry-After before anything else: its challenge is
  not consumed and nothing is verified. This bounds the work anyone can make the service do.
- Past ``auth_failure_limit`` failures for a (certificate, address) pair, a **valid**
  signature still opens the session; a refused attempt is answered 429 with Retry-After
  instead of the 401 naming the reason. Choice: the limit exists against guessing, and a
  signature by the card's key cannot be guessed, so refusing a valid one would protect
  nothing and would only let whoever shares the professional's address (a NAT, a shared
  network) lock them out. What must not happen is a challenge used twice or challenges
  without end: every attempt consumes its challenge before anything is checked, challenges
  are limited per address (``challenge_limit`` within ``challenge_window``), and the
  per-address failure limit above is hard. Failures from another address never count
  against a pair, so bad signatures from address A never make address B's login fail.
- The address is stored as is (an IP address is not health data): it stays only for the
  failure window (``auth_failures``) or until the challenge expires (``challenges``).
  Behind a reverse proxy every client has the proxy's address, unless the ASGI server is
  told to trust the proxy's forwarding headers.

Every authenticated route checks its session in server/ecps_sessions.py (CPS sessions as
opened here, e-CPS sessions with their workstation and lifetimes).

Purge: expired challenges, expired sessions, failures older than the window and INSi answers
older than ``insi_answer_ttl`` (server/insi.py) are deleted
at most once per ``purge_interval`` per process, on the way of a challenge request (the
unauthenticated route that creates rows). Deleting is idempotent, so several processes
purging on their own schedule agree.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import secrets
import threading
from dataclasses import asdict
from datetime import datetime
from typing import NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import Request
from fastapi.security import HTTPBearer

from proclient.core.i18n import _
from proclient.server.auth_store import sha256
from proclient.server.pki import (
    CertificateRejected,
    check_professional_signature,
)
from proclient.server.problems import Problem
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage

log = logging.getLogger("proclient.server")

bearer = HTTPBearer(auto_error=False, description="Jeton de session de /v1/auth/session")

UNPARSABLE = ""  # the fingerprint recorded for a certificate that could not be parsed


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def parse_certificate(pem: str) -> x509.Certificate | None:
    """The first certificate of a PEM text, or None when there is none to parse."""
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:  # UnicodeEncodeError (a lone surrogate) included
        return None


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """The rate limits' name for a certificate: SHA-256 of the part its CA signed."""
    return hashlib.sha256(certificate.tbs_certificate_bytes).hexdigest()


def client_address(request: Request) -> str:
    """The TCP peer's address, which the rate limits count by (CPS and e-CPS)."""
    return request.client.host if request.client else "unknown"


def rate_limited(wait: float, detail: str | None = None) -> Problem:
    """429 AUTH_RATE_LIMITED with ``detail`` and a Retry-After of ``wait`` seconds (at least
    one), for the CPS and e-CPS limits alike."""
    log.info("authentication refused: AUTH_RATE_LIMITED")
    seconds = max(1, math.ceil(wait))
    return Problem("AUTH_RATE_LIMITED", detail=detail, headers={"Retry-After": str(seconds)})


class Authenticator:
    def __init__(
        self, settings: ServerSettings, storage: Storage, trusted: list[x509.Certificate]
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._trusted = trusted
        self._purge_lock = threading.Lock()
        self._next_purge: float | None = None

    def new_challenge(self, address: str) -> dict:
        now = self._settings.clock()
        self.purge_if_due(now.timestamp())
        expires = now + self._settings.challenge_ttl
        window = self._settings.challenge_window.total_seconds()
        challenge_id, nonce = secrets.token_urlsafe(18), secrets.token_bytes(32)
        blocking = self._storage.auth.add_challenge(
            challenge_id,
            nonce,
            expires.timestamp(),
            now.timestamp(),
            address,
            now.timestamp() - window,
            self._settings.challenge_limit,
        )
        if blocking is not None:
            raise rate_limited(
                blocking + window - now.timestamp(),
                _(
                    "Trop de demandes de connexion depuis cette adresse : attendez une minute "
                    "avant de réessayer."
                ),
            )
        return {
            "challenge_id": challenge_id,
            "nonce": base64.b64encode(nonce).decode(),
            "expires_at": _iso(expires),
        }

    def purge_if_due(self, now: float) -> None:
        """Purge when ``purge_interval`` has passed since this process last did (one thread
        at a time; the others go on without waiting)."""
        if self._next_purge is not None and now < self._next_purge:
            return
        if not self._purge_lock.acquire(blocking=False):
            return
        try:
            if self._next_purge is not None and now < self._next_purge:
                return
            self._next_purge = now + self._settings.purge_interval.total_seconds()
            deleted = self._storage.auth.purge(
                now,
                self._settings.auth_failure_window.total_seconds(),
                self._settings.challenge_window.total_seconds(),
                self._settings.insi_answer_ttl.total_seconds(),
            )
            log.debug("purged %s", deleted)
        finally:
            self._purge_lock.release()

    def open_session(
        self, challenge_id: str, certificate_pem: str, signature_b64: str, address: str
    ) -> dict:
        now = self._settings.clock()
        at = now.timestamp()
        window = self._settings.auth_failure_window.total_seconds()
        blocking = self._storage.auth.nth_recent_failure(
            address, None, at - window, self._settings.auth_address_failure_limit
        )
        if blocking is not None:
            raise rate_limited(
                blocking + window - at,
                _(
                    "Trop de connexions refusées depuis cette adresse : attendez une minute "
                    "avant de réessayer."
                ),
            )
        certificate = parse_certificate(certificate_pem)
        fingerprint = certificate_fingerprint(certificate) if certificate else UNPARSABLE
        limit = self._settings.auth_failure_limit
        over_limit = certificate is not None and (
            self._storage.auth.nth_recent_failure(address, fingerprint, at - window, limit)
            is not None
        )
        try:
            return self._open_session(now, challenge_id, certificate, signature_b64)
        except Problem:
            self._storage.auth.add_failure(fingerprint, address, at)
            if not over_limit:
                raise
        # Over the limit for this certificate from this address, and refused again.
        oldest = self._storage.auth.nth_recent_failure(address, fingerprint, at - window, limit)
        raise rate_limited(oldest + window - at if oldest is not None else 1) from None

    def _open_session(
        self,
        now: datetime,
        challenge_id: str,
        certificate: x509.Certificate | None,
        signature_b64: str,
    ) -> dict:
        # The challenge first: every attempt, even a refused one, uses one up.
        consumed = self._storage.auth.consume_challenge(challenge_id, now.timestamp())
        if isinstance(consumed, str):
            self._refuse(consumed)
        nonce, expires_at = consumed
        if now.timestamp() > expires_at:
            self._refuse("AUTH_CHALLENGE_EXPIRED")
        if certificate is None:
            self._refuse("AUTH_CERT_INVALID")
        try:
            professional = check_professional_signature(
                certificate.public_bytes(serialization.Encoding.PEM),
                signature_b64,
                nonce,
                self._trusted,
                now,
            )
        except CertificateRejected as rejected:
            self._refuse(rejected.code)
        token = secrets.token_urlsafe(32)
        session_expires = now + self._settings.session_ttl
        card = asdict(professional)
        self._storage.auth.add_session(
            sha256(token), professional.id_nat, card, session_expires.timestamp()
        )
        with self._storage.transaction() as conn:
            self._storage.audit(conn, _iso(now), professional.id_nat, "session")
        log.info("session opened for professional %s", professional.id_nat)
        return {"token": token, "expires_at": _iso(session_expires), "professional": card}

    @staticmethod
    def _refuse(code: str) -> NoReturn:
        log.info("authentication refused: %s", code)
        raise Problem(code)
