"""The CPS card through PKCS#11: the professional's certificate, the code porteur, signatures.

Real CPS cards are used through a PKCS#11 module: the ANS "Cryptolib CPS", or OpenSC's
opensc-pkcs11.so. The card holds the authentication key CPS_PRIV_AUT and its certificate,
"Certificat d'Authentification CPS"; the key never leaves the card: the service's challenge
is signed on the card (CKM_SHA256_RSA_PKCS, or CKM_RSA_PKCS over a DigestInfo made here when
a module lacks the former). SoftHSM2 stands in for the card in the demo and the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from proclient.core.cps_profile import professional_from_certificate
from proclient.core.domain import DomainError, Professional
from proclient.core.i18n import _
from proclient.credentials.pin import (
    PIN_MAX_LENGTH,
    PIN_MIN_LENGTH,
    PinState,
    PinStatus,
    check_length,
    pin_locked,
    pin_state_from_flags,
    pin_wrong,
    wipe,
)
from proclient.credentials.pkcs11_module import (
    CKR_OK,
    CKR_PIN_INCORRECT,
    CKR_PIN_INVALID,
    CKR_PIN_LEN_RANGE,
    CKR_PIN_LOCKED,
    Pkcs11Module,
    TokenBoundary,
)

AUTH_CERT_LABEL = "Certificat d'Authentification CPS"
AUTH_KEY_LABEL = "CPS_PRIV_AUT"
# DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def cps_absent() -> DomainError:
    return DomainError(
        "CPS_ABSENT",
        _("Aucune carte CPS détectée : insérez votre carte CPS dans le lecteur puis réessayez."),
    )


def cps_unusable() -> DomainError:
    return DomainError(
        "CPS_NO_CERTIFICATE",
        _(
            "La carte insérée ne porte pas de certificat d'authentification CPS lisible : "
            "vérifiez que c'est bien votre carte CPS."
        ),
    )


class Pkcs11Credential:
    """An unlocked CPS: the professional, the certificate, and signatures made on the card."""

    def __init__(
        self,
        boundary: TokenBoundary,
        certificate: x509.Certificate,
        professional: Professional,
        key,
        mechanism,
    ) -> None:
        self._boundary = boundary
        self._certificate = certificate
        self._professional = professional
        self._key = key
        self._mechanism = mechanism
        self._lock = threading.Lock()  # one signature at a time on the card's session

    @property
    def professional(self) -> Professional:
        return self._professional

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def closed(self) -> bool:
        return self._boundary.session is None

    def sign(self, data: bytes) -> bytes:
        """RSA PKCS#1 v1.5 SHA-256 signature of ``data``, made by the card (any thread)."""
        import pkcs11

        with self._lock:
            if self._boundary.session is None:
                raise _session_closed()
            try:
                if self._mechanism == pkcs11.Mechanism.SHA256_RSA_PKCS:
                    return self._boundary.sign(self._key, data, self._mechanism)
                digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
                return self._boundary.sign(self._key, digest_info, self._mechanism)
            except (
                pkcs11.DeviceRemoved,
                pkcs11.TokenNotPresent,
                pkcs11.SessionClosed,
                pkcs11.SessionHandleInvalid,
                pkcs11.UserNotLoggedIn,
            ):
                raise _session_closed() from None

    @contextlib.contextmanager
    def document_signer(self) -> Iterator:
        """pyHanko's PKCS#11 signer on the session the code porteur opened (no second code),
        with the card's signature key (see credentials/pdf_signing.py). The card is this
        thread's meanwhile: nothing else of the process calls the module until it is done."""
        import pkcs11

        from proclient.credentials.pdf_signing import card_signer, signature_key

        with self._lock, self._boundary.module.lock:
            session = self._boundary.session
            if session is None:
                raise _session_closed()
            try:
                auth_id = bytes(self._key[pkcs11.Attribute.ID])
            except pkcs11.PKCS11Error:
                auth_id = b""
            certificate, key_id = signature_key(self._boundary, self._certificate, auth_id)
            raw = self._mechanism != pkcs11.Mechanism.SHA256_RSA_PKCS
            yield card_signer(session, certificate, key_id, raw)

    def close(self) -> None:
        """Log out of the card; signing is then refused until the code is entered again."""
        with self._lock:
            self._boundary.close()

    def __repr__(self) -> str:
        return f"Pkcs11Credential(id_nat={self._professional.id_nat!r})"


def _session_closed() -> DomainError:
    return DomainError(
        "CPS_SESSION_CLOSED",
        _("La session de la carte CPS est fermée : saisissez de nouveau votre code porteur."),
    )


