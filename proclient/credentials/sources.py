"""Where the professional's credential comes from: a key file, or the CPS through PKCS#11.

A source knows who it is for (``label``, ``hint``), what the card says about its code
(``pin_status``) and how to unlock it with the code (``unlock``: blocking, the bytearray is
wiped before it returns). ``present`` tells whether the professional's card is in its reader
(the demo's virtual CPS): without it the credential is refused, as a pulled CPS is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from proclient.credentials.base import Credential
from proclient.credentials.pin import PinStatus, wipe


class SoftwareCredentialSource:
    """A software key and its certificate (demo without SoftHSM2, training)."""

    def __init__(
        self,
        key_path: Path,
        cert_path: Path,
        label: str,
        hint: str = "",
        present: Callable[[], bool] | None = None,
    ) -> None:
        self.key_path, self.cert_path = key_path, cert_path
        self.label, self.hint = label, hint
        self.present = present

    def _require_card(self) -> None:
        if self.present is not None and not self.present():
            from proclient.credentials.pkcs11 import cps_absent

            raise cps_absent()

    def pin_status(self) -> PinStatus:
        """A key file counts no tries: nothing to warn about (blocking)."""
        self._require_card()
        return PinStatus()

    def unlock(self, pin: str | bytearray) -> Credential:
        from proclient.credentials.software import SoftwareCredential

        try:
            self._require_card()
            return SoftwareCredential.unlock(self.key_path, self.cert_path, pin)
        finally:
            if isinstance(pin, bytearray):
                wipe(pin)


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
    ) -> None:
        from proclient.credentials.pkcs11 import CpsToken

        super().__init__(Path(), Path(), label, hint, present)
        extra = {"boundary": boundary} if boundary is not None else {}
        self.token = CpsToken(
            module_path, token_label=token_label, environment=environment, **extra
        )

    def pin_status(self) -> PinStatus:
        self._require_card()
        return self.token.pin_status()

    def unlock(self, pin: str | bytearray) -> Credential:
        buffer = bytearray(pin.encode()) if isinstance(pin, str) else pin
        try:
            self._require_card()
            return self.token.unlock(buffer)
        finally:
            wipe(buffer)
