"""``[server]``'s Pro Santé Connect keys → :class:`~proclient.server.settings.PscSettings`:

    [server]
    psc_discovery_url = "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet/.well-known/wallet-openid-configuration"
    psc_client_id = "proclient-mon-etablissement"
    psc_client_secret_file = "/etc/proclient/psc-client-secret"   # 0600; or the environment
    psc_client_certificate = "/etc/proclient/psc-client.pem"      # mTLS, when PSC asks for it
    psc_client_key = "/etc/proclient/psc-client.key"
    psc_ca = "/etc/proclient/psc-ca.pem"      # unset: the system's CAs
    psc_timeout = 10                          # seconds per call to PSC

The secret comes from ``PROCLIENT_PSC_CLIENT_SECRET`` when set, else from the file, which
must be readable by its owner only. Without ``psc_discovery_url`` the service offers no
e-CPS sign-in (501 ECPS_NOT_CONFIGURED). The secret never reaches a log, an error text or a
repr (PscSettings hides it).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.server.settings import PscSettings

SECRET_ENV = "PROCLIENT_PSC_CLIENT_SECRET"


def _error(message: str) -> DomainError:
    return DomainError("SERVER_CONFIG", message)


def _file(value: str | None, name: str) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise _error(_("Fichier introuvable pour server.{name} : {path}.", name=name, path=path))
    return path


def _secret(table, environ) -> str | None:
    from_env = environ.get(SECRET_ENV, "").strip()
    if from_env:
        return from_env
    path = _file(table.psc_client_secret_file, "psc_client_secret_file")
    if path is None:
        return None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise _error(
            _(
                "Le fichier du secret Pro Santé Connect (server.psc_client_secret_file) est "
                "lisible par d'autres que son propriétaire : faites chmod 600 sur ce fichier."
            )
        )
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise _error(_("Le fichier server.psc_client_secret_file est vide."))
    return secret


def psc_settings(table, environ=os.environ) -> PscSettings | None:
    """The PSC client's settings from a validated ServerTable; None when e-CPS is not set up;
    DomainError (SERVER_CONFIG) with one sentence when it is set up wrong."""
    if not table.psc_discovery_url:
        return None
    if urlsplit(table.psc_discovery_url).scheme != "https":
        raise _error(
            _("server.psc_discovery_url doit être une adresse https:// : corrigez le réglage.")
        )
    if not table.psc_client_id:
        raise _error(
            _(
                "Réglage server.psc_client_id manquant : indiquez l'identifiant client donné "
                "par Pro Santé Connect."
            )
        )
    certificate = _file(table.psc_client_certificate, "psc_client_certificate")
    key = _file(table.psc_client_key, "psc_client_key")
    secret = _secret(table, environ)
    if (certificate is None) != (key is None) or (secret is None and certificate is None):
        raise _error(
            _(
                "Authentification du service auprès de Pro Santé Connect incomplète : "
                "indiquez server.psc_client_secret_file (ou {env}), ou bien "
                "server.psc_client_certificate et server.psc_client_key.",
                env=SECRET_ENV,
            )
        )
    return PscSettings(
        discovery_url=table.psc_discovery_url,
        client_id=table.psc_client_id,
        client_secret=secret,
        client_certificate=certificate,
        client_key=key,
        ca=_file(table.psc_ca, "psc_ca"),
        timeout=table.psc_timeout,
    )
