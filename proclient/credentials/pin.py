"""The holder's code (code porteur): what the card says about it, and how it is wiped.

A CPS card allows 3 tries, then blocks (DOMAIN.md §3). PKCS#11 does not give the count; it
gives token flags: CKF_USER_PIN_COUNT_LOW (a wrong code was entered), CKF_USER_PIN_FINAL_TRY
(one try left) and CKF_USER_PIN_LOCKED (blocked). The number of tries left is derived from
them for a card of 3 tries (:data:`CPS_PIN_TRIES`): COUNT_LOW without FINAL_TRY means one
wrong code since the last right one, so 2 tries left; FINAL_TRY means 1; LOCKED, none. When
the count is known for sure (the demo card counts its own wrong codes) it is given instead.
The screens show all of it as French sentences, with the number.

A code of the wrong length (a CPS code porteur has 4 to 8 digits, or what the token's
ulMinPinLen/ulMaxPinLen say) is refused before it reaches the card: no try is spent on it.

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

from proclient.core.domain import DomainError
from proclient.core.i18n import _

CKF_USER_PIN_COUNT_LOW = 0x00010000
CKF_USER_PIN_FINAL_TRY = 0x00020000
CKF_USER_PIN_LOCKED = 0x00040000

CPS_PIN_TRIES = 3  # wrong codes a CPS takes before it blocks
PIN_LENGTH = 4  # a CPS code porteur is 4 digits
PIN_MIN_LENGTH = 4  # the lengths a code porteur may have when the token does not say
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


_DERIVED_TRIES = {PinState.COUNT_LOW: CPS_PIN_TRIES - 1, PinState.FINAL_TRY: 1, PinState.LOCKED: 0}


def pin_state_from_tries(tries_left: int, tries: int = CPS_PIN_TRIES) -> PinState:
    """The state a card that counts its tries is in (the demo card)."""
    if tries_left <= 0:
        return PinState.LOCKED
    if tries_left == 1:
        return PinState.FINAL_TRY
    if tries_left < tries:
        return PinState.COUNT_LOW
    return PinState.OK


@dataclass(frozen=True)
class PinStatus:
    """What the PIN screen shows before the code is typed."""

    state: PinState = PinState.OK
    holder: str = ""  # who the card names ("Claire MARTIN, pharmacien"), when it was read
    tries: int | None = None  # tries left when the token counts them; else derived (tries_left)
    demo: bool = False  # the demo card: it can be unblocked without a PUK

    @property
    def locked(self) -> bool:
        return self.state is PinState.LOCKED

    @property
    def tries_left(self) -> int | None:
        """Tries left before the card blocks: counted, or derived from the flags for a CPS of
        3 tries; None when the card says nothing is wrong (all its tries are left)."""
        if self.tries is not None:
            return self.tries
        return _DERIVED_TRIES.get(self.state)

    @property
    def warning(self) -> str:
        """One French sentence for the screen, empty when there is nothing to say."""
        if self.locked:
            return locked_message(demo=self.demo)
        left = self.tries_left
        if self.state is PinState.OK or left is None:
            return ""
        if left <= 1:
            return _("Attention : dernier essai avant le blocage de la carte CPS.")
        return _("Attention : il reste {n} essais avant le blocage de la carte CPS.", n=left)


def locked_message(demo: bool = False) -> str:
    """What a blocked card means and what to do (the demo card says its own way out too)."""
    text = _(
        "Carte CPS bloquée : trop de codes porteur erronés, il ne reste aucun essai. "
        "Débloquez-la avec son code de déblocage (PUK), par le service « CPS en ligne » de "
        "l'ANS ou auprès de l'émetteur de la carte, puis réessayez."
    )
    if demo:
        text += " " + _(
            "Démonstration : F7 débloque la carte de démonstration (ou « proclient demo --reset »)."
        )
    return text


def pin_locked(demo: bool = False) -> DomainError:
    return DomainError("PIN_LOCKED", locked_message(demo))


def pin_wrong(state: PinState = PinState.OK, tries_left: int | None = None, demo: bool = False):
    """A wrong code; the sentence says how many tries are left (counted by the card, or
    derived from its flags: see the module's docstring)."""
    if tries_left is None:
        tries_left = _DERIVED_TRIES.get(state)
    if state is PinState.LOCKED or tries_left == 0:
        return pin_locked(demo)
    if tries_left == 1:
        message = _(
            "Code porteur incorrect : dernier essai avant le blocage de la carte. "
            "Vérifiez le code avant de le saisir."
        )
    elif tries_left is not None:
        message = _(
            "Code porteur incorrect : il reste {n} essais avant le blocage de la carte.",
            n=tries_left,
        )
    else:
        message = _("Code porteur incorrect : vérifiez les 4 chiffres puis réessayez.")
    return DomainError("PIN_WRONG", message)


def check_length(
    pin: bytes | bytearray | str,
    shortest: int = PIN_MIN_LENGTH,
    longest: int = PIN_MAX_LENGTH,
) -> None:
    """Refuse a code of the wrong length before it reaches the card (no try is spent).

    Raises DomainError PIN_LENGTH with the lengths allowed and the length typed."""
    if shortest <= len(pin) <= longest:
        return
    if shortest == longest:
        allowed = _("Le code porteur compte {n} chiffres", n=shortest)
    else:
        allowed = _("Le code porteur compte de {low} à {high} chiffres", low=shortest, high=longest)
    raise DomainError(
        "PIN_LENGTH",
        allowed
        + _(
            " : {n} saisi(s). Il n'a pas été présenté à la carte, aucun essai n'est décompté ; "
            "saisissez-le de nouveau.",
            n=len(pin),
        ),
    )


def wipe(pin: bytearray | None) -> None:
    """Overwrite the code with zeros in place (the buffer keeps its length)."""
    if pin is not None:
        pin[:] = bytes(len(pin))
