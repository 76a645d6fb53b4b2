"""The forgery knobs: the ID token really is broken as asked, and only it."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError
from joserfc.jwk import KeySet

from tests.psc_standin.helpers import endpoints, refresh, signed_in


def parts(token: str) -> tuple[dict, dict, str]:
    header, claims, signature = token.split(".")

    def decode(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    return decode(header), decode(claims), signature


def published_keys(psc, http) -> KeySet:
    return KeySet.import_key_set(http.get(endpoints(psc, http)["jwks_uri"]).json())


def test_other_key_signs_with_a_key_the_jwks_does_not_hold(psc, http):
    psc.standin.forge["signing"] = "other_key"
    tokens = signed_in(psc, http)
    header, claims, signature = parts(tokens["id_token"])

    assert header["alg"] == "RS256" and header["kid"] == psc.standin.kid and signature
    with pytest.raises(BadSignatureError):
        jwt.decode(tokens["id_token"], published_keys(psc, http), algorithms=["RS256"])
    # The access token is still a good one.
    jwt.decode(tokens["access_token"], published_keys(psc, http), algorithms=["RS256"])


def test_none_is_an_unsigned_token(psc, http):
    psc.standin.forge["signing"] = "none"
    header, claims, signature = parts(signed_in(psc, http)["id_token"])

    assert header["alg"] == "none" and signature == ""
    assert claims["acr"] == "eidas1"


def test_unknown_kid_names_a_key_not_in_the_jwks(psc, http):
    psc.standin.forge["signing"] = "unknown_kid"
    token = signed_in(psc, http)["id_token"]
    header, _, _ = parts(token)
    keys = published_keys(psc, http)

    assert header["kid"] not in {key.kid for key in keys.keys}
    with pytest.raises(InvalidKeyIdError):
        jwt.decode(token, keys, algorithms=["RS256"])


def test_claims_are_merged_over_the_id_token(psc, http):
    psc.standin.forge["claims"] = {"iss": "https://elsewhere.example", "acr": "eidas2", "exp": None}
    token = signed_in(psc, http)["id_token"]

    claims = jwt.decode(token, published_keys(psc, http), algorithms=["RS256"]).claims
    assert claims["iss"] == "https://elsewhere.example"
    assert claims["acr"] == "eidas2"
    assert "exp" not in claims  # None removes a claim
    assert claims["aud"] == psc.material.client_id  # the others stay


def test_reset_forgets_the_knobs_and_the_state(psc, http):
    psc.standin.forge["signing"] = "none"
    tokens = signed_in(psc, http)
    assert psc.standin.backchannel_requests == 1 and psc.standin.token_polls

    psc.standin.reset()
    assert psc.standin.forge == {}
    assert psc.standin.backchannel_requests == 0 and not psc.standin.token_polls
    token = signed_in(psc, http)["id_token"]
    jwt.decode(token, published_keys(psc, http), algorithms=["RS256"])
    gone = refresh(psc, http, tokens["refresh_token"])
    assert gone.status_code == 400  # the session before the reset is forgotten
