"""The outbox on disk: round trip, nothing in clear, tampering refused, done means gone."""

from __future__ import annotations

import base64
import json
import stat
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from proclient.outbox.entry import capture
from proclient.outbox.keys import KEY_FILE_NAME, OutboxKey
from proclient.outbox.port import (
    EntryState,
    EntryTampered,
    OutboxKeyMissing,
    UnknownEntry,
)
from proclient.outbox.store import EncryptedOutbox
from tests.outbox.conftest import signature_is_valid

CAPTURED = datetime(2026, 11, 28, 16, 5, tzinfo=UTC)
NIR = "114067511203551"  # Hugo DURAND, the minor of conftest.minor_request
NEEDLES = [NIR, NIR[:13], "1 14 06 75 112 035 51", "DURAND", "Durand", "Hugo", "HUGO", "Sophie"]
NEEDLES += ["20140610", "2014-06-10"]


def clear_text_hits(*roots):
    """(file name, needle) for each patient datum found in clear in a file or a file name."""
    hits = []
    for path in (p for root in roots for p in root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits += [(path.name, n) for n in NEEDLES if n.encode() in content or n in path.name]
    return hits


def only_file(outbox: EncryptedOutbox):
    (path,) = outbox.directory.glob("*.entry")
    return path


def test_recorded_creation_reads_back_as_captured(outbox, credential, minor_request):
    entry = capture(*minor_request, credential, now=CAPTURED)
    entry_id = outbox.put(entry)

    again = outbox.get(entry_id)
    assert again == entry
    assert again.capture.legal_representative.first_name == "Sophie"
    assert again.id_nat == "810002345678"
    assert signature_is_valid(again)
    (summary,) = outbox.list()
    assert (summary.id, summary.captured_at, summary.id_nat) == (entry_id, CAPTURED, "810002345678")
    assert (summary.state, summary.reason) == (EntryState.PENDING, "")


def test_consent_record_signature_covers_the_capture_time(credential, minor_request):
    entry = capture(*minor_request, credential, now=CAPTURED)
    assert signature_is_valid(entry)
    later = replace(entry.capture, captured_at=datetime(2026, 11, 29, tzinfo=UTC))
    assert not signature_is_valid(replace(entry, capture=later))
    other = replace(entry.capture, id_nat="810009999999")
    assert not signature_is_valid(replace(entry, capture=other))


def test_a_creation_without_consent_is_never_recorded(credential, minor_request):
    held, document, consent, rep = minor_request
    with pytest.raises(ValueError):
        capture(held, document, replace(consent, creation=False), rep, credential)


def test_no_patient_data_in_clear_in_data_or_config_dir(homes, outbox, credential, minor_request):
    outbox.put(capture(*minor_request, credential, now=CAPTURED))
    outbox.mark(outbox.list()[0].id, EntryState.HELD, "DMP_ALREADY_EXISTS")
    data, config = homes
    assert list(data.rglob("*.entry")) and list(config.rglob("*.key"))
    assert clear_text_hits(data, config) == []


def test_the_clear_text_scan_finds_a_name(homes):
    data, _config = homes
    data.mkdir(parents=True)
    (data / "leak.json").write_text('{"last_name": "DURAND"}')
    assert clear_text_hits(data) == [("leak.json", "DURAND")]


def test_tampered_ciphertext_is_refused_and_reported(outbox, credential, minor_request):
    entry_id = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    path = only_file(outbox)
    envelope = json.loads(path.read_bytes())
    ciphertext = bytearray(base64.b64decode(envelope["ct"]))
    ciphertext[5] ^= 0x01
    envelope["ct"] = base64.b64encode(bytes(ciphertext)).decode()
    path.write_text(json.dumps(envelope))

    with pytest.raises(EntryTampered) as refused:
        outbox.get(entry_id)
    assert refused.value.code == "OUTBOX_TAMPERED"
    (summary,) = outbox.list()
    assert (summary.state, summary.reason) == (EntryState.TAMPERED, "OUTBOX_TAMPERED")
    with pytest.raises(EntryTampered):
        outbox.mark(entry_id, EntryState.PENDING)


@pytest.mark.parametrize("field", ["nonce", "id", "v"])
def test_tampered_authenticated_header_is_refused(outbox, credential, minor_request, field):
    entry_id = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    path = only_file(outbox)
    envelope = json.loads(path.read_bytes())
    if field == "nonce":
        nonce = bytearray(base64.b64decode(envelope["nonce"]))
        nonce[0] ^= 0x80
        envelope["nonce"] = base64.b64encode(bytes(nonce)).decode()
    elif field == "id":
        envelope["id"] = "0" * 32
    else:
        envelope["v"] = 2
    path.write_text(json.dumps(envelope))
    with pytest.raises(EntryTampered):
        outbox.get(entry_id)


def test_entry_renamed_onto_another_id_is_refused(outbox, credential, minor_request):
    first = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    stolen = outbox.directory / f"{'a' * 32}.entry"
    (outbox.directory / f"{first}.entry").rename(stolen)
    with pytest.raises(EntryTampered):
        outbox.get("a" * 32)


def test_done_removes_the_file(outbox, credential, minor_request):
    kept = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    confirmed = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    outbox.done(confirmed)
    assert not (outbox.directory / f"{confirmed}.entry").exists()
    assert [s.id for s in outbox.list()] == [kept]
    with pytest.raises(UnknownEntry):
        outbox.get(confirmed)
    with pytest.raises(UnknownEntry):
        outbox.done(confirmed)


def test_mark_keeps_the_reason_and_the_entry(outbox, credential, minor_request):
    entry = capture(*minor_request, credential, now=CAPTURED)
    entry_id = outbox.put(entry)
    outbox.mark(entry_id, EntryState.HELD, "CONSENT_TOO_OLD")
    (summary,) = outbox.list()
    assert (summary.state, summary.reason) == (EntryState.HELD, "CONSENT_TOO_OLD")
    assert outbox.get(entry_id) == entry


def test_list_is_oldest_capture_first(outbox, credential, minor_request):
    later = outbox.put(capture(*minor_request, credential, now=CAPTURED.replace(hour=18)))
    earlier = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    assert [s.id for s in outbox.list()] == [earlier, later]


def test_ids_are_not_paths(outbox):
    with pytest.raises(UnknownEntry):
        outbox.get("../../config/outbox")


def test_without_keyring_the_key_file_is_private(homes, outbox, credential, minor_request):
    outbox.put(capture(*minor_request, credential, now=CAPTURED))
    data, config = homes
    key_file = config / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not any(p.name == KEY_FILE_NAME for p in data.rglob("*"))
    assert stat.S_IMODE(outbox.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(only_file(outbox).stat().st_mode) == 0o600


def test_key_file_gone_means_key_missing_not_tampered(homes, outbox, credential, minor_request):
    entry_id = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    data, config = homes
    (config / KEY_FILE_NAME).unlink()
    fresh = EncryptedOutbox(outbox.directory, OutboxKey(config))
    with pytest.raises(OutboxKeyMissing):
        fresh.get(entry_id)
    # A new key made for a new entry does not open the old one either, and says so.
    fresh.put(capture(*minor_request, credential, now=CAPTURED))
    with pytest.raises(OutboxKeyMissing):
        EncryptedOutbox(outbox.directory, OutboxKey(config)).get(entry_id)


def test_another_process_reads_the_same_entries(homes, outbox, credential, minor_request):
    entry = capture(*minor_request, credential, now=CAPTURED)
    entry_id = outbox.put(entry)
    data, config = homes
    assert EncryptedOutbox(outbox.directory, OutboxKey(config)).get(entry_id) == entry


def test_a_write_killed_midway_leaves_nothing_once_listed(outbox, credential, minor_request):
    """SIGKILL runs no clean-up: write_private's hidden temporary file stays. The next list
    sweeps it (older than a minute: a younger one may be another process's write)."""
    import os
    import time

    entry_id = outbox.put(capture(*minor_request, credential, now=CAPTURED))
    stale = outbox.directory / f".{entry_id}.entry.abcd1234.tmp"
    fresh = outbox.directory / f".{entry_id}.entry.efgh5678.tmp"
    stale.write_bytes(b"encrypted, half written")
    fresh.write_bytes(b"being written right now")
    old = time.time() - 120
    os.utime(stale, (old, old))
    assert [s.id for s in outbox.list()] == [entry_id]
    assert not stale.exists()
    assert fresh.exists()
