"""Which DMP service certificates this workstation trusts for the accusé's 2D code: the
bundle ``[verify] service_certificates`` names (the service's ``document-signing/
certificates.pem``), or the demo services' of this workstation. Shared by ``proclient
verify`` and the TUI's « Vérifier un accusé »."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from proclient.core.domain import DomainError
from proclient.core.i18n import _

if TYPE_CHECKING:
    from cryptography import x509

DEMO_CERTIFICATES = (
    ("demo", "document-signing"),  # proclient demo's embedded service (paths.demo_dir)
    ("server", "demo", "document-signing"),  # proclient serve --init-demo
)
BUNDLE = "certificates.pem"
NOT_CONFIGURED = "VERIFY_NOT_CONFIGURED"
UNREADABLE_BUNDLE = "VERIFY_CERTIFICATES_UNREADABLE"


class TrustError(DomainError):
    """No usable service certificate: ``code`` says which case, ``message`` one sentence."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(code, message)


def service_certificates(settings, *, demo: bool = False) -> list[x509.Certificate]:
    """The DMP service's document-signing certificates this workstation trusts: the bundle
    ``[verify] service_certificates`` names, or with ``demo`` those of the demo services of
    this workstation. Raises TrustError."""
    from cryptography import x509

    if demo:
        paths = [settings.paths.data_dir.joinpath(*parts, BUNDLE) for parts in DEMO_CERTIFICATES]
        paths = [path for path in paths if path.is_file()]
        if not paths:
            raise TrustError(
                _(
                    "Aucun certificat du service de démonstration sur ce poste : lancez "
                    "d'abord « proclient demo » (ou « proclient serve --init-demo »)."
                ),
                NOT_CONFIGURED,
            )
    else:
        configured = settings.verify.service_certificates
        if not configured:
            raise TrustError(
                _(
                    "Réglage verify.service_certificates manquant : indiquez le fichier "
                    "certificates.pem du service DMP (dossier document-signing du service), "
                    "ou ajoutez --demo."
                ),
                NOT_CONFIGURED,
            )
        paths = [Path(configured).expanduser()]
    certificates: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError):
            raise TrustError(
                _(
                    "Le fichier de certificats du service {path} est introuvable ou illisible "
                    "(verify.service_certificates).",
                    path=path,
                ),
                UNREADABLE_BUNDLE,
            ) from None
    return certificates
