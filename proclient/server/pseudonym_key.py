"""The pseudonymisation key in a file of its own, outside the database.

The key is the HMAC key that names patients in the audit trail (``Storage.patient_ref``) and
keys the idempotency records' request hashes. Kept in the same database as the audit, it
would let anyone holding a copy of the database (a backup, a dump) link every audit line
back to a patient; in a file (32 random bytes, base64, mode 0600) next to the TLS key, it
stays on the service host.

:func:`load_pseudonym_key` reads the file, or creates it on first start: from the key an
older release kept in the database's ``meta`` table when there is one (so that existing
audit references still match; the database then forgets it, see ``Storage.initialize``),
else from fresh random bytes. It refuses to start, with one French sentence, when the file
and the database disagree: the database's key differs from the file's, or the database was
used with a key whose file is missing here (a second host on one PostgreSQL database needs
a copy of the first host's file, not a new key).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import secrets
from pathlib import Path

from proclient.core.domain import DomainError
from proclient.core.fileutil import file_lock, write_private
from proclient.core.i18n import _
from proclient.server.storage import Storage, pseudonym_key_check

log = logging.getLogger("proclient.server")

KEY_FILE_NAME = "dmp-pseudonym.key"
KEY_SIZE = 32


def _config_error(message: str) -> DomainError:
    return DomainError("SERVER_CONFIG", message)


def _decode(data: bytes) -> bytes | None:
    if len(data) == KEY_SIZE:  # raw bytes
        return data
    try:
        key = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_SIZE else None


def read_key_file(path: Path) -> bytes | None:
    """The key in ``path`` (base64 text or 32 raw bytes), or None when there is no file.
    A file others may read is made private (0600)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        raise _config_error(
            _(
                "Le fichier de clé de pseudonymisation {path} est illisible : vérifiez ses "
                "droits (server.pseudonym_key).",
                path=path,
            )
        ) from None
    key = _decode(data)
    if key is None:
        raise _config_error(
            _(
                "Le fichier {path} ne contient pas une clé de pseudonymisation de 32 octets "
                "(base64) : reprenez le fichier d'origine (server.pseudonym_key).",
                path=path,
            )
        )
    if os.name == "posix" and path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("pseudonym key file was readable by others: now 0600")
    return key


def load_pseudonym_key(path: Path | str, database: str | Path) -> bytes:
    """The pseudonymisation key of the service on ``database``, kept in ``path``: read, or
    made on first start (see the module). Processes starting together on one host take
    turns (a lock file next to the key)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with file_lock(path.with_name(f".{path.name}.lock")):
        key = read_key_file(path)
        storage = Storage(database)
        try:
            legacy, check = storage.pseudonym_state()
        finally:
            storage.close()
        if key is not None:
            if legacy is not None and not hmac.compare_digest(legacy, key):
                raise _config_error(
                    _(
                        "La base du service DMP contient une clé de pseudonymisation différente "
                        "de celle du fichier {path} : le service ne démarre pas, pour ne pas "
                        "mélanger deux clés dans le journal d'audit. Retirez le fichier {path} "
                        "pour reprendre la clé de la base, ou indiquez le bon fichier "
                        "(server.pseudonym_key).",
                        path=path,
                    )
                )
            if check is not None and not hmac.compare_digest(check, pseudonym_key_check(key)):
                raise _config_error(
                    _(
                        "Le fichier de clé de pseudonymisation {path} n'est pas celui de cette "
                        "base du service DMP : indiquez le fichier qui a servi avec cette base "
                        "(server.pseudonym_key).",
                        path=path,
                    )
                )
            return key
        if legacy is not None:
            key, origin = legacy, "moved from the database"
        elif check is not None:
            raise _config_error(
                _(
                    "Cette base du service DMP a déjà une clé de pseudonymisation, mais le "
                    "fichier {path} n'existe pas : copiez-y le fichier de clé de l'autre "
                    "serveur, ou indiquez son chemin (server.pseudonym_key).",
                    path=path,
                )
            )
        else:
            key, origin = secrets.token_bytes(KEY_SIZE), "new"
        write_private(path, base64.b64encode(key) + b"\n")
        log.info("pseudonym key file created (%s)", origin)
        return key
