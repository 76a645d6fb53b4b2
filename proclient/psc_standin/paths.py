"""Where PSC serves what (Keycloak's paths under the realm ``esante-wallet``, PSC's own
discovery path, not the usual ``openid-configuration``) and its discovery document."""

from __future__ import annotations

from typing import Any

REALM_PATH = "/auth/realms/esante-wallet"
DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"
OIDC_PATH = "/protocol/openid-connect"
CERTS = OIDC_PATH + "/certs"
BACKCHANNEL = OIDC_PATH + "/ext/ciba/auth"
TOKEN = OIDC_PATH + "/token"
USERINFO = OIDC_PATH + "/userinfo"
LOGOUT = OIDC_PATH + "/logout"

CIBA_GRANT = "urn:openid:params:grant-type:ciba"
ACR = "eidas1"  # the only level PSC accepts


def discovery_document(issuer: str) -> dict[str, Any]:
    """PSC's discovery document for ``issuer`` (``{base}/auth/realms/esante-wallet``)."""
    return {
        "issuer": issuer,
        "token_endpoint": issuer + TOKEN,
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + CERTS,
        "end_session_endpoint": issuer + LOGOUT,
        "backchannel_authentication_endpoint": issuer + BACKCHANNEL,
        "grant_types_supported": [CIBA_GRANT, "refresh_token"],
        "backchannel_token_delivery_modes_supported": ["poll"],
        "backchannel_user_code_parameter_supported": False,
        "acr_values_supported": [ACR],
        "scopes_supported": ["openid", "scope_all"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["none"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_authentication_request_signing_alg_values_supported": [],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "acr",
            "auth_time",
            "preferred_username",
            "given_name",
            "family_name",
            "SubjectNameID",
            "SubjectRefPro",
        ],
    }
