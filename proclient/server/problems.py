"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``code``.

Every refusal leaves through here, in French, and never echoes what the client sent: a
request body may carry a NIR and a name. The codes' sentences are :mod:`proclient.core.problems`,
shared with the client; their HTTP statuses are here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.problems import problem_message

log = logging.getLogger("proclient.server")

PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS = {
    "AUTH_REQUIRED": 401,
    "AUTH_SESSION_EXPIRED": 401,
    "AUTH_CERT_UNTRUSTED": 401,
    "AUTH_CERT_EXPIRED": 401,
    "AUTH_CERT_INVALID": 401,
    "AUTH_BAD_SIGNATURE": 401,
    "AUTH_CHALLENGE_EXPIRED": 401,
    "AUTH_CHALLENGE_USED": 401,
    "AUTH_CHALLENGE_UNKNOWN": 401,
    "DMPFound": 409,
    "DMPClosed": 409,
    "DMPPatientAccessAlreadyExists": 409,
    "DMPNotFound": 404,
    "DMPPatientAccessNotFound": 404,
    "DMP_NOT_AUTHORIZED": 403,
    "IDEMPOTENCY_KEY_REQUIRED": 400,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "IDEMPOTENCY_IN_PROGRESS": 409,
    "AUTH_RATE_LIMITED": 429,
    # e-CPS through Pro Santé Connect (server/ecps.py, server/ecps_sessions.py)
    "AUTH_WORKSTATION_MISMATCH": 401,
    "ECPS_UNKNOWN_PROFESSIONAL": 404,
    "ECPS_UNAVAILABLE": 503,
    "ECPS_NOT_CONFIGURED": 501,
    "ECPS_REFUSED": 403,
    "ECPS_EXPIRED": 410,
    "ECPS_CANCELLED": 410,
    "ECPS_REQUEST_UNKNOWN": 404,
    "ECPS_REQUEST_USED": 409,
    "ECPS_TOKEN_INVALID": 502,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "INTERNAL": 500,
    "REQUEST_TOO_LARGE": 413,
    "REQUEST_TOO_COMPLEX": 422,
    "REQUEST_TIMEOUT": 408,
    "SERVICE_BUSY": 503,
    # Identity and contact rules (proclient.core.domain), the same on the client
    "INS_OID_UNKNOWN": 422,
    "INS_TEST_ON_PRODUCTION": 422,
    "INS_REAL_ON_TEST": 422,
    "NIR_FORMAT": 422,
    "NIR_KEY": 422,
    "NAME_CHARSET": 422,
    "RELATIONSHIP": 422,
    "REPRESENTATIVE_NAME": 422,
    "EMAIL": 422,
    "MOBILE": 422,
    "MOBILE_NOT_MOBILE": 422,
    "MISSING_CHANNEL": 422,
    "PATIENT_MINOR": 422,
    "CONSENT_MISSING": 422,
    # Identity vigilance (proclient.core.identity): the creation gate and INSi's inputs. The
    # client's own codes (INSI_NONE*, INSI_SEVERAL, INSI_MISSING, DOCUMENT_MISSING,
    # TRAITS_INCOMPLETE) are never sent by the service: 422 should one ever be.
    "INSI_REQUIRED": 422,
    "INSI_TRAITS_MISMATCH": 422,
    "IDENTITY_STATUS": 422,
    "DOCUMENT_MINORS_ONLY": 422,
    "DOCUMENT_MISSING": 422,
    "INSI_MISSING": 422,
    "INSI_NONE_CARD": 422,
    "INSI_NONE": 422,
    "INSI_SEVERAL": 422,
    "TRAITS_INCOMPLETE": 422,
    "BIRTHPLACE": 422,
    # Creations captured offline (proclient.core.capture, server/offline.py)
    "CAPTURE_INVALID": 422,
    "CAPTURE_MISMATCH": 422,
    "CONSENT_STALE": 422,
    "CAPTURE_WEB_ACCESS": 422,
}