class CpsToken:
    """The CPS in a PKCS#11 module: found by its label, or the first token that holds a CPS
    authentication certificate. Each call looks the token up again: a card may have been
    swapped since."""

    def __init__(
        self,
        module_path: str,
        *,
        token_label: str | None = None,
        environment: Mapping[str, str] | None = None,
        boundary: Callable[[Pkcs11Module, object], TokenBoundary] = TokenBoundary,
    ) -> None:
        self.module_path = module_path
        self.token_label = token_label or None
        self.environment = dict(environment or {})
        self._boundary = boundary

    def _module(self) -> Pkcs11Module:
        return Pkcs11Module.get(self.module_path, self.environment)

    def _find(self) -> tuple[TokenBoundary, x509.Certificate, bytes]:
        """An open (not logged in) session on the CPS, its authentication certificate and
        the certificate's CKA_ID."""
        import pkcs11

        module = self._module()
        try:
            with module.lock:
                slots = module.lib.get_slots(token_present=True)
                tokens = [slot.get_token() for slot in slots]
        except pkcs11.PKCS11Error:
            raise cps_absent() from None
        if self.token_label:
            tokens = [t for t in tokens if t.label == self.token_label]
        for token in tokens:
            boundary = self._boundary(module, token)
            try:
                boundary.open()
                found = _authentication_certificate(boundary.certificates())
            except (pkcs11.TokenNotPresent, pkcs11.DeviceRemoved, pkcs11.TokenNotRecognised):
                boundary.close()
                continue
            except pkcs11.PKCS11Error:
                boundary.close()
                raise cps_unusable() from None
            if found is not None:
                return boundary, *found
            boundary.close()
        if self.token_label and tokens:
            raise cps_unusable()
        raise cps_absent()

    def pin_status(self) -> PinStatus:
        """What the card's flags say about the code porteur (tries left, blocked)."""
        boundary, certificate, _id = self._find()
        try:
            who = professional_from_certificate(certificate)
            holder = f"{who.display_name}, {who.profession}"
            return PinStatus(pin_state_from_flags(boundary.token_flags()), holder)
        except ValueError:
            raise cps_unusable() from None
        finally:
            boundary.close()

    def unlock(self, pin: bytearray) -> Pkcs11Credential:
        """Log in with ``pin`` (wiped before returning, whatever happens) and return the
        credential. One attempt only: a wrong code is never tried again by itself."""
        import pkcs11

        try:
            boundary, certificate, cert_id = self._find()
            try:
                return self._login(boundary, certificate, cert_id, pin)
            except BaseException:
                boundary.close()
                raise
        except pkcs11.PKCS11Error:
            raise cps_absent() from None
        finally:
            wipe(pin)

    def _login(
        self, boundary: TokenBoundary, certificate: x509.Certificate, cert_id: bytes, pin: bytearray
    ) -> Pkcs11Credential:
        try:
            professional = professional_from_certificate(certificate)
        except ValueError:
            raise cps_unusable() from None
        # A blocked card is not tried: the attempt could only fail, and says nothing new.
        if pin_state_from_flags(boundary.token_flags()) is PinState.LOCKED:
            raise pin_locked()
        # A code of the wrong length would only spend a try: refused here, never sent.
        check_length(pin, *(boundary.pin_lengths() or (PIN_MIN_LENGTH, PIN_MAX_LENGTH)))
        rv = boundary.login(pin)
        if rv == CKR_PIN_LOCKED:
            raise pin_locked()
        if rv in (CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE):
            raise pin_wrong(pin_state_from_flags(boundary.token_flags()))
        if rv != CKR_OK:
            raise cps_absent()
        key = _authentication_key(boundary.private_keys(), cert_id)
        if key is None:
            raise cps_unusable()
        return Pkcs11Credential(
            boundary, certificate, professional, key, _mechanism(boundary.mechanisms())
        )


def _authentication_certificate(
    certificates: list[tuple[str, bytes, bytes]],
) -> tuple[x509.Certificate, bytes] | None:
    """The certificate labelled as the CPS authentication one, or else the first that names a
    professional and allows digital signatures (cards from other issuers label differently)."""
    ordered = sorted(certificates, key=lambda item: item[0] != AUTH_CERT_LABEL)
    for label, cert_id, der in ordered:
        try:
            certificate = x509.load_der_x509_certificate(der)
            if label != AUTH_CERT_LABEL:
                professional_from_certificate(certificate)
                usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
                if not usage.digital_signature or usage.content_commitment:
                    continue  # the signature (non-repudiation) certificate is not for login
        except (ValueError, x509.ExtensionNotFound):
            continue
        return certificate, cert_id
    return None


def _authentication_key(keys: list[tuple[str, bytes, object]], cert_id: bytes):
    """The private key with the certificate's CKA_ID, else the one labelled CPS_PRIV_AUT."""
    for _label, key_id, key in keys:
        if cert_id and key_id == cert_id:
            return key
    return next((key for label, _id, key in keys if label == AUTH_KEY_LABEL), None)


def _mechanism(available: set):
    import pkcs11

    if pkcs11.Mechanism.SHA256_RSA_PKCS in available or not available:
        return pkcs11.Mechanism.SHA256_RSA_PKCS
    return pkcs11.Mechanism.RSA_PKCS
