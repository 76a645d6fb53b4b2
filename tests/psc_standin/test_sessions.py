"""Refresh (rotation, lifetimes, PSC-side ends), the user-info, the logout."""

from __future__ import annotations

from tests.psc_standin.helpers import (
    NURSE,
    PHARMACIST,
    credentials,
    endpoints,
    error_of,
    psc_clock_advance,
    refresh,
    signed_in,
)


def userinfo(psc, http, access_token: str | None):
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return http.get(psc.issuer + "/protocol/openid-connect/userinfo", headers=headers)


def test_refresh_rotates_the_refresh_token(psc, http):
    tokens = signed_in(psc, http)
    psc_clock_advance(psc, 100)

    renewed = refresh(psc, http, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert body["expires_in"] == 120
    reused = refresh(psc, http, tokens["refresh_token"])  # the old one is void
    assert reused.status_code == 400 and error_of(reused) == "invalid_grant"
    assert refresh(psc, http, body["refresh_token"]).status_code == 200


def test_a_refresh_token_lasts_refresh_ttl(psc, http):
    tokens = signed_in(psc, http)
    psc_clock_advance(psc, 1799)
    kept = refresh(psc, http, tokens["refresh_token"])
    assert kept.status_code == 200
    psc_clock_advance(psc, 1800)

    late = refresh(psc, http, kept.json()["refresh_token"])
    assert late.status_code == 400 and error_of(late) == "invalid_grant"


def test_the_session_ends_after_session_max_whatever_the_refreshes(psc, http):
    tokens = signed_in(psc, http)
    refresh_token = tokens["refresh_token"]
    for _ in range(9):  # 9 × 1600 s = 4 h
        psc_clock_advance(psc, 1600)
        response = refresh(psc, http, refresh_token)
        if response.status_code != 200:
            break
        assert response.json()["refresh_expires_in"] <= 1800
        refresh_token = response.json()["refresh_token"]
    assert response.status_code == 400 and error_of(response) == "invalid_grant"
    # It ended at 4 h: the eighth refresh (12 800 s) passed, the ninth (14 400 s) did not.
    assert _ == 8


def test_end_sessions_makes_the_refresh_fail(psc, http):
    pharmacist = signed_in(psc, http)
    nurse = signed_in(psc, http, NURSE)
    psc.standin.end_sessions(PHARMACIST)

    ended = refresh(psc, http, pharmacist["refresh_token"])
    assert ended.status_code == 400 and error_of(ended) == "invalid_grant"
    assert refresh(psc, http, nurse["refresh_token"]).status_code == 200


def test_logout_ends_the_session(psc, http):
    tokens = signed_in(psc, http)
    url = endpoints(psc, http)["end_session_endpoint"]

    anonymous = http.post(url, data={"refresh_token": tokens["refresh_token"]})
    assert anonymous.status_code == 401
    response = http.post(url, data={"refresh_token": tokens["refresh_token"], **credentials(psc)})
    assert response.status_code == 204
    after = refresh(psc, http, tokens["refresh_token"])
    assert after.status_code == 400 and error_of(after) == "invalid_grant"
    assert userinfo(psc, http, tokens["access_token"]).status_code == 401


def test_userinfo_in_psc_shapes(psc, http):
    tokens = signed_in(psc, http)
    response = userinfo(psc, http, tokens["access_token"])

    assert response.status_code == 200, response.text
    info = response.json()
    assert info["SubjectNameID"] == PHARMACIST
    assert info["preferred_username"] == PHARMACIST
    assert info["family_name"] == "MARTIN" and info["given_name"] == "Claire"
    (exercice,) = info["SubjectRefPro"]["exercices"]
    assert exercice["codeProfession"] == "21"
    assert exercice["codeCategorieProfessionnelle"] == "C"
    assert exercice["nomDexercice"] == "MARTIN"
    assert exercice["prenomDexercice"] == "Claire"
    (activity,) = exercice["activities"]
    assert activity["raisonSocialeSite"] == "Pharmacie de la Gare"
    assert info["SubjectRole"] == ["21^1.2.250.1.213.1.1.5.5"]
    assert "codeCivilite" in info["SubjectRefPro"]
    id_token_sub = psc.standin.signer.verify(tokens["id_token"])["sub"]
    assert info["sub"] == id_token_sub


def test_userinfo_refuses_an_expired_missing_or_foreign_token(psc, http):
    tokens = signed_in(psc, http)
    assert userinfo(psc, http, None).status_code == 401
    forged = userinfo(psc, http, tokens["id_token"])  # an ID token is no access token
    assert forged.status_code == 401
    assert forged.headers["www-authenticate"].startswith("Bearer")
    assert userinfo(psc, http, tokens["access_token"] + "x").status_code == 401
    psc_clock_advance(psc, 119)
    assert userinfo(psc, http, tokens["access_token"]).status_code == 200
    psc_clock_advance(psc, 1)

    expired = userinfo(psc, http, tokens["access_token"])
    assert expired.status_code == 401 and error_of(expired) == "invalid_token"
    renewed = refresh(psc, http, tokens["refresh_token"]).json()
    assert userinfo(psc, http, renewed["access_token"]).status_code == 200
