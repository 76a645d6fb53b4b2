"""The outbox's encryption key, kept outside the data folder.

In the system keyring (through ``keyring``) where one works; otherwise in a key file readable
by the user only (0600) in the config dir. A key file, once made, is preferred over the
keyring (it was made because the keyring did not work then): the entries it encrypted stay
readable when a keyring appears later.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from pathlib import Path

from proclient.core.fileutil import file_lock, write_private

log = logging.getLogger(__name__)

KEYRING_SERVICE = "proclient"
KEYRING_USERNAME = "outbox-key"
KEY_FILE_NAME = "outbox.key"
KEY_BYTES = 32  # AES-256-GCM


def key_id(key: bytes) -> str:
    """A short name for ``key`` (not the key): tells a missing key from a tampered entry."""
    return hashlib.sha256(b"proclient outbox key id\0" + key).hexdigest()[:16]


def _decode(text: str | bytes | None) -> bytes | None:
    if not text:
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


class OutboxKey:
    """Finds or makes the key: ``where`` says which store holds it ("keyring" or "file")."""

    def __init__(self, config_dir: Path, *, use_keyring: bool = True) -> None:
        self.key_file = Path(config_dir) / KEY_FILE_NAME
        self.use_keyring = use_keyring
        self.where = ""

    # --- the keyring, any failure meaning "none here" ------------------------------------

    def _keyring_get(self) -> bytes | None:
        if not self.use_keyring:
            return None
        try:
            import keyring

            return _decode(keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME))
        except Exception as error:  # ImportError, NoKeyringError, a locked D-Bus wallet…
            log.info("outbox key: no keyring (%s)", type(error).__name__)
            return None

    def _keyring_set(self, key: bytes) -> bool:
        if not self.use_keyring:
            return False
        try:
            import keyring

            keyring.set_password(
                KEYRING_SERVICE, KEYRING_USERNAME, base64.b64encode(key).decode("ascii")
            )
        except Exception as error:
            log.info("outbox key: keyring refused the key (%s)", type(error).__name__)
            return False
        # Some backends accept and forget (a null keyring): trust it only when it reads back.
        return self._keyring_get() == key

    # --- the key file ------------------------------------------------------------------------

    def _file_get(self) -> bytes | None:
        try:
            return _decode(self.key_file.read_bytes().strip())
        except FileNotFoundError:
            return None

    def load(self) -> bytes | None:
        """The existing key, or None (never makes one)."""
        key = self._file_get()
        if key is not None:
            self.where = "file"
            return key
        key = self._keyring_get()
        if key is not None:
            self.where = "keyring"
        return key

    def load_or_create(self) -> bytes:
        """The key, made and stored on first use."""
        key = self.load()
        if key is not None:
            return key
        self.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(self.key_file.with_name(KEY_FILE_NAME + ".lock")):
            key = self.load()  # another process may have made it meanwhile
            if key is not None:
                return key
            key = secrets.token_bytes(KEY_BYTES)
            if self._keyring_set(key):
                self.where = "keyring"
            else:
                write_private(self.key_file, base64.b64encode(key) + b"\n")
                self.where = "file"
        return key
