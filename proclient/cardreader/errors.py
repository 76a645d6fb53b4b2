"""Card errors: a stable code the application can branch on, one French sentence naming the fix.

Messages never carry a NIR or a name: they may be logged and shown on a shared counter screen.
"""

from __future__ import annotations

from proclient.core.domain import DomainError
from proclient.core.i18n import _

NO_READER = "NO_READER"
NO_CARD = "NO_CARD"
CARD_REMOVED = "CARD_REMOVED"
CARD_MUTE = "CARD_MUTE"
NOT_VITALE = "NOT_VITALE"
VITALE1_UNREADABLE = "VITALE1_UNREADABLE"
NO_BENEFICIARY = "NO_BENEFICIARY"
MALFORMED = "MALFORMED"
STATUS_WORD = "STATUS_WORD"
SERVICE_GONE = "SERVICE_GONE"
READER_BUSY = "READER_BUSY"
CARD_RESET = "CARD_RESET"

CODES = (
    NO_READER,
    NO_CARD,
    CARD_REMOVED,
    CARD_MUTE,
    NOT_VITALE,
    VITALE1_UNREADABLE,
    NO_BENEFICIARY,
    MALFORMED,
    STATUS_WORD,
    SERVICE_GONE,
    READER_BUSY,
    CARD_RESET,
)


def default_message(code: str, sw: int | None = None) -> str:
    """The French sentence for ``code`` (translated when the message is built, not at import)."""
    if code == NO_READER:
        return _("Aucun lecteur de carte détecté : branchez le lecteur puis réessayez.")
    if code == NO_CARD:
        return _("Aucune carte dans le lecteur : insérez la carte Vitale du patient.")
    if code == CARD_REMOVED:
        return _("La carte a été retirée pendant la lecture : réinsérez-la.")
    if code == CARD_MUTE:
        return _(
            "La carte ne répond pas : retirez-la, vérifiez le sens de la puce et réinsérez-la."
        )
    if code == NOT_VITALE:
        return _("Cette carte n'est pas une carte Vitale : insérez la carte Vitale du patient.")
    if code == VITALE1_UNREADABLE:
        return _(
            "Cette carte Vitale de première génération ne peut pas être lue ici : "
            "demandez la carte Vitale 2 du patient ou saisissez son identité."
        )
    if code == NO_BENEFICIARY:
        return _("La carte Vitale ne porte aucun bénéficiaire : saisissez l'identité du patient.")
    if code == MALFORMED:
        return _(
            "La carte a renvoyé des données illisibles : réinsérez-la ; "
            "si l'erreur persiste, saisissez l'identité du patient."
        )
    if code == STATUS_WORD:
        return _(
            "La carte a refusé la lecture (code {sw}) : réinsérez-la ; "
            "si l'erreur persiste, saisissez l'identité du patient.",
            sw=f"{sw:04X}" if sw is not None else "?",
        )
    if code == SERVICE_GONE:
        return _(
            "Le service des cartes à puce (pcscd) ne répond plus : "
            "relancez-le ou rebranchez le lecteur."
        )
    if code == READER_BUSY:
        return _(
            "Le lecteur est occupé par un autre programme : fermez ce programme "
            "puis réinsérez la carte."
        )
    if code == CARD_RESET:
        return _(
            "La carte a été réinitialisée par un autre programme pendant la lecture : "
            "réinsérez-la ou relisez-la (F5)."
        )
    return _("Erreur de lecture de la carte : réinsérez-la puis réessayez.")


class CardError(DomainError):
    """A card or reader problem the user can act on. ``sw`` is set for STATUS_WORD errors."""

    def __init__(self, code: str, message: str | None = None, *, sw: int | None = None) -> None:
        super().__init__(code, message or default_message(code, sw))
        self.sw = sw

    def __repr__(self) -> str:
        sw = f", sw={self.sw:04X}" if self.sw is not None else ""
        return f"CardError({self.code}{sw})"
