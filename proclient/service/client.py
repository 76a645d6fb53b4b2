"""The DMP service client: the application's one way to the service, embedded or remote.

Async (httpx). Every failure becomes a ServiceError with a stable code and one French
sentence; no exception text carries the session token or a NIR (NIRs travel in bodies).
The session is renewed once, transparently, when it has expired and the credential is still
at hand; writes are then retried with the same Idempotency-Key, which makes that safe.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
from datetime import datetime

import httpx

from proclient.credentials.base import Credential
from proclient.domain import (
    Action,
    Authorization,
    CreationRequest,
    CreationResult,
    DmpState,
    DmpStatus,
    Ins,
    Professional,
    WebAccess,
    WebCredentials,
)
from proclient.service.errors import (
    SERVICE_ERROR,
    SERVICE_TLS,
    SERVICE_UNAVAILABLE,
    ServiceError,
    problem_message,
)

log = logging.getLogger("proclient.service")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
_RENEWABLE = frozenset({"AUTH_SESSION_EXPIRED", "AUTH_REQUIRED"})


def _error(code: str, status: int | None = None, fallback: str | None = None) -> ServiceError:
    message = problem_message(code) or fallback or problem_message(SERVICE_ERROR) or ""
    return ServiceError(code, message, status)


def _ins(ins: Ins) -> dict:
    return {"value": ins.value, "oid": ins.oid}


def creation_body(request: CreationRequest) -> dict:
    """The JSON body of TD1.1 / TD1.2 for ``request``."""
    patient, consent = request.patient, request.consent
    rep, web = request.legal_representative, request.web_access
    return {
        "patient": {
            "ins": _ins(patient.ins),
            "last_name": patient.last_name,
            "first_name": patient.first_name,
            "birth_date": patient.birth_date.raw,
            "sex": patient.sex.value if patient.sex else None,
        },
        "consent": {
            "creation": consent.creation,
            "samu_access": consent.samu_access,
            "break_glass_access": consent.break_glass_access,
        },
        "legal_representative": (
            {"relationship": rep.relationship.value, "last_name": rep.last_name,
             "first_name": rep.first_name}
            if rep else None
        ),
        "web_access": {"email": web.email, "mobile": web.mobile} if web else None,
    }


def _web_credentials(data: dict | None) -> WebCredentials | None:
    if not data:
        return None
    # A replayed answer carries no password: it was handed out with the first one.
    return WebCredentials(login=data["login"], initial_password=data.get("initial_password"))


class DmpServiceClient:
    """Talks to the DMP service at ``base_url`` (or through ``transport``, e.g. ASGI)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        """``verify``: True (system CAs), an SSLContext, or the path of a CA bundle (PEM) that
        replaces the system's. Ignored with ``transport``, which then decides."""
        if isinstance(verify, str):
            # httpx 0.28 deprecates verify=<path>: build the context here.
            verify = ssl.create_default_context(cafile=verify)
        self._http = httpx.AsyncClient(
            base_url=base_url, transport=transport, verify=verify, timeout=timeout,
            headers={"Accept": "application/json, application/problem+json"},
        )
        self._token: str | None = None
        self._credential: Credential | None = None
        self.professional: Professional | None = None

    async def __aenter__(self) -> DmpServiceClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._token = None
        self._credential = None
        await self._http.aclose()

    @property
    def connected(self) -> bool:
        return self._token is not None

    # --- transport --------------------------------------------------------------------------

    async def _send(self, method: str, path: str, body: dict | None = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            return await self._http.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException:
            log.warning("DMP service timed out on %s", path)
            raise _error(SERVICE_UNAVAILABLE) from None
        except httpx.ConnectError as exc:
            cause = exc.__cause__ or exc.__context__
            tls = isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc)
            log.warning("DMP service unreachable on %s (%s)", path, "TLS" if tls else "connect")
            raise _error(SERVICE_TLS if tls else SERVICE_UNAVAILABLE) from None
        except httpx.TransportError as exc:
            log.warning("DMP service transport error on %s: %s", path, type(exc).__name__)
            raise _error(SERVICE_UNAVAILABLE) from None

    @staticmethod
    def _problem(response: httpx.Response) -> ServiceError:
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            detail = data.get("detail") if isinstance(data.get("detail"), str) else None
            return _error(data["code"][:64], response.status_code, detail and detail[:300])
        log.warning("unexpected answer %s from the DMP service", response.status_code)
        code = SERVICE_UNAVAILABLE if response.status_code in (502, 503, 504) else SERVICE_ERROR
        return _error(code, response.status_code)

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _error(SERVICE_ERROR, response.status_code)
        return data

    async def _call(self, path: str, body: dict, *, key: str | None = None,
                    expected: tuple[int, ...] = (200,)) -> dict:
        """POST an authenticated request; renew an expired session once."""
        for attempt in (1, 2):
            if self._token is None:
                raise _error("AUTH_REQUIRED")
            headers = {"Authorization": f"Bearer {self._token}"}
            if key is not None:
                headers["Idempotency-Key"] = key
            response = await self._send("POST", path, body, headers)
            if response.status_code in expected:
                return self._json(response)
            error = self._problem(response)
            if attempt == 1 and error.code in _RENEWABLE and self._credential is not None:
                await self.login(self._credential)
                continue
            raise error
        raise AssertionError("unreachable")

    # --- the service's operations ------------------------------------------------------------

    async def health(self) -> bool:
        """True when the service answers its health check."""
        try:
            response = await self._send("GET", "/v1/health")
        except ServiceError:
            return False
        return response.status_code == 200

    async def login(self, credential: Credential) -> Professional:
        """Authenticate with ``credential`` (challenge, signature, session)."""
        self._token = None
        response = await self._send("POST", "/v1/auth/challenge")
        if response.status_code != 200:
            raise self._problem(response)
        challenge = self._json(response)
        try:
            nonce = base64.b64decode(challenge["nonce"], validate=True)
            challenge_id = challenge["challenge_id"]
        except (KeyError, TypeError, ValueError):
            raise _error(SERVICE_ERROR, response.status_code) from None
        # A card signature can take a second: keep the event loop (and the screen) free.
        signature = await asyncio.to_thread(credential.sign, nonce)
        response = await self._send("POST", "/v1/auth/session", {
            "challenge_id": challenge_id,
            "certificate": credential.certificate_pem.decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
        })
        if response.status_code != 200:
            raise self._problem(response)
        session = self._json(response)
        try:
            token, card = session["token"], session["professional"]
            professional = Professional(
                id_nat=card["id_nat"], last_name=card["last_name"],
                first_name=card["first_name"], profession_code=card["profession_code"],
                structure=card.get("structure", ""),
            )
        except (KeyError, TypeError):
            raise _error(SERVICE_ERROR, response.status_code) from None
        self._token, self._credential, self.professional = token, credential, professional
        return professional

    async def status(self, ins: Ins) -> DmpState:
        """TD0.2: the patient's DMP status, web access and this professional's authorisation."""
        data = await self._call("/v1/dmp/status", {"ins": _ins(ins)})
        try:
            return DmpState(
                status=DmpStatus(data["status"]),
                web_access=bool(data.get("web_access", False)),
                authorization=Authorization(data.get("authorization", "NON_EXISTE")),
            )
        except (KeyError, ValueError):
            raise _error(SERVICE_ERROR) from None

    async def submit(self, request: CreationRequest, idempotency_key: str) -> CreationResult:
        """TD1.1 creation or TD1.2 reactivation per ``request.action``, with the web access
        (TD1.5) in the same call when ``request.web_access`` is set."""
        path = "/v1/dmp" if request.action is Action.CREATION else "/v1/dmp/reactivation"
        data = await self._call(path, creation_body(request), key=idempotency_key,
                                expected=(200, 201))
        try:
            return CreationResult(
                action=Action(data["action"]),
                dmp_id=data["dmp_id"],
                at=datetime.fromisoformat(data["created_at"]),
                web=_web_credentials(data.get("web_access")),
            )
        except (KeyError, TypeError, ValueError):
            raise _error(SERVICE_ERROR) from None

    async def open_web_access(
        self, ins: Ins, web: WebAccess, idempotency_key: str
    ) -> WebCredentials:
        """TD1.5 on an existing DMP: the patient's login and initial password."""
        body = {"ins": _ins(ins), "email": web.email, "mobile": web.mobile}
        data = await self._call("/v1/dmp/web-access", body, key=idempotency_key,
                                expected=(200, 201))
        credentials = _web_credentials(data)
        if credentials is None:
            raise _error(SERVICE_ERROR)
        return credentials


__all__ = ["DmpServiceClient", "ServiceError", "creation_body"]
