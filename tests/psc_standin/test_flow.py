"""The stand-in over HTTPS on loopback: discovery, JWKS, the CIBA flow and its errors."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.psc_standin.helpers import (
    NURSE,
    PHARMACIST,
    backchannel,
    credentials,
    endpoints,
    error_of,
    poll,
    psc_clock_advance,
    signed_in,
    start,
)
from tests.psc_support import DEFAULT_USERS


def test_discovery_is_at_psc_path_and_names_the_endpoints(psc, http):
    assert psc.discovery_url == psc.url + (
        "/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
    )
    document = endpoints(psc, http)

    assert document["issuer"] == psc.url + "/auth/realms/esante-wallet"
    base = document["issuer"] + "/protocol/openid-connect"
    assert document["token_endpoint"] == base + "/token"
    assert document["userinfo_endpoint"] == base + "/userinfo"
    assert document["jwks_uri"] == base + "/certs"
    assert document["end_session_endpoint"] == base + "/logout"
    assert document["backchannel_authentication_endpoint"] == base + "/ext/ciba/auth"
    assert {"urn:openid:params:grant-type:ciba", "refresh_token"} <= set(
        document["grant_types_supported"]
    )
    assert document["backchannel_token_delivery_modes_supported"] == ["poll"]
    assert document["acr_values_supported"] == ["eidas1"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    # The usual OpenID path is not PSC's.
    assert http.get(document["issuer"] + "/.well-known/openid-configuration").status_code == 404


def test_the_jwks_verifies_the_id_token(psc, http):
    tokens = signed_in(psc, http)
    jwks = http.get(endpoints(psc, http)["jwks_uri"]).json()

    assert [key["kid"] for key in jwks["keys"]] == [psc.standin.kid]
    assert all("d" not in key for key in jwks["keys"])  # public keys only
    assert jwks["keys"][0]["alg"] == "RS256" and jwks["keys"][0]["use"] == "sig"
    token = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["kid"] == psc.standin.kid
    claims = token.claims
    assert claims["iss"] == psc.issuer
    assert claims["aud"] == psc.material.client_id
    assert claims["azp"] == psc.material.client_id
    assert claims["acr"] == "eidas1"
    assert claims["preferred_username"] == PHARMACIST
    assert claims["exp"] == claims["iat"] + 120
    assert claims["auth_time"] <= claims["iat"]
    assert PHARMACIST not in claims["sub"]  # opaque


def test_sub_is_stable_per_professional_and_differs_between_them(psc, http):
    first = jwt.decode(signed_in(psc, http)["id_token"], psc.standin.signer.key_set).claims
    again = jwt.decode(signed_in(psc, http)["id_token"], psc.standin.signer.key_set).claims
    nurse = jwt.decode(signed_in(psc, http, NURSE)["id_token"], psc.standin.signer.key_set).claims

    assert first["sub"] == again["sub"] != nurse["sub"]


def test_pending_then_approved_gives_the_tokens_once(psc, http):
    auth_req_id = start(psc, http)
    assert psc.standin.pending(PHARMACIST) == [auth_req_id]
    assert psc.standin.pending(NURSE) == []

    first = poll(psc, http, auth_req_id)
    assert first.status_code == 400 and error_of(first) == "authorization_pending"
    assert psc.standin.approve(PHARMACIST)
    assert psc.standin.pending() == []
    psc_clock_advance(psc, 5)
    tokens = poll(psc, http, auth_req_id)

    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120 and body["refresh_expires_in"] == 1800
    assert body["scope"] == "openid scope_all"
    assert body["access_token"] and body["refresh_token"] and body["id_token"]
    assert tokens.headers["cache-control"] == "no-store"
    psc_clock_advance(psc, 5)
    replay = poll(psc, http, auth_req_id)
    assert replay.status_code == 400 and error_of(replay) == "invalid_grant"
    assert psc.standin.token_polls[auth_req_id] == 3


def test_slow_down_grows_the_interval(psc, http):
    auth_req_id = start(psc, http)
    assert error_of(poll(psc, http, auth_req_id)) == "authorization_pending"

    psc_clock_advance(psc, 4)  # sooner than 5 s
    assert error_of(poll(psc, http, auth_req_id)) == "slow_down"
    psc_clock_advance(psc, 5)  # 5 s is now too soon: the interval is 10 s
    assert error_of(poll(psc, http, auth_req_id)) == "slow_down"
    psc_clock_advance(psc, 15)  # the interval is now 15 s
    assert error_of(poll(psc, http, auth_req_id)) == "authorization_pending"
    psc_clock_advance(psc, 15)
    assert psc.standin.approve(PHARMACIST)
    assert poll(psc, http, auth_req_id).status_code == 200


def test_expired_after_expires_in(psc, http):
    auth_req_id = start(psc, http)
    psc_clock_advance(psc, 119)
    assert error_of(poll(psc, http, auth_req_id)) == "authorization_pending"
    psc_clock_advance(psc, 1)

    assert error_of(poll(psc, http, auth_req_id)) == "expired_token"
    assert psc.standin.pending(PHARMACIST) == []
    assert not psc.standin.approve(PHARMACIST)  # too late for the phone too


def test_refused_on_the_phone_is_access_denied(psc, http):
    auth_req_id = start(psc, http)
    assert psc.standin.refuse(PHARMACIST)

    response = poll(psc, http, auth_req_id)
    assert response.status_code == 400 and error_of(response) == "access_denied"
    assert not psc.standin.approve(PHARMACIST)  # nothing left pending


def test_the_phone_answers_the_newest_request(psc, http):
    older = start(psc, http)
    newer = start(psc, http)
    assert psc.standin.pending(PHARMACIST) == [older, newer]

    assert psc.standin.approve(PHARMACIST)
    assert psc.standin.pending(PHARMACIST) == [older]
    assert poll(psc, http, newer).status_code == 200
    assert error_of(poll(psc, http, older)) == "authorization_pending"
    assert not psc.standin.approve(NURSE)


def test_backchannel_rejects_a_bad_client(psc, http):
    wrong = backchannel(psc, http, client_secret="not-the-secret")
    assert wrong.status_code == 401 and error_of(wrong) == "invalid_client"
    other = backchannel(psc, http, client_id="someone-else")
    assert other.status_code == 401 and error_of(other) == "invalid_client"
    nothing = backchannel(psc, http, client_id=None, client_secret=None)
    assert nothing.status_code == 401
    assert psc.standin.pending() == []
    assert psc.standin.backchannel_requests == 3


def test_backchannel_takes_client_secret_basic(psc, http):
    form = {"scope": "openid scope_all", "acr_values": "eidas1", "login_hint": PHARMACIST}
    url = psc.issuer + "/protocol/openid-connect/ext/ciba/auth"
    auth = credentials(psc)
    good = http.post(url, data=form, auth=(auth["client_id"], auth["client_secret"]))
    assert good.status_code == 200, good.text
    bad = http.post(url, data=form, auth=(auth["client_id"], "wrong"))
    assert bad.status_code == 401 and error_of(bad) == "invalid_client"
    assert bad.headers["www-authenticate"].startswith("Basic")
    garbage = http.post(url, data=form, headers={"Authorization": "Basic !!!"})
    assert garbage.status_code == 401


def test_backchannel_rejects_an_unknown_professional(psc, http):
    response = backchannel(psc, http, "899700099999")
    assert response.status_code == 400 and error_of(response) == "unknown_user_id"


def test_backchannel_requires_openid_in_the_scope(psc, http):
    response = backchannel(psc, http, scope="scope_all")
    assert response.status_code == 400 and error_of(response) == "invalid_scope"


def test_backchannel_requires_eidas1(psc, http):
    for acr in ("eidas2", None, "eidas1 eidas2"):
        response = backchannel(psc, http, acr_values=acr)
        assert response.status_code == 400 and error_of(response) == "invalid_request", acr


def test_backchannel_requires_a_login_hint_and_a_form(psc, http):
    missing = backchannel(psc, http, login_hint=None)
    assert missing.status_code == 400 and error_of(missing) == "invalid_request"
    url = psc.issuer + "/protocol/openid-connect/ext/ciba/auth"
    as_json = http.post(url, json={"login_hint": PHARMACIST, **credentials(psc)})
    assert as_json.status_code == 400 and error_of(as_json) == "invalid_request"


def test_token_rejects_a_bad_client_and_an_unknown_grant(psc, http):
    auth_req_id = start(psc, http)
    psc.standin.approve(PHARMACIST)
    url = psc.issuer + "/protocol/openid-connect/token"
    form = {"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": auth_req_id}
    stolen = http.post(url, data={**form, "client_id": psc.material.client_id})
    assert stolen.status_code == 401 and error_of(stolen) == "invalid_client"
    other = http.post(url, data={"grant_type": "password", **credentials(psc)})
    assert other.status_code == 400 and error_of(other) == "unsupported_grant_type"
    unknown = poll(psc, http, "not-an-auth-req-id")
    assert unknown.status_code == 400 and error_of(unknown) == "invalid_grant"
    # The approved request is still there for its rightful client.
    assert poll(psc, http, auth_req_id).status_code == 200


def test_the_demo_users_are_the_demo_professionals(demo_pki_cache, tmp_path):
    """The tests' stand-in knows the professionals the demo's own stand-in knows (the one
    ``proclient demo`` starts, built from the demo PKI's cards): same people, same order."""
    import shutil

    from proclient.embedded_service import embedded_psc

    shutil.copytree(demo_pki_cache, tmp_path / "demo-pki")
    _settings, phone, running = embedded_psc(tmp_path)
    try:
        demo_users = list(phone._standin.users.values())
    finally:
        running.stop()
    assert list(DEFAULT_USERS) == demo_users
    assert DEFAULT_USERS[0].family_name == "MARTIN"
    assert DEFAULT_USERS[0].profession_code == "21"
    assert DEFAULT_USERS[0].organisation == "Pharmacie de la Gare"
