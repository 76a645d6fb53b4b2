"""Where the professional's credential comes from: a key file, or the CPS through PKCS#11.

A source knows who it is for (``label``, ``hint``), what the card says about its code
(``pin_status``) and how to unlock it with the code (``unlock``: blocking, the bytearray is
wiped before it returns). ``present`` tells whether the professional's card is in its reader
(the demo's virtual CPS): without it the credential is refused, as a pulled CPS is.

A code of the wrong length is refused before it is tried (no try spent). The demo card is
given ``tries`` (a :class:`~proclient.credentials.demo_tries.DemoPinCounter`): it then counts
wrong codes and blocks after three, as a CPS does, and ``unblock_demo`` gives its tries back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from proclient.core.domain import DomainError
from proclient.credentials.base import Credential
from proclient.credentials.pin import (
    PinStatus,
    check_length,
    pin_locked,
    pin_state_from_tries,
    pin_wrong,
    wipe,
)


class SoftwareCredentialSource:
    """A software key and its certificate (demo without SoftHSM2, training)."""

    def __init__(
        self,
        key_path: Path,
        cert_path: Path,
        label: str,
        hint: str = "",
        present: Callable[[], bool] | None = None,
        tries=None,
    ) -> None:
        self.key_path, self.cert_path = key_path, cert_path
        self.label, self.hint = label, hint
        self.present = present
        self.tries = tries  # the demo card's DemoPinCounter, or None

    def _require_card(self) -> None:
        if self.present is not None and not self.present():
            from proclient.credentials.pkcs11 import cps_absent

            raise cps_absent()

    def pin_status(self) -> PinStatus:
        """What the card says about its code (blocking)."""
        self._require_card()
        status = self._card_status()
        if self.tries is None:
            return status
        left = self.tries.tries_left()
        return PinStatus(pin_state_from_tries(left), status.holder, tries=left, demo=True)

    def unlock(self, pin: str | bytearray) -> Credential:
        """One attempt with ``pin`` (wiped before returning, whatever happens)."""
        buffer = bytearray(pin.encode()) if isinstance(pin, str) else pin
        try:
            self._require_card()
            if self.tries is None:
                return self._unlock(buffer)
            if self.tries.tries_left() <= 0:
                raise pin_locked(demo=True)  # a blocked card takes no code
            try:
                credential = self._unlock(buffer)
            except DomainError as error:
                if error.code != "PIN_WRONG":
                    raise
                raise pin_wrong(tries_left=self.tries.failed(), demo=True) from None
            self.tries.reset()
            return credential
        finally:
            wipe(buffer)

    def unblock_demo(self) -> PinStatus:
        """The demo card's tries back (no PUK in the demo); its new status."""
        if self.tries is None:
            raise DomainError("PIN_LOCKED", pin_locked().message)  # a real card: the PUK
        self.tries.reset()
        return self.pin_status()

    # --- what the source itself does (a key file: no count of its own) --------------------------

    def _card_status(self) -> PinStatus:
        """A key file counts no tries: nothing to warn about."""
        return PinStatus()

    def _unlock(self, pin: bytearray) -> Credential:
        from proclient.credentials.software import SoftwareCredential

        check_length(pin)  # as a CPS would, whatever the key file's password
        return SoftwareCredential.unlock(self.key_path, self.cert_path, pin)


class Pkcs11CredentialSource(SoftwareCredentialSource):
    """The CPS card through a PKCS#11 module (Cryptolib CPS or OpenSC; SoftHSM2 in the demo,
    with its private ``environment``)."""

    def __init__(
        self,
        module_path: str,
        label: str,
        hint: str = "",
        *,
        token_label: str | None = None,
        environment: dict[str, str] | None = None,
        present: Callable[[], bool] | None = None,
        boundary=None,
        tries=None,
    ) -> None:
        from proclient.credentials.pkcs11 import CpsToken

        super().__init__(Path(), Path(), label, hint, present, tries)
        extra = {"boundary": boundary} if boundary is not None else {}
        self.token = CpsToken(
            module_path, token_label=token_label, environment=environment, **extra
        )

    def _card_status(self) -> PinStatus:
        return self.token.pin_status()

    def _unlock(self, pin: bytearray) -> Credential:
        return self.token.unlock(pin)
