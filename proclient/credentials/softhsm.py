"""SoftHSM2 as a CPS card: a private token store holding a professional's key and certificate.

SoftHSM2 (Debian package ``softhsm2``) is a real PKCS#11 module that keeps its tokens in
files. The demo and the tests give it a private configuration (SOFTHSM2_CONF, set only while
the module initialises) and token directory, so nothing outside that folder is touched. The
objects are laid out like a CPS: the key CPS_PRIV_AUT (private, sensitive, not extractable)
and the "Certificat d'Authentification CPS", sharing one CKA_ID.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from proclient.core.fileutil import file_lock
from proclient.credentials.pkcs11 import AUTH_CERT_LABEL, AUTH_KEY_LABEL
from proclient.credentials.pkcs11_module import Pkcs11Module

DEMO_TOKEN_LABEL = "CPS DEMO"

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)


def find_softhsm() -> str | None:
    """The SoftHSM2 module's path when SoftHSM2 and its tool are installed, else None."""
    import importlib.util

    if shutil.which("softhsm2-util") is None or importlib.util.find_spec("pkcs11") is None:
        return None
    override = os.environ.get("PROCLIENT_SOFTHSM_MODULE")
    for candidate in (override,) if override else _MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


@dataclass(frozen=True)
class SoftHsmStore:
    """A private SoftHSM2 token store in ``directory``."""

    directory: Path
    module_path: str

    @property
    def conf_path(self) -> Path:
        return self.directory / "softhsm2.conf"

    @property
    def tokens_dir(self) -> Path:
        return self.directory / "tokens"

    @property
    def environment(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf_path)}

    def module(self) -> Pkcs11Module:
        return Pkcs11Module.get(self.module_path, self.environment)


def create_store(directory: Path, module_path: str) -> SoftHsmStore:
    """An empty token store (configuration file and token directory), mode 700."""
    store = SoftHsmStore(Path(directory), module_path)
    store.tokens_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store.conf_path.write_text(
        f"directories.tokendir = {store.tokens_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    return store


def init_token(store: SoftHsmStore, label: str, pin: str) -> None:
    """Initialise a new token with the user ``pin`` (the SO code is random and forgotten)."""
    result = subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            pin,
            "--so-pin",
            secrets.token_hex(8),
        ],
        env={**os.environ, **store.environment},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"softhsm2-util --init-token failed ({result.returncode})")
    # A new token appears in a module that is already initialised only after a re-init.
    store.module().reinitialize()


def import_credential(
    store: SoftHsmStore,
    label: str,
    pin: str,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    *,
    key_label: str = AUTH_KEY_LABEL,
    cert_label: str = AUTH_CERT_LABEL,
    key_id: bytes | None = None,
) -> None:
    """Put ``key`` and ``certificate`` on the token ``label`` as a CPS holds them: by default
    its authentication pair (CPS_PRIV_AUT), or another pair of the card under its labels."""
    from pkcs11 import Attribute
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    if key_id is None:
        key_id = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    key_attributes = decode_rsa_private_key(der_key)
    key_attributes.update(
        {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.LABEL: key_label,
            Attribute.ID: key_id,
        }
    )
    cert_attributes = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
    cert_attributes.update(
        {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: cert_label,
            Attribute.ID: key_id,
        }
    )
    module = store.module()
    with module.lock:
        token = module.lib.get_token(token_label=label)
        with token.open(rw=True, user_pin=pin) as session:
            session.create_object(key_attributes)
            session.create_object(cert_attributes)


def provision_token(
    directory: Path,
    module_path: str,
    label: str,
    pin: str,
    key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
) -> SoftHsmStore:
    """A fresh store in ``directory`` with one CPS-like token (anything there is replaced)."""
    shutil.rmtree(directory, ignore_errors=True)
    store = create_store(directory, module_path)
    init_token(store, label, pin)
    import_credential(store, label, pin, key, certificate)
    return store


def token_certificate(store: SoftHsmStore, label: str) -> bytes | None:
    """The DER of the CPS authentication certificate on token ``label``, if any."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    module = store.module()
    with module.lock:
        try:
            token = module.lib.get_token(token_label=label)
            with token.open() as session:
                for cert in session.get_objects(
                    {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: AUTH_CERT_LABEL}
                ):
                    return bytes(cert[Attribute.VALUE])
        except pkcs11.PKCS11Error:
            return None
    return None


def ensure_demo_token(
    directory: Path, key_path: Path, cert_path: Path, pin: str, module_path: str | None = None
) -> SoftHsmStore | None:
    """The demo's CPS: a SoftHSM2 token in ``directory`` holding the demo professional's key
    (read from ``key_path``, encrypted with ``pin``) and certificate, with that same code.
    Reused when it already holds that certificate; None when SoftHSM2 is not installed."""
    module_path = module_path or find_softhsm()
    if module_path is None:
        return None
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    certificate = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    wanted = certificate.public_bytes(serialization.Encoding.DER)
    # Two demo terminals starting at once must not provision the same store together.
    with file_lock(directory.parent / f".{directory.name}.lock"):
        store = SoftHsmStore(directory, module_path)
        if store.conf_path.is_file() and token_certificate(store, DEMO_TOKEN_LABEL) == wanted:
            return store
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), pin.encode())
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the demo key is not an RSA key")
        return provision_token(directory, module_path, DEMO_TOKEN_LABEL, pin, key, certificate)
