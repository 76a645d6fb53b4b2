"""The holder's code (code porteur): what the card says about it, and how it is wiped.

A CPS card allows 3 tries, then blocks (DOMAIN.md §3). PKCS#11 does not give the count; it
gives token flags: CKF_USER_PIN_COUNT_LOW (a wrong code was entered), CKF_USER_PIN_FINAL_TRY
(one try left) and CKF_USER_PIN_LOCKED (blocked). The screens show them as French sentences.

About wiping the code from memory, as far as Python allows:

- The PIN screen keeps the typed digits in a ``bytearray`` (never in a ``str``), hands that
  same buffer down to the credential, and :func:`wipe` overwrites it with zeros when the
  attempt is over, whatever its outcome.
- The PKCS#11 credential passes the buffer to C_Login without a copy (a ctypes view of the
  bytearray's own memory), so no ``bytes`` or ``str`` holding the whole code is ever made.
- What cannot be wiped: each key press arrives from the terminal as a one-character ``str``
  (CPython keeps those as shared singletons, so they hold no more than one digit each); the
  terminal driver's input buffers; whatever the ``cryptography`` package (software credential)
  or the PKCS#11 module does with the code inside; and a demo token's provisioning, which uses
  the public demo code as a ``str``. Swap and core dumps are outside the program's reach.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from proclient.domain import DomainError
from proclient.i18n import _

CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000

PIN_LENGTH = 4  # a CPS code porteur is 4 digits
PIN_MAX_LENGTH = 8  # the field accepts a little more, for other cards and the software key


class PinState(enum.Enum):
    OK = "ok"
    COUNT_LOW = "count_low"
    FINAL_TRY = "final_try"
    LOCKED = "locked"


def pin_state_from_flags(flags: int) -> PinState:
    """The most serious state the token flags tell (locked beats final try beats low)."""
    if flags & CKF_USER_PIN_LOCKED:
        return PinState.LOCKED
    if flags & CKF_USER_PIN_FINAL_TRY:
        return PinState.FINAL_TRY
    if flags & CKF_USER_PIN_COUNT_LOW:
        return PinState.COUNT_LOW
    return PinState.OK


@dataclass(frozen=True)
class PinStatus:
    """What the PIN screen shows before the code is typed."""

    state: PinState = PinState.OK
    holder: str = ""  # who the card names ("Claire MARTIN, pharmacien"), when it was read

    @property
    def locked(self) -> bool:
        return self.state is PinState.LOCKED

    @property
    def warning(self) -> str:
        """One French sentence for the screen, empty when there is nothing to say."""
        if self.state is PinState.LOCKED:
            return locked_message()
        if self.state is PinState.FINAL_TRY:
            return _("Attention : dernier essai avant le blocage de la carte CPS.")
        if self.state is PinState.COUNT_LOW:
            return _("Attention : il reste peu d'essais avant le blocage de la carte CPS.")
        return ""


def locked_message() -> str:
    return _(
        "Carte CPS bloquée : trop de codes porteur erronés. Débloquez-la avec son code de "
        "déblocage (PUK), par le service « CPS en ligne » de l'ANS ou auprès de l'émetteur de "
        "la carte, puis réessayez."
    )


def pin_locked() -> DomainError:
    return DomainError("PIN_LOCKED", locked_message())


def pin_wrong(state: PinState = PinState.OK) -> DomainError:
    """A wrong code; the sentence says how many tries the card's flags still allow."""
    if state is PinState.LOCKED:
        return pin_locked()
    if state is PinState.FINAL_TRY:
        message = _(
            "Code porteur incorrect : dernier essai avant le blocage de la carte. "
            "Vérifiez le code avant de le saisir."
        )
    elif state is PinState.COUNT_LOW:
        message = _("Code porteur incorrect : il reste peu d'essais avant le blocage de la carte.")
    else:
        message = _("Code porteur incorrect : vérifiez les 4 chiffres puis réessayez.")
    return DomainError("PIN_WRONG", message)


def wipe(pin: bytearray | None) -> None:
    """Overwrite the code with zeros in place (the buffer keeps its length)."""
    if pin is not None:
        pin[:] = bytes(len(pin))
