"""Where PSC serves what: Keycloak's paths under the realm ``esante-wallet``, and PSC's own
discovery path (not the usual ``openid-configuration``)."""

from __future__ import annotations

REALM_PATH = "/auth/realms/esante-wallet"
DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"
OIDC_PATH = "/protocol/openid-connect"
CERTS = OIDC_PATH + "/certs"
BACKCHANNEL = OIDC_PATH + "/ext/ciba/auth"
TOKEN = OIDC_PATH + "/token"
USERINFO = OIDC_PATH + "/userinfo"
LOGOUT = OIDC_PATH + "/logout"
