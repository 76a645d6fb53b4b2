"""Professional authentication: challenge, signature by the card's key, session token.

The service sends a random nonce; the professional's credential signs it (RSA PKCS#1 v1.5,
SHA-256) and sends it back with its certificate. The certificate must come from a trusted
CA and be valid now; the challenge serves once and only for ``challenge_ttl``. The session
token is random, short-lived, bound to that professional, and kept only as a SHA-256.

Failed attempts are counted per certificate (its SHA-256, in the database so that every
worker sees them): past ``auth_failure_limit`` within ``auth_failure_window`` the service
answers 429 with Retry-After, before looking at the signature, so a stolen certificate cannot
be used to try keys or replay challenges at speed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import secrets
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, NoReturn

from cryptography import x509
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from proclient.domain import Professional
from proclient.server.pki import (
    CertificateRejected,
    check_professional_certificate,
    verify_signature,
)
from proclient.server.problems import Problem
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage

log = logging.getLogger("proclient.server")

bearer = HTTPBearer(auto_error=False, description="Jeton de session de /v1/auth/session")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Authenticator:
    def __init__(
        self, settings: ServerSettings, storage: Storage, trusted: list[x509.Certificate]
    ) -> None:
        self._settings = settings
        self._storage = storage
        self._trusted = trusted

    def new_challenge(self) -> dict:
        now = self._settings.clock()
        expires = now + self._settings.challenge_ttl
        challenge_id, nonce = secrets.token_urlsafe(18), secrets.token_bytes(32)
        self._storage.add_challenge(challenge_id, nonce, expires.timestamp(), now.timestamp())
        return {
            "challenge_id": challenge_id,
            "nonce": base64.b64encode(nonce).decode(),
            "expires_at": _iso(expires),
        }

    def open_session(self, challenge_id: str, certificate_pem: str, signature_b64: str) -> dict:
        now = self._settings.clock()
        fingerprint = hashlib.sha256(certificate_pem.strip().encode()).hexdigest()
        self._check_rate(fingerprint, now.timestamp())
        try:
            return self._open_session(now, challenge_id, certificate_pem, signature_b64)
        except Problem:
            self._storage.add_failure(fingerprint, now.timestamp())
            raise

    def _check_rate(self, fingerprint: str, now: float) -> None:
        window = self._settings.auth_failure_window.total_seconds()
        count, oldest = self._storage.count_failures(fingerprint, now - window)
        if count >= self._settings.auth_failure_limit and oldest is not None:
            wait = max(1, math.ceil(oldest + window - now))
            log.info("authentication refused: AUTH_RATE_LIMITED")
            raise Problem("AUTH_RATE_LIMITED", headers={"Retry-After": str(wait)})

    def _open_session(
        self, now: datetime, challenge_id: str, certificate_pem: str, signature_b64: str
    ) -> dict:
        consumed = self._storage.consume_challenge(challenge_id, now.timestamp())
        if isinstance(consumed, str):
            self._refuse(consumed)
        nonce, expires_at = consumed
        if now.timestamp() > expires_at:
            self._refuse("AUTH_CHALLENGE_EXPIRED")
        try:
            certificate, professional = check_professional_certificate(
                certificate_pem.encode(), self._trusted, now
            )
        except CertificateRejected as rejected:
            self._refuse(rejected.code)
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            self._refuse("AUTH_BAD_SIGNATURE")
        if not verify_signature(certificate, signature, nonce):
            self._refuse("AUTH_BAD_SIGNATURE")
        token = secrets.token_urlsafe(32)
        session_expires = now + self._settings.session_ttl
        card = asdict(professional)
        self._storage.add_session(
            _token_hash(token), professional.id_nat, card, session_expires.timestamp()
        )
        with self._storage.transaction() as conn:
            self._storage.audit(conn, _iso(now), professional.id_nat, "session")
        log.info("session opened for professional %s", professional.id_nat)
        return {"token": token, "expires_at": _iso(session_expires), "professional": card}

    def current_professional(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Professional:
        """FastAPI dependency: the professional bound to the request's bearer token."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Problem("AUTH_REQUIRED")
        found = self._storage.find_session(_token_hash(credentials.credentials))
        if found is None:
            raise Problem("AUTH_REQUIRED")
        card, expires_at = found
        if self._settings.clock().timestamp() > expires_at:
            raise Problem("AUTH_SESSION_EXPIRED")
        return Professional(**card)

    @staticmethod
    def _refuse(code: str) -> NoReturn:
        log.info("authentication refused: %s", code)
        raise Problem(code)
