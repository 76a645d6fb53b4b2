"""The DMP service client: the application's one way to the service, embedded or remote.

Async (httpx). Every failure becomes a ServiceError with a stable code and one French
sentence; no exception text carries the session token or a NIR (NIRs travel in bodies).
The session is renewed once, transparently, when it has expired and the credential is still
at hand; writes are then retried with the same Idempotency-Key, which makes that safe.

The login, the health check and the reads (INSi, the status) give up within ``login_budget``
seconds, whatever the network does (a port that accepts and never answers included). Writes'
transient failures are
retried within ``retry_budget`` seconds in all: a connection that
failed or dropped, and 503/429 answers (after their Retry-After). Never a 4xx refusal, never a
TLS failure. TLS verification is always on: no argument or setting turns it off.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from proclient.core.capture import CaptureProof
from proclient.core.domain import (
    Action,
    Authorization,
    BirthDate,
    DmpState,
    DmpStatus,
    Ins,
    Professional,
    Sex,
    WebAccess,
)
from proclient.core.identity import (
    CardQuery,
    InsiAnswer,
    InsiCode,
    InsiIdentity,
    InsiTraits,
    TraitsQuery,
)
from proclient.core.logsafe import log_unexpected
from proclient.core.netutil import is_loopback
from proclient.core.problems import (
    SERVICE_ERROR,
    SERVICE_TLS,
    SERVICE_TLS_REFUSED,
    SERVICE_UNAVAILABLE,
    problem_message,
)
from proclient.core.records import CreationRequest, CreationResult, WebCredentials
from proclient.credentials.base import Credential
from proclient.service.errors import ServiceError
from proclient.service.workstation import HEADER as WORKSTATION_HEADER

log = logging.getLogger("proclient.service")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
DEFAULT_RETRY_BUDGET = 20.0  # seconds, all attempts of one call together
# The login and the health check have their own, shorter budget: a professional waiting at
# the PIN screen must hear within seconds that the service cannot be reached. Writes keep
# theirs (a retry there may save a creation the service already committed).
LOGIN_BUDGET = 4.5  # seconds, the whole login (challenge, signature, session)
HEALTH_TIMEOUT = 3.0  # seconds, one health check
_RENEWABLE = frozenset({"AUTH_SESSION_EXPIRED", "AUTH_REQUIRED"})
# A prepared challenge the service no longer takes: the login fetches a new one.
_CHALLENGE_SPENT = frozenset(
    {"AUTH_CHALLENGE_EXPIRED", "AUTH_CHALLENGE_USED", "AUTH_CHALLENGE_UNKNOWN"}
)
# How long a challenge fetched before the PIN is used (the service's last 60 s).
PREPARED_CHALLENGE_SECONDS = 45.0
_RETRY_STATUSES = frozenset({429, 503})


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """The wait a 429/503 asks for (seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError somewhere in ``exc``'s chain (httpx wraps httpcore's, which wraps
    the ssl module's), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _error(code: str, status: int | None = None, fallback: str | None = None) -> ServiceError:
    message = problem_message(code) or fallback or problem_message(SERVICE_ERROR) or ""
    return ServiceError(code, message, status)


def _ins(ins: Ins) -> dict:
    return {"value": ins.value, "oid": ins.oid}


def creation_body(request: CreationRequest) -> dict:
    """The JSON body of TD1.1 / TD1.2 for ``request``: the patient as INSi gave them, and the
    identity's status with the document seen (``identity``; absent: récupérée, none)."""
    patient, consent = request.patient, request.consent
    rep, web = request.legal_representative, request.web_access
    check = request.identity
    identity = (
        {"status": check.status.value, "document": check.document.value}
        if check is not None and check.status is not None and check.document is not None
        else None
    )
    return {
        "identity": identity,
        "patient": {
            "ins": _ins(patient.ins),
            "last_name": patient.last_name,
            "first_name": patient.first_name,
            "birth_date": patient.birth_date.raw,
            "sex": patient.sex.value if patient.sex else None,
        },
        "consent": consent.fields(),
        "legal_representative": rep.fields() if rep else None,
        "web_access": {"email": web.email, "mobile": web.mobile} if web else None,
    }


def capture_body(proof: CaptureProof) -> dict:
    """The ``capture`` block of a creation whose consent was captured offline."""
    return {
        "record": base64.b64encode(proof.record).decode("ascii"),
        "signature": base64.b64encode(proof.signature).decode("ascii"),
        "certificate": proof.certificate_pem.decode("ascii"),
    }


def card_query_body(query: CardQuery) -> dict:
    return {
        "last_name": query.last_name,
        "first_name": query.first_name,
        "birth_date": query.birth_date.raw,
        "nir": query.nir,
        "rank": query.rank,
    }


def traits_query_body(query: TraitsQuery) -> dict:
    return {
        "birth_name": query.birth_name,
        "first_given_name": query.first_given_name,
        "sex": query.sex.value,
        "birth_date": query.birth_date.raw,
        "birthplace": query.birthplace,
    }


def insi_answer(data: dict, by_card: bool) -> InsiAnswer:
    """An INSi answer from its JSON (``/v1/insi/card``, ``/v1/insi/traits``)."""
    code = InsiCode(data["code"])
    found = data.get("identity") if code is InsiCode.FOUND else None
    identity = None
    if found is not None:
        traits = found["traits"]
        identity = InsiIdentity(
            ins=Ins(found["ins"]["value"], found["ins"]["oid"]),
            traits=InsiTraits(
                birth_name=traits["birth_name"],
                given_names=tuple(traits["given_names"]),
                sex=Sex(traits["sex"]),
                birth_date=BirthDate(traits["birth_date"]),
                birthplace=traits.get("birthplace"),
            ),
            history=tuple(Ins(old["value"], old["oid"]) for old in found.get("history", ())),
        )
    return InsiAnswer(code, identity, by_card=by_card)


def session_of(data: dict, status: int) -> tuple[str, Professional]:
    """The token and the professional of the service's session answer (CPS or e-CPS)."""
    try:
        token, card = data["token"], data["professional"]
        return token, Professional(
            id_nat=card["id_nat"],
            last_name=card["last_name"],
            first_name=card["first_name"],
            profession_code=card["profession_code"],
            structure=card.get("structure", ""),
        )
    except (KeyError, TypeError):
        raise _error(SERVICE_ERROR, status) from None


def _statement(value: object) -> str | None:
    """The answer's signed statement (the accusé's 2D code), kept as the service gave it:
    the workstation prints it, it does not check it (proclient verify does). One that is
    not a short ASCII text is dropped (the accusé then has no code), not the creation: the
    DMP exists, and a retry would replay the same answer."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or len(value) > 4000:
        log.warning("the service's statement is not a code: the accusé will carry none")
        return None
    return value


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
        retry_budget: float = DEFAULT_RETRY_BUDGET,
        login_budget: float = LOGIN_BUDGET,
        workstation: str | None = None,
    ) -> None:
        """``verify``: True (system CAs), an SSLContext, or the path of a CA bundle (PEM) that
        replaces the system's; False is refused. Ignored with ``transport``, which then
        decides. ``retry_budget``: seconds for all the attempts of one call; ``login_budget``:
        seconds for a whole login (and at most that for a health check). ``workstation``: this
        workstation's secret (proclient/service/workstation.py), sent with every request."""
        if verify is False or (
            isinstance(verify, ssl.SSLContext) and verify.verify_mode == ssl.CERT_NONE
        ):
            raise ValueError("TLS verification cannot be turned off")
        if isinstance(verify, str):
            # httpx 0.28 deprecates verify=<path>: build the context here.
            verify = ssl.create_default_context(cafile=verify)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            verify=verify,
            timeout=timeout,
            headers={"Accept": "application/json, application/problem+json"}
            | ({WORKSTATION_HEADER: workstation} if workstation else {}),
        )
        self._retry_budget = retry_budget
        self._login_budget = login_budget
        self._token: str | None = None
        self._credential: Credential | None = None
        self._prepared: tuple[float, str, bytes] | None = None  # (when, id, nonce)
        self.professional: Professional | None = None
        # Told before each retry (the path), so that the professional reads « nouvelle
        # tentative… » rather than a silent wait; never lets an error out of it.
        self.on_retry: Callable[[str], None] | None = None

    @classmethod
    def from_settings(cls, settings, **kwargs) -> DmpServiceClient:
        """A client of the service named in the workstation's settings ([service] url and
        ca_bundle). Plain http:// is accepted for a loopback address only."""
        url = settings.service.url or ""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ServiceError("CONFIG", problem_message("SERVICE_URL") or "", None)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ServiceError("CONFIG", problem_message("SERVICE_URL_HTTP") or "", None)
        verify: ssl.SSLContext | str | bool = True
        if settings.service.ca_bundle:
            try:
                verify = ssl.create_default_context(cafile=settings.service.ca_bundle)
            except (OSError, ssl.SSLError):
                raise ServiceError("CONFIG", problem_message("SERVICE_CA") or "", None) from None
        return cls(url, verify=verify, **kwargs)

    def forget_session(self) -> None:
        """Forget the session token and the credential kept for renewals: nothing more is sent
        or signed in that professional's name (the server lets the token expire)."""
        self._token = None
        self._credential = None
        self.professional = None

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

    async def _send_once(
        self,
        method: str,
        path: str,
        body: dict | None,
        headers: dict[str, str] | None,
        timeout: float | None = None,
    ) -> httpx.Response:
        extra = {} if timeout is None else {"timeout": httpx.Timeout(max(timeout, 0.05))}
        try:
            return await self._http.request(method, path, json=body, headers=headers, **extra)
        except httpx.TimeoutException:
            log.warning("DMP service timed out on %s", path)
            raise _error(SERVICE_UNAVAILABLE) from None
        except httpx.ConnectError as exc:
            tls = _ssl_error(exc)
            if tls is None and "CERTIFICATE_VERIFY_FAILED" in str(exc):
                tls = ssl.SSLCertVerificationError()
            if tls is None:
                log.warning("DMP service unreachable on %s (connect)", path)
                raise _error(SERVICE_UNAVAILABLE) from None
            # Not retried: the same handshake would fail the same way.
            if isinstance(tls, ssl.SSLCertVerificationError):
                log.warning("DMP service certificate refused on %s (TLS)", path)
                raise _error(SERVICE_TLS) from None
            log.warning("DMP service refused the TLS handshake on %s", path)
            raise _error(SERVICE_TLS_REFUSED) from None
        except httpx.TransportError as exc:
            log.warning("DMP service transport error on %s: %s", path, type(exc).__name__)
            raise _error(SERVICE_UNAVAILABLE) from None

    async def _send(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
        *,
        retry: bool = True,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send, retrying what may pass on a second try within the retry budget: failed or
        dropped connections, 503 and 429. Writes carry their Idempotency-Key, so a retry of
        a request the server did receive replays its answer instead of acting twice.
        ``deadline`` (time.monotonic): a hard end for every attempt, the wait for an answer
        included, instead of the retry budget."""
        bounded = deadline is not None
        if deadline is None:
            deadline = time.monotonic() + self._retry_budget
        delay = 0.25
        while True:
            timeout = deadline - time.monotonic() if bounded else None
            if timeout is not None and timeout <= 0:
                log.warning("DMP service: no answer on %s within the budget", path)
                raise _error(SERVICE_UNAVAILABLE)
            try:
                response = await self._send_once(method, path, body, headers, timeout)
            except ServiceError as error:
                if not retry or error.code != SERVICE_UNAVAILABLE:
                    raise
                failure: ServiceError | httpx.Response = error
                wait = delay
            else:
                if not retry or response.status_code not in _RETRY_STATUSES:
                    return response
                failure = response
                asked = retry_after(response)
                wait = delay if asked is None else asked
            if time.monotonic() + wait > deadline:
                if isinstance(failure, httpx.Response):
                    return failure
                raise failure
            log.info("DMP service busy or unreachable on %s: retry in %.2f s", path, wait)
            self._tell_retry(path)
            await asyncio.sleep(wait)
            delay = min(delay * 2, 4.0)

    def _tell_retry(self, path: str) -> None:
        if self.on_retry is None:
            return
        try:
            self.on_retry(path)
        except Exception:  # the screen may have gone: the retry goes on all the same
            log_unexpected(log, "on_retry failed")  # its type and frames, never its text

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

    async def _call(
        self, path: str, body: dict, *, key: str | None = None, expected: tuple[int, ...] = (200,)
    ) -> dict:
        """POST an authenticated request; renew an expired session once. A read (no
        ``key``: INSi, the status) gives up within the login budget, as the login does: the
        professional waits at the counter and asks again with F5; a write keeps the retry
        budget (a retry there may save a creation the service already committed)."""
        for attempt in (1, 2):
            if self._token is None:
                raise _error("AUTH_REQUIRED")
            headers = {"Authorization": f"Bearer {self._token}"}
            deadline = None
            if key is not None:
                headers["Idempotency-Key"] = key
            else:
                deadline = time.monotonic() + self._login_budget
            response = await self._send("POST", path, body, headers, deadline=deadline)
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
            deadline = time.monotonic() + min(HEALTH_TIMEOUT, self._login_budget)
            response = await self._send("GET", "/v1/health", retry=False, deadline=deadline)
        except ServiceError:
            return False
        return response.status_code == 200

    async def _challenge(self, deadline: float) -> tuple[str, bytes]:
        response = await self._send("POST", "/v1/auth/challenge", deadline=deadline)
        if response.status_code != 200:
            raise self._problem(response)
        challenge = self._json(response)
        try:
            return challenge["challenge_id"], base64.b64decode(challenge["nonce"], validate=True)
        except (KeyError, TypeError, ValueError):
            raise _error(SERVICE_ERROR, response.status_code) from None

    async def prepare_login(self) -> bool:
        """While the professional types the PIN: open the connection (TCP and TLS) and fetch
        the challenge, so that the login after Enter is one round trip (the session) instead
        of four. The challenge is kept ``PREPARED_CHALLENGE_SECONDS`` (the service's lasts 60
        s); True when one is ready. Failures are silent: the login asks again."""
        try:
            deadline = time.monotonic() + min(HEALTH_TIMEOUT, self._login_budget)
            challenge = await self._challenge(deadline)
        except ServiceError:
            self._prepared = None
            return False
        self._prepared = (time.monotonic(), *challenge)
        return True

    def _take_prepared(self) -> tuple[str, bytes] | None:
        prepared, self._prepared = self._prepared, None
        if prepared is None or time.monotonic() - prepared[0] > PREPARED_CHALLENGE_SECONDS:
            return None
        return prepared[1], prepared[2]

    async def login(self, credential: Credential) -> Professional:
        """Authenticate with ``credential`` (challenge, signature, session); with the
        challenge fetched by :meth:`prepare_login` while it is fresh."""
        self._token = None
        deadline = time.monotonic() + self._login_budget
        prepared = self._take_prepared()
        if prepared is not None:
            try:
                return await self._login_with(credential, *prepared, deadline)
            except ServiceError as error:
                if error.code not in _CHALLENGE_SPENT:
                    raise
                log.info("prepared challenge refused (%s): a new one", error.code)
        challenge_id, nonce = await self._challenge(deadline)
        return await self._login_with(credential, challenge_id, nonce, deadline)

    async def _login_with(
        self, credential: Credential, challenge_id: str, nonce: bytes, deadline: float
    ) -> Professional:
        # A card signature can take a second: keep the event loop (and the screen) free.
        signature = await asyncio.to_thread(credential.sign, nonce)
        # No retry: the challenge may have been used by the lost attempt; a 429 says to wait.
        response = await self._send(
            "POST",
            "/v1/auth/session",
            retry=False,
            deadline=deadline,
            body={
                "challenge_id": challenge_id,
                "certificate": credential.certificate_pem.decode("ascii"),
                "signature": base64.b64encode(signature).decode("ascii"),
            },
        )
        if response.status_code != 200:
            raise self._problem(response)
        session = self._json(response)
        token, professional = session_of(session, response.status_code)
        self._token, self._credential, self.professional = token, credential, professional
        return professional

    def adopt_session(self, token: str, professional: Professional) -> None:
        """A session opened another way (e-CPS: proclient/service/ecps.py); no credential to
        renew it with: when it ends, the professional signs in again."""
        self._token, self._credential, self.professional = token, None, professional

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

    async def _insi(self, path: str, body: dict, by_card: bool) -> InsiAnswer:
        data = await self._call(path, body)
        try:
            return insi_answer(data, by_card)
        except (KeyError, TypeError, ValueError):
            raise _error(SERVICE_ERROR) from None

    async def insi_by_card(self, query: CardQuery) -> InsiAnswer:
        """INSi look-up by the Carte Vitale's beneficiary: 00 (one identity), 01, 02."""
        return await self._insi("/v1/insi/card", card_query_body(query), True)

    async def insi_by_traits(self, query: TraitsQuery) -> InsiAnswer:
        """INSi look-up by traits (birth name, first given name, sex, birth date, birthplace)."""
        return await self._insi("/v1/insi/traits", traits_query_body(query), False)

    async def insi_verify(self, ins: Ins, traits: InsiTraits) -> bool:
        """INSi verification: is ``ins`` with these traits still the person's valid INS?"""
        body = {
            "ins": _ins(ins),
            "birth_name": traits.birth_name,
            "given_names": list(traits.given_names),
            "sex": traits.sex.value,
            "birth_date": traits.birth_date.raw,
        }
        data = await self._call("/v1/insi/verification", body)
        valid = data.get("valid")
        if not isinstance(valid, bool):
            raise _error(SERVICE_ERROR)
        return valid

    async def submit(
        self, request: CreationRequest, idempotency_key: str, proof: CaptureProof | None = None
    ) -> CreationResult:
        """TD1.1 creation or TD1.2 reactivation per ``request.action``, with the web access
        (TD1.5) in the same call when ``request.web_access`` is set. ``proof``: the consent
        was captured offline (proclient.core.capture), its signed record goes with the request."""
        path = "/v1/dmp" if request.action is Action.CREATION else "/v1/dmp/reactivation"
        body = creation_body(request)
        if proof is not None:
            body["capture"] = capture_body(proof)
        data = await self._call(path, body, key=idempotency_key, expected=(200, 201))
        try:
            return CreationResult(
                action=Action(data["action"]),
                dmp_id=data["dmp_id"],
                at=datetime.fromisoformat(data["created_at"]),
                web=_web_credentials(data.get("web_access")),
                statement=_statement(data.get("statement")),
            )
        except (KeyError, TypeError, ValueError):
            raise _error(SERVICE_ERROR) from None

    async def open_web_access(
        self, ins: Ins, web: WebAccess, idempotency_key: str
    ) -> WebCredentials:
        """TD1.5 on an existing DMP: the patient's login and initial password."""
        body = {"ins": _ins(ins), "email": web.email, "mobile": web.mobile}
        data = await self._call(
            "/v1/dmp/web-access", body, key=idempotency_key, expected=(200, 201)
        )
        credentials = _web_credentials(data)
        if credentials is None:
            raise _error(SERVICE_ERROR)
        return credentials

    async def reissue_password(self, ins: Ins, idempotency_key: str) -> WebCredentials:
        """A new initial password for the patient's existing web account (same login); the
        previous one is void. For a password that never reached the patient: an answer lost,
        then replayed without it. ``initial_password`` is None when this call's own answer
        was a replay (its first answer was lost too): ask again with a new key."""
        data = await self._call(
            "/v1/dmp/web-access/password",
            {"ins": _ins(ins)},
            key=idempotency_key,
            expected=(200, 201),
        )
        credentials = _web_credentials(data)
        if credentials is None:
            raise _error(SERVICE_ERROR)
        return credentials


__all__ = ["DmpServiceClient", "ServiceError", "creation_body"]
