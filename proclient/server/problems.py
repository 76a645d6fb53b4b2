"""Errors as ``application/problem+json`` (RFC 9457) with a stable ``code``.

Every refusal leaves through here, in French, and never echoes what the client sent: a
request body may carry a NIR and a name. The codes' sentences are :mod:`proclient.problems`,
shared with the client; their HTTP statuses are here.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from proclient.domain import DomainError
from proclient.i18n import _
from proclient.problems import problem_message

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
    "IDEMPOTENCY_KEY_REQUIRED": 400,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "IDEMPOTENCY_IN_PROGRESS": 409,
    "AUTH_RATE_LIMITED": 429,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "INTERNAL": 500,
}


def _title(status: int) -> str:
    return {
        400: _("Demande incomplète"),
        401: _("Authentification refusée"),
        404: _("Introuvable"),
        405: _("Opération inconnue"),
        409: _("Conflit avec l'état du DMP"),
        422: _("Demande refusée"),
        429: _("Trop de tentatives"),
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


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(Problem.from_domain(exc))

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        # Name the fields at fault, never their values.
        assert isinstance(exc, RequestValidationError)
        fields = sorted(
            {
                ".".join(str(part) for part in error.get("loc", ())[1:])
                for error in exc.errors()
                if error.get("type") != "json_invalid"
            }
            - {""}
        )
        detail = problem_message("VALIDATION") or ""
        if fields:
            detail += " " + _("Champs en cause : {fields}.", fields=", ".join(fields))
        return problem_response(Problem("VALIDATION", detail=detail, status=422))

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
