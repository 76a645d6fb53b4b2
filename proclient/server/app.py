"""The DMP service as an ASGI app: JSON over HTTPS, mirroring the DMPi transactions.

Routes are plain ``def`` functions: FastAPI runs them in its thread pool, where the database
and scrypt may block without stalling the event loop. The schema is created (or upgraded)
here, at app creation, not in a lifespan handler (httpx's ASGITransport does not run
lifespans); the lifespan only closes the database at shutdown.
NIRs travel in request bodies only, never in URLs, which end up in access logs.
"""

# No "from __future__ import annotations": FastAPI must see the local Annotated aliases.
import asyncio
import contextlib
import json
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from proclient.core.domain import Action
from proclient.core.logsafe import log_unexpected
from proclient.server.auth import Authenticator, client_address
from proclient.server.draining import Drain, DrainGate, take_over_sigterm
from proclient.server.ecps import EcpsSignIn
from proclient.server.ecps_routes import install_ecps_routes
from proclient.server.ecps_sessions import Caller, Sessions
from proclient.server.ecps_store import SEAL_PURPOSE, EcpsStore
from proclient.server.journal import Journal, keep_sealed
from proclient.server.metrics import RequestMetrics, dmp_written, insi_answered
from proclient.server.operations import DmpOperations, Outcome
from proclient.server.pki import load_certificates
from proclient.server.problems import Problem, install_problem_handlers
from proclient.server.psc import PscClient
from proclient.server.request_limits import RequestLimits
from proclient.server.schemas import (
    ChallengeOut,
    CreationIn,
    CreationOut,
    HealthOut,
    InsiAnswerOut,
    InsiCardIn,
    InsiTraitsIn,
    InsiVerificationIn,
    InsiVerificationOut,
    ReadyOut,
    SessionIn,
    SessionOut,
    StatusIn,
    StatusOut,
    WebAccessReissueIn,
    WebAccessRequestIn,
    WebCredentialsOut,
    WebReissueOut,
)
from proclient.server.schemas import Problem as ProblemOut
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"

_PROBLEMS = {
    status: {"model": ProblemOut, "content": {"application/problem+json": {}}}
    for status in (400, 401, 404, 409, 422, 429)
}

# INSi: reads that refuse only the session and the request's content.
_INSI_PROBLEMS = {status: _PROBLEMS[status] for status in (401, 422)}

# Web access and its password: a professional authorised on the DMP only.
_AUTHORIZED_PROBLEMS = {
    **_PROBLEMS,
    403: {"model": ProblemOut, "content": {"application/problem+json": {}}},
}


async def _idempotency_key(
    key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="une clé par opération"),
    ] = None,
) -> str:
    if not key or not key.strip():
        raise Problem("IDEMPOTENCY_KEY_REQUIRED")
    if not (key.isascii() and key.isprintable()):
        raise Problem("VALIDATION", status=422)
    return key.strip()