def _title(status: int) -> str:
    return {
        400: _("Demande incomplète"),
        401: _("Authentification refusée"),
        403: _("Action non autorisée sur ce DMP"),
        404: _("Introuvable"),
        405: _("Opération inconnue"),
        409: _("Conflit avec l'état du DMP"),
        422: _("Demande refusée"),
        429: _("Trop de tentatives"),
        408: _("Demande trop lente"),
        410: _("Demande terminée"),
        501: _("Opération non proposée par ce service"),
        502: _("Réponse de Pro Santé Connect refusée"),
        413: _("Demande trop volumineuse"),
        431: _("Demande trop volumineuse"),
        503: _("Service occupé"),
    }.get(status, _("Erreur du service DMP"))


class Problem(Exception):
    """A refusal with a stable code; the HTTP status and French text follow from the code
    (domain codes such as NIR_KEY default to 422 and carry their own sentence)."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.headers = headers or {}
        self.status = status or STATUS.get(code, 422)
        self.detail = detail or problem_message(code) or _title(self.status)

    @classmethod
    def from_domain(cls, error: DomainError) -> Problem:
        return cls(error.code, error.message)


def problem_response(problem: Problem) -> JSONResponse:
    headers = dict(problem.headers)
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        {
            "type": f"urn:proclient:problem:{problem.code}",
            "title": _title(problem.status),
            "status": problem.status,
            "detail": problem.detail,
            "code": problem.code,
        },
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


# A validation answer names at most this many fields: the body stays a few hundred bytes
# whatever the request held (server/limits.py bounds the request itself).
NAMED_FIELDS = 3
# A field of the schema (``patient``, ``idempotency-key``) or a list index; anything else (a
# 15-digit NIR, a name) is not quoted.
_FIELD_PART = re.compile(r"[a-z_][a-z0-9_-]{0,39}|[0-9]{1,4}")


def _field_name(loc: Sequence[object]) -> str | None:
    """``patient.ins.value`` for a field of the schema; None when a part is not a plain
    field name (a key the client made up could be a NIR or a name)."""
    parts = [str(part) for part in loc[1:]]  # loc[0] is "body", "header"...
    if loc and loc[0] == "header":  # header names know no case: Proclient-Workstation
        parts = [part.lower() for part in parts]
    if not parts or not all(_FIELD_PART.fullmatch(part) for part in parts):
        return None
    return ".".join(parts)


def validation_problem(errors: Sequence[Mapping[str, object]]) -> Problem:
    """One VALIDATION problem for pydantic's ``errors``: the fields of the schema at fault (at
    most :data:`NAMED_FIELDS`, then how many more), never a value, never a key the schema
    does not have (those are counted as unknown fields)."""
    named: set[str] = set()
    unknown = 0
    for error in errors:
        kind = error.get("type")
        if kind == "json_invalid":
            continue
        if kind == "extra_forbidden":
            unknown += 1
            continue
        loc = error.get("loc", ())
        name = _field_name(loc) if isinstance(loc, (tuple, list)) else None
        if name is not None:
            named.add(name)
    fields = sorted(named)
    detail = problem_message("VALIDATION") or ""
    if fields:
        shown = ", ".join(fields[:NAMED_FIELDS])
        if len(fields) > NAMED_FIELDS:
            shown += " " + _("et {count} autre(s)", count=len(fields) - NAMED_FIELDS)
        detail += " " + _("Champs en cause : {fields}.", fields=shown)
    if unknown:
        detail += " " + _("Champs inconnus : {count}.", count=unknown)
    return Problem("VALIDATION", detail=detail, status=422)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(Problem.from_domain(exc))

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc.errors()))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "VALIDATION")
        return problem_response(Problem(code, status=exc.status_code))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception's type only: its text could quote data.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(Problem("INTERNAL"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
