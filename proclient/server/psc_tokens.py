"""What the service believes of Pro Santé Connect's answers: the ID token, checked for real
(signature with joserfc against PSC's JWKS, then its claims), and the user-info mapped to the
same :class:`~proclient.core.domain.Professional` a CPS certificate gives (core/cps_profile.py).

ID token checks, in order; the first that fails names the reason (for the log, never the
token): the header's ``alg`` is RS256 or ES256 (``none`` and HMAC never), its ``kid`` is in
the JWKS (an unknown kid makes the JWKS be fetched once more, at most once a minute: PSC may
have rolled its keys), the signature verifies with that key, ``iss`` is the discovery
document's issuer, ``aud`` holds this service's client_id (and ``azp``, when there are
several audiences, is it), ``exp`` is not past and ``iat`` not in the future (both with
:data:`LEEWAY` seconds of clock skew, on the service's clock), ``acr`` is ``eidas1``, and
``preferred_username`` (PSC's national id) names the professional the sign-in was asked for.

User-info, in PSC's shapes (ANS, « Pro Santé Connect - données d'identité » and Keycloak's
user-info of the ``esante-wallet`` realm): ``SubjectNameID`` (the national id: RPPS with
prefix 8, or ADELI with prefix 0), ``family_name``, ``given_name``, and ``SubjectRefPro``
``{"exercices": [{"codeProfession", "nomDexercice", "prenomDexercice", "activities":
[{"raisonSocialeSite", ...}]}]}`` (the stand-in's users.py says where these shapes come
from; ``nomDExercice`` is read too). The first practice gives the profession code and its first
activity the structure (``Professional.structure``, what a CPS certificate's O carries).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from proclient.core.domain import Professional

ALGORITHMS = ("RS256", "ES256")
LEEWAY = 30  # seconds of clock skew between PSC and the service


class TokenInvalid(Exception):
    """The ID token (or the user-info) fails a check; ``reason`` is one word for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IdTokenChecks:
    issuer: str
    client_id: str
    acr: str
    national_id_ref: str  # the keyed reference of the national id asked for
    ref: Callable[[str], str]  # how that reference is made from a national id
    now: float  # the service's clock (seconds since the epoch)


def _b64json(part: str) -> dict:
    padded = part + "=" * (-len(part) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _find(keys: KeySet | None, kid: str):
    if keys is None:
        return None
    return next((key for key in keys if key.kid == kid), None)


def check_id_token(token: str, keys: Callable[..., KeySet | None], checks: IdTokenChecks) -> dict:
    """The claims of ``token`` once every check passes; TokenInvalid otherwise. ``keys()`` is
    the cached JWKS, ``keys(refresh=True)`` a fresh one (or None when refused by its limit)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenInvalid("format")
    try:
        header = _b64json(parts[0])
    except (ValueError, UnicodeError):
        raise TokenInvalid("format") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise TokenInvalid("alg")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenInvalid("kid")
    key = _find(keys(), kid)
    if key is None:
        key = _find(keys(refresh=True), kid)
    if key is None:
        raise TokenInvalid("kid")
    try:
        claims = jwt.decode(token, key, algorithms=[alg]).claims
    except JoseError:
        raise TokenInvalid("signature") from None
    except (ValueError, TypeError):
        raise TokenInvalid("format") from None
    _check_claims(claims, checks)
    return claims


def _check_claims(claims: dict, checks: IdTokenChecks) -> None:
    if claims.get("iss") != checks.issuer:
        raise TokenInvalid("iss")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or checks.client_id not in audiences:
        raise TokenInvalid("aud")
    if len(audiences) > 1 and claims.get("azp") != checks.client_id:
        raise TokenInvalid("azp")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not _number(exp) or exp + LEEWAY < checks.now:
        raise TokenInvalid("exp")
    if not _number(iat) or iat - LEEWAY > checks.now:
        raise TokenInvalid("iat")
    if claims.get("acr") != checks.acr:
        raise TokenInvalid("acr")
    national_id = claims.get("preferred_username")
    if national_id is not None and (
        not isinstance(national_id, str) or checks.ref(national_id) != checks.national_id_ref
    ):
        raise TokenInvalid("national_id")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _either(practice: dict, name: str) -> str:
    """PSC writes ``nomDexercice``; some of ANS's documents ``nomDExercice``: either."""
    return _text(practice.get(name)) or _text(practice.get(name.replace("De", "DE", 1)))


def professional_from_userinfo(info: dict) -> Professional:
    """The professional PSC's user-info names; TokenInvalid("userinfo") when a part the
    service needs (national id, last name, profession code) is missing."""
    id_nat = _text(info.get("SubjectNameID")) or _text(info.get("preferred_username"))
    reference = info.get("SubjectRefPro")
    practices = reference.get("exercices") if isinstance(reference, dict) else None
    practice = practices[0] if isinstance(practices, list) and practices else {}
    if not isinstance(practice, dict):
        practice = {}
    activities = practice.get("activities")
    activity = activities[0] if isinstance(activities, list) and activities else {}
    if not isinstance(activity, dict):
        activity = {}
    professional = Professional(
        id_nat=id_nat,
        last_name=_text(info.get("family_name")) or _either(practice, "nomDexercice"),
        first_name=_text(info.get("given_name")) or _either(practice, "prenomDexercice"),
        profession_code=_text(practice.get("codeProfession")),
        structure=_text(activity.get("raisonSocialeSite")),
    )
    if not (professional.id_nat and professional.last_name and professional.profession_code):
        raise TokenInvalid("userinfo")
    return professional
