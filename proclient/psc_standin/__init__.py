"""A Pro Santé Connect stand-in: an OpenID provider on loopback that speaks PSC's shapes.

For the demo (``proclient demo`` runs it embedded, a key standing for the e-CPS phone) and for
the tests (the service's PSC client talks to it over real HTTPS). It is not an identity
provider for production: every professional it knows is given to it at construction, and the
« phone » is a method call.

What it serves (under the issuer ``{base}/auth/realms/esante-wallet``, Keycloak's paths as PSC
uses them): discovery at PSC's own ``/.well-known/wallet-openid-configuration``, the JWKS, the
CIBA backchannel authentication endpoint (poll mode), the token endpoint (CIBA grant with its
errors, refresh with rotation), the user-info in PSC's shapes, and the logout. Tokens are JWTs
signed RS256 with joserfc; client authentication is ``client_secret_basic`` or
``client_secret_post``. The contract is /work/helpers/ecps-spec.md, section A.

Imports: ``proclient.core``, FastAPI/Starlette, uvicorn and joserfc only (pyproject.toml's
import-linter contract ``psc-standin-stands-alone``).
"""

from __future__ import annotations

from proclient.psc_standin.material import StandInMaterial, ensure_standin_material
from proclient.psc_standin.provider import PscStandIn
from proclient.psc_standin.running import RunningStandIn, start_standin
from proclient.psc_standin.users import StandInUser

__all__ = [
    "PscStandIn",
    "RunningStandIn",
    "StandInMaterial",
    "StandInUser",
    "ensure_standin_material",
    "start_standin",
]
