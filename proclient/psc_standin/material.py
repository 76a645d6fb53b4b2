"""The stand-in's own secrets: its client registration and its signing key.

Made at first run in a directory (like the demo PKI), kept readable by the owner only (0600,
written atomically by :func:`proclient.core.fileutil.write_private`), and reused after: the
service's settings can point at the same client secret file run after run, and the key id
(the RFC 7638 thumbprint of the public key) stays the same while the key file does.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from joserfc.jwk import RSAKey

from proclient.core.fileutil import file_lock, write_private

DEFAULT_CLIENT_ID = "proclient-demo"
CLIENT_FILE = "client.json"
CLIENT_SECRET_FILE = "client-secret"  # the secret alone, for psc_client_secret_file
SIGNING_KEY_FILE = "signing-key.pem"
LOCK_FILE = ".material.lock"


@dataclass(frozen=True)
class StandInMaterial:
    client_id: str
    client_secret: str = field(repr=False)
    signing_key_path: Path

    @property
    def client_secret_path(self) -> Path:
        """The 0600 file holding the client secret alone (what a service's
        ``psc_client_secret_file`` setting names)."""
        return self.signing_key_path.parent / CLIENT_SECRET_FILE

    def signing_key(self) -> RSAKey:
        """The provider's RSA private key, with its stable ``kid``, ``alg`` RS256, ``use`` sig."""
        return load_signing_key(self.signing_key_path)


def load_signing_key(path: Path) -> RSAKey:
    key = RSAKey.import_key(path.read_bytes())
    return RSAKey.import_key(
        path.read_bytes(), {"kid": key.thumbprint(), "alg": "RS256", "use": "sig"}
    )


def _read_client(directory: Path) -> tuple[str, str] | None:
    try:
        data = json.loads((directory / CLIENT_FILE).read_text(encoding="utf-8"))
        client_id, client_secret = data["client_id"], data["client_secret"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (isinstance(client_id, str) and isinstance(client_secret, str)):
        return None
    if not client_id or len(client_secret) < 32:
        return None
    return client_id, client_secret


def _key_usable(path: Path) -> bool:
    try:
        key = RSAKey.import_key(path.read_bytes())
    except (OSError, ValueError):
        return False
    return key.is_private and key.as_dict(private=False).get("kty") == "RSA"


def ensure_standin_material(
    directory: Path, *, client_id: str = DEFAULT_CLIENT_ID
) -> StandInMaterial:
    """The stand-in's client id, client secret and signing key in ``directory``: made at the
    first call (0600 files, the folder 0700), read back at the next ones. Two processes
    starting at once take turns (a lock file), so they share one set."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_path = directory / SIGNING_KEY_FILE
    with file_lock(directory / LOCK_FILE):
        client = _read_client(directory)
        if client is None:
            client = (client_id, secrets.token_urlsafe(32))
            document = {"client_id": client[0], "client_secret": client[1]}
            write_private(directory / CLIENT_FILE, json.dumps(document).encode("utf-8"))
            write_private(directory / CLIENT_SECRET_FILE, client[1].encode("ascii"))
        elif not (directory / CLIENT_SECRET_FILE).is_file():
            write_private(directory / CLIENT_SECRET_FILE, client[1].encode("ascii"))
        if not _key_usable(key_path):
            key = RSAKey.generate_key(2048, private=True)
            write_private(key_path, key.as_pem(private=True))
    for name in (CLIENT_FILE, CLIENT_SECRET_FILE, SIGNING_KEY_FILE):
        if os.name == "posix":
            os.chmod(directory / name, 0o600)
    return StandInMaterial(client[0], client[1], key_path)