def _document_idempotency_key(app: FastAPI) -> None:
    """Say in the OpenAPI document that writes require Idempotency-Key. The dependency itself
    accepts its absence so that the refusal is our 400 IDEMPOTENCY_KEY_REQUIRED problem, not
    a generic validation error."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = generate()
            for item in document.get("paths", {}).values():
                for operation in item.values():
                    for parameter in operation.get("parameters", []):
                        if parameter.get("name") == "Idempotency-Key":
                            parameter["required"] = True
                            parameter["schema"] = {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 200,
                            }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _answer(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


def create_app(settings: ServerSettings) -> FastAPI:
    """The service over ``settings.database``; the schema exists when this returns."""
    trusted = load_certificates(settings.trusted_ca_pem)
    if not trusted:
        raise ValueError("no trusted CA certificate")
    # Before the database is opened: a client certificate that does not load leaves nothing.
    psc = PscClient(settings.psc) if settings.psc is not None else None
    storage = Storage(settings.database, settings.pseudonym_secret)
    storage.journal = Journal(
        settings.document_signer,
        settings.audit_head_interval,
        head_max_age=settings.audit_head_max_age.total_seconds(),
    )
    try:
        storage.initialize()
    except BaseException:
        storage.close()
        raise
    auth = Authenticator(settings, storage, trusted)
    operations = DmpOperations(settings, storage, trusted)
    ecps_store = EcpsStore(storage.db, storage.derived_key(SEAL_PURPOSE))
    sessions = Sessions(settings, storage, ecps_store, psc)
    signin = EcpsSignIn(settings, storage, ecps_store, psc, sessions, auth.purge_if_due)

    drain = Drain(settings.drain_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        sealer = asyncio.create_task(keep_sealed(storage.journal, storage.db))
        give_back_sigterm = take_over_sigterm(drain)
        yield
        give_back_sigterm()
        sealer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sealer
        try:
            storage.journal.seal(storage.db)  # the last lines chained…
            storage.journal.sign_head(storage.db)  # …and the journal's head signed at shutdown
        except Exception:
            log_unexpected(log, "audit journal: not sealed or head not signed at shutdown")
        storage.close()
        if psc is not None:
            psc.close()

    app = FastAPI(
        lifespan=lifespan,
        title="proclient - service DMP",
        version=API_VERSION,
        description="Création, réactivation et accès en ligne du DMP (transactions TD0.2, "
        "TD1.1, TD1.2 et TD1.5 du DMPi), et recherche de l'INS par l'INSi (par la carte "
        "Vitale, par les traits, vérification), en JSON. La création et la réactivation "
        "demandent une réponse de l'INSi de moins d'une heure au même professionnel pour cet "
        "INS, et les traits de l'INSi.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.add_middleware(RequestLimits, limits=settings.limits)  # body size, JSON shape
    app.add_middleware(DrainGate, drain=drain)  # SIGTERM turns new requests away (draining.py)
    app.add_middleware(RequestMetrics)  # outermost, the drain's 503s counted (metrics.py)
    _document_idempotency_key(app)
    app.state.settings = settings
    app.state.drain = drain
    app.state.storage = storage
    app.state.psc = psc
    app.state.ecps_store = ecps_store

    # Checked for shape only; each route looks the session up first, in its own thread
    # (server/ecps_sessions.py: one thread-pool hop per request, not two).
    Authenticated = Annotated[Caller, Depends(sessions.caller)]
    Key = Annotated[str, Depends(_idempotency_key)]

    @app.get("/v1/health", response_model=HealthOut, tags=["service"])
    def health() -> dict:
        """Liveness: the process answers (nothing else is asked)."""
        return {"status": "ok", "mode": settings.mode}

    @app.get(
        "/v1/ready",
        response_model=ReadyOut,
        responses={
            503: {
                "model": ReadyOut,
                "description": "Pas prêt : base injoignable ou "
                "migrations non faites ; Retry-After.",
            }
        },
        tags=["service"],
    )
    def ready() -> JSONResponse:
        """Readiness, for a load balancer's health check: the database answers and its schema
        is this release's. 503 with Retry-After otherwise."""
        if storage.db.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not_ready"}, status_code=503, headers={"Retry-After": "5"})

    @app.post(
        "/v1/auth/challenge",
        response_model=ChallengeOut,
        responses={429: _PROBLEMS[429]},
        tags=["authentification"],
    )
    def challenge(request: Request) -> dict:
        """A random nonce for the professional's card to sign."""
        return auth.new_challenge(client_address(request))

    @app.post(
        "/v1/auth/session",
        response_model=SessionOut,
        responses=_PROBLEMS,
        tags=["authentification"],
    )
    def session(body: SessionIn, request: Request) -> dict:
        """A session token for the certificate's professional, once the signature checks."""
        return auth.open_session(
            body.challenge_id, body.certificate, body.signature, client_address(request)
        )

    install_ecps_routes(app, signin, sessions)

    @app.post(
        "/v1/insi/card", response_model=InsiAnswerOut, responses=_INSI_PROBLEMS, tags=["INSi"]
    )
    def insi_card(body: InsiCardIn, caller: Authenticated) -> JSONResponse:
        """INSi look-up by the Carte Vitale's beneficiary: 00 one identity (active INS, its
        history, INSi's reference traits), 01 none, 02 several."""
        pro = sessions.professional(caller)
        answer = operations.insi.by_card(pro, body)
        insi_answered("card", answer["code"])
        return JSONResponse(answer)  # the response model's shape: not validated again

    @app.post(
        "/v1/insi/traits", response_model=InsiAnswerOut, responses=_INSI_PROBLEMS, tags=["INSi"]
    )
    def insi_traits(body: InsiTraitsIn, caller: Authenticated) -> JSONResponse:
        """INSi look-up by traits (birth name, first given name, sex, birth date, optionally
        the birthplace's INSEE code): 00, 01 or 02."""
        pro = sessions.professional(caller)
        answer = operations.insi.by_traits(pro, body)
        insi_answered("traits", answer["code"])
        return JSONResponse(answer)  # the response model's shape: not validated again

    @app.post(
        "/v1/insi/verification",
        response_model=InsiVerificationOut,
        responses=_INSI_PROBLEMS,
        tags=["INSi"],
    )
    def insi_verification(body: InsiVerificationIn, caller: Authenticated) -> JSONResponse:
        """INSi verification: is this INS, with these traits, the person's valid INS?"""
        pro = sessions.professional(caller)
        answer = operations.insi.verify(pro, body)
        insi_answered("verification", answer["valid"])
        return JSONResponse(answer)  # the response model's shape: not validated again

    @app.post("/v1/dmp/status", response_model=StatusOut, responses=_PROBLEMS, tags=["DMP"])
    def status(body: StatusIn, caller: Authenticated) -> JSONResponse:
        """TD0.2: existence of the DMP, web access, this professional's authorisation."""
        pro = sessions.professional(caller)
        return JSONResponse(operations.status(pro, body))

    @app.post(
        "/v1/dmp",
        status_code=201,
        response_model=CreationOut,
        responses=_PROBLEMS,
        tags=["DMP"],
    )
    def create(body: CreationIn, caller: Authenticated, key: Key) -> JSONResponse:
        """TD1.1: create the DMP (and the web account when asked), for an INS that INSi gave
        this professional within the hour (422 INSI_REQUIRED otherwise), with INSi's traits
        (422 INSI_TRAITS_MISMATCH otherwise). With ``capture``, a creation recorded offline:
        the consent record signed at the patient's by the session's professional, checked
        (422 CAPTURE_INVALID, CONSENT_STALE, CAPTURE_MISMATCH; CAPTURE_WEB_ACCESS with
        web_access) and stored with the time the consent was given."""
        pro = sessions.professional(caller)
        outcome = operations.write_dmp(pro, key, body, Action.CREATION)
        dmp_written("creation", outcome.status_code, outcome.replayed, offline=bool(body.capture))
        return _answer(outcome)

    @app.post("/v1/dmp/reactivation", response_model=CreationOut, responses=_PROBLEMS, tags=["DMP"])
    def reactivate(body: CreationIn, caller: Authenticated, key: Key) -> JSONResponse:
        """TD1.2: reactivate a closed DMP, with the consent given again; the same INSi rule
        as the creation."""
        pro = sessions.professional(caller)
        outcome = operations.write_dmp(pro, key, body, Action.REACTIVATION)
        dmp_written(
            "reactivation", outcome.status_code, outcome.replayed, offline=bool(body.capture)
        )
        return _answer(outcome)

    @app.post(
        "/v1/dmp/web-access",
        status_code=201,
        response_model=WebCredentialsOut,
        responses=_AUTHORIZED_PROBLEMS,
        tags=["DMP"],
    )
    def web_access(body: WebAccessRequestIn, caller: Authenticated, key: Key) -> JSONResponse:
        """TD1.5: open the patient's web access on an active DMP (a professional authorised
        on the DMP only: 403 DMP_NOT_AUTHORIZED otherwise)."""
        pro = sessions.professional(caller)
        outcome = operations.open_web_access(pro, key, body)
        dmp_written("web_access", outcome.status_code, outcome.replayed)
        return _answer(outcome)

    @app.post(
        "/v1/dmp/web-access/password",
        status_code=201,
        response_model=WebReissueOut,
        responses=_AUTHORIZED_PROBLEMS,
        tags=["DMP"],
    )
    def reissue_password(body: WebAccessReissueIn, caller: Authenticated, key: Key) -> JSONResponse:
        """A new initial password for the patient's web account (same login) when the first
        one never reached the patient, e.g. its answer was lost and the replay carries none.
        The old password is void from then on; the new one is handed out once (a replay of
        the same Idempotency-Key carries none). Only a professional authorised on the DMP
        (403 DMP_NOT_AUTHORIZED), on an active DMP with a web account (404
        DMPPatientAccessNotFound). The answer carries the service's signed statement of the
        reissue, as the creation's does."""
        pro = sessions.professional(caller)
        outcome = operations.reissue_password(pro, key, body)
        dmp_written("password_reissue", outcome.status_code, outcome.replayed)
        return _answer(outcome)

    return app


def openapi_document() -> dict:
    """The service's OpenAPI document (what docs/openapi.json keeps), from a throw-away app."""
    from proclient.server.pki import create_ca

    with tempfile.TemporaryDirectory() as tmp:
        ca = create_ca("openapi")
        settings = ServerSettings(
            database=Path(tmp) / "openapi.sqlite3", trusted_ca_pem=ca.certificate_pem
        )
        app = create_app(settings)
        try:
            return app.openapi()
        finally:
            app.state.storage.close()


def openapi_json() -> str:
    """:func:`openapi_document` as stable, readable JSON text."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
