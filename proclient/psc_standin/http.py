"""The stand-in's HTTP side: a FastAPI app over :class:`PscStandIn`'s rules.

Paths are Keycloak's, as PSC serves them under its issuer ``…/auth/realms/esante-wallet``.
Form bodies (``application/x-www-form-urlencoded``, RFC 6749) are parsed here with the
standard library; errors answer in RFC 6749's shape with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from proclient.psc_standin import paths
from proclient.psc_standin.errors import OAuthError

MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def read_form(request: Request) -> dict[str, str]:
    """The request's form parameters; ``invalid_request`` for another content type, a body
    too large, or a parameter given twice (RFC 6749 §3.1)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "a form body (application/x-www-form-urlencoded)")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "request too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the form is not UTF-8") from None
    if any(len(values) > 1 for values in parsed.values()):
        raise OAuthError("invalid_request", "a parameter is repeated")
    return {name: values[0] for name, values in parsed.items()}


class Provider(Protocol):
    """What the HTTP side asks of the provider (PscStandIn)."""

    def discovery(self) -> dict[str, Any]: ...
    def jwks(self) -> dict[str, Any]: ...
    def backchannel(self, form: Mapping[str, str], authorization: str | None) -> dict: ...
    def token(self, form: Mapping[str, str], authorization: str | None) -> dict: ...
    def userinfo(self, authorization: str | None) -> dict[str, Any]: ...
    def logout(self, form: Mapping[str, str], authorization: str | None) -> None: ...


def _error(error: OAuthError) -> JSONResponse:
    return JSONResponse(error.body(), error.status, headers={**NO_STORE, **error.headers})


def _guarded(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except OAuthError as error:
            return _error(error)

    endpoint.__name__ = handler.__name__
    return endpoint


def create_app(standin: Provider) -> FastAPI:
    """The HTTP side of ``standin`` (its issuer is read at each request: the port is known
    only once the listener is up)."""
    app = FastAPI(
        title="Pro Santé Connect stand-in", docs_url=None, redoc_url=None, openapi_url=None
    )
    realm = paths.REALM_PATH

    async def discovery(request: Request) -> Response:
        return JSONResponse(standin.discovery())

    async def certs(request: Request) -> Response:
        return JSONResponse(standin.jwks())

    async def backchannel(request: Request) -> Response:
        form = await read_form(request)
        answer = standin.backchannel(form, request.headers.get("authorization"))
        return JSONResponse(answer, headers=NO_STORE)

    async def token(request: Request) -> Response:
        form = await read_form(request)
        answer = standin.token(form, request.headers.get("authorization"))
        return JSONResponse(answer, headers=NO_STORE)

    async def userinfo(request: Request) -> Response:
        answer: dict[str, Any] = standin.userinfo(request.headers.get("authorization"))
        return JSONResponse(answer, headers=NO_STORE)

    async def logout(request: Request) -> Response:
        form = await read_form(request)
        standin.logout(form, request.headers.get("authorization"))
        return Response(status_code=204, headers=NO_STORE)

    routes: list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]] = [
        (realm + paths.DISCOVERY_PATH, discovery, ["GET"]),
        (realm + paths.CERTS, certs, ["GET"]),
        (realm + paths.BACKCHANNEL, backchannel, ["POST"]),
        (realm + paths.TOKEN, token, ["POST"]),
        (realm + paths.USERINFO, userinfo, ["GET", "POST"]),
        (realm + paths.LOGOUT, logout, ["POST"]),
    ]
    for path, handler, methods in routes:
        app.add_api_route(path, _guarded(handler), methods=methods, include_in_schema=False)
    return app
