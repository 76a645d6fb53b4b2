"""The outbox on disk: one AES-256-GCM encrypted file per recorded creation.

A file is ``<id>.entry`` where the id is random (no patient data in names); its content is a
JSON envelope: the version, the id, the key's id and the nonce in clear (they are the AAD, so
renaming or editing them breaks the tag), and the ciphertext of everything else, metadata
included (state and reason too: the list decrypts each entry). Writes are atomic and fsynced;
``done`` deletes the file.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
from pathlib import Path

from proclient.core.capture import RecordInvalid, canonical_json, parse_record
from proclient.core.fileutil import fsync_directory, sweep_stale_temporaries, write_private
from proclient.outbox.keys import OutboxKey, key_id
from proclient.outbox.port import (
    EntryState,
    EntrySummary,
    EntryTampered,
    OutboxEntry,
    OutboxKeyMissing,
    UnknownEntry,
    patient_mask,
)

VERSION = 1
SUFFIX = ".entry"
_ID = re.compile(r"^[0-9a-f]{32}$")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class EncryptedOutbox:
    """The outbox port over a folder (created mode 700) and a key from :class:`OutboxKey`."""

    def __init__(self, directory: Path, key: OutboxKey) -> None:
        self.directory = Path(directory)
        self._keys = key
        self._key: bytes | None = None

    # --- the key -----------------------------------------------------------------------------

    def _cipher(self, *, create: bool):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._key is None:
            self._key = self._keys.load_or_create() if create else self._keys.load()
            if self._key is None:
                raise OutboxKeyMissing()
        return AESGCM(self._key)

    # --- files -------------------------------------------------------------------------------

    def _path(self, entry_id: str) -> Path:
        if not _ID.match(entry_id):
            raise UnknownEntry()
        return self.directory / f"{entry_id}{SUFFIX}"

    @staticmethod
    def _aad(envelope: dict) -> bytes:
        return canonical_json({k: envelope[k] for k in ("v", "id", "key_id", "nonce")})

    def _write(self, entry_id: str, payload: dict) -> None:
        cipher = self._cipher(create=True)
        assert self._key is not None
        envelope = {
            "v": VERSION,
            "id": entry_id,
            "key_id": key_id(self._key),
            "nonce": _b64(secrets.token_bytes(12)),
        }
        ciphertext = cipher.encrypt(
            base64.b64decode(envelope["nonce"]), canonical_json(payload), self._aad(envelope)
        )
        envelope["ct"] = _b64(ciphertext)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self._path(entry_id), canonical_json(envelope))

    def _read(self, entry_id: str) -> dict:
        path = self._path(entry_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise UnknownEntry() from None
        from cryptography.exceptions import InvalidTag

        try:
            envelope = json.loads(raw)
            if envelope["v"] != VERSION or envelope["id"] != entry_id:
                raise EntryTampered()
            nonce = base64.b64decode(envelope["nonce"], validate=True)
            ciphertext = base64.b64decode(envelope["ct"], validate=True)
            aad = self._aad(envelope)
        except (ValueError, KeyError, TypeError):
            raise EntryTampered() from None
        cipher = self._cipher(create=False)
        assert self._key is not None
        if envelope["key_id"] != key_id(self._key):
            # Another key made this file (or its key id was edited, which GCM would catch
            # too): without that key nothing can be told, so it is not called tampered.
            raise OutboxKeyMissing()
        try:
            return json.loads(cipher.decrypt(nonce, ciphertext, aad))
        except (InvalidTag, ValueError):
            raise EntryTampered() from None

    def _ids(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return [p.stem for p in self.directory.glob(f"*{SUFFIX}") if _ID.match(p.stem)]

    # --- the port ----------------------------------------------------------------------------

    def put(self, entry: OutboxEntry) -> str:
        entry_id = secrets.token_hex(16)
        self._write(
            entry_id,
            {
                "record": _b64(entry.record),
                "idempotency_key": entry.idempotency_key,
                "signature": _b64(entry.signature),
                "certificate_pem": entry.certificate_pem.decode("ascii"),
                "state": EntryState.PENDING.value,
                "reason": "",
            },
        )
        return entry_id

    def get(self, entry_id: str) -> OutboxEntry:
        payload = self._read(entry_id)
        try:
            return OutboxEntry(
                capture=parse_record(base64.b64decode(payload["record"], validate=True)),
                idempotency_key=payload["idempotency_key"],
                signature=base64.b64decode(payload["signature"]),
                certificate_pem=payload["certificate_pem"].encode("ascii"),
                accepted=bool(payload.get("accepted", False)),
            )
        except (KeyError, TypeError, ValueError, RecordInvalid):
            # Authentic but unreadable: a format this version does not know.
            raise EntryTampered() from None

    def list(self) -> list[EntrySummary]:
        # A write killed mid-way leaves its (encrypted) temporary file: swept here.
        sweep_stale_temporaries(self.directory)
        summaries = []
        for entry_id in self._ids():
            try:
                payload = self._read(entry_id)
            except UnknownEntry:
                continue  # done by another process meanwhile
            except EntryTampered:
                summaries.append(
                    EntrySummary(entry_id, None, "", EntryState.TAMPERED, "OUTBOX_TAMPERED")
                )
                continue
            try:
                # Who, when and for whom are the signed record's (not kept twice in the entry).
                capture = parse_record(base64.b64decode(payload["record"], validate=True))
            except (KeyError, TypeError, ValueError, RecordInvalid):
                summaries.append(
                    EntrySummary(entry_id, None, "", EntryState.TAMPERED, "OUTBOX_TAMPERED")
                )
                continue
            summaries.append(
                EntrySummary(
                    id=entry_id,
                    captured_at=capture.captured_at,
                    id_nat=capture.id_nat,
                    state=EntryState(payload["state"]),
                    reason=payload["reason"],
                    patient=patient_mask(capture.held),
                )
            )
        return sorted(summaries, key=lambda s: (s.captured_at is None, s.captured_at, s.id))

    def mark(self, entry_id: str, state: EntryState, reason: str = "") -> None:
        if state is EntryState.TAMPERED:
            raise ValueError("TAMPERED is found, not set")
        payload = self._read(entry_id)
        payload["state"], payload["reason"] = state.value, reason
        self._write(entry_id, payload)

    def accept(self, entry_id: str) -> None:
        payload = self._read(entry_id)
        payload["accepted"] = True
        payload["state"], payload["reason"] = EntryState.PENDING.value, ""
        self._write(entry_id, payload)

    def done(self, entry_id: str) -> None:
        path = self._path(entry_id)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise UnknownEntry() from None
        with contextlib.suppress(OSError):
            fsync_directory(self.directory)
