"""OAuth client authentication: ``client_secret_basic`` and ``client_secret_post`` (RFC 6749
§2.3.1), the secret compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from urllib.parse import unquote_plus

from proclient.psc_standin.errors import OAuthError


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError.invalid_client(basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError.invalid_client(basic=True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before the base64.
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_client(
    form: Mapping[str, str], authorization: str | None, client_id: str, client_secret: str
) -> None:
    """Raise ``invalid_client`` (401) unless the request authenticates as the registered
    client, by the Authorization header (basic) or by the form (post), not both."""
    basic = _basic_credentials(authorization) if authorization else None
    if basic is not None:
        if "client_secret" in form:
            raise OAuthError("invalid_request", "one client authentication method at a time")
        given_id, given_secret = basic
    else:
        given_id, given_secret = form.get("client_id", ""), form.get("client_secret", "")
    # Both compared, whatever the first gives: the time says nothing about either.
    id_ok = hmac.compare_digest(given_id.encode("utf-8"), client_id.encode("utf-8"))
    secret_ok = hmac.compare_digest(given_secret.encode("utf-8"), client_secret.encode("utf-8"))
    if not (id_ok and secret_ok):
        raise OAuthError.invalid_client(basic=basic is not None)
