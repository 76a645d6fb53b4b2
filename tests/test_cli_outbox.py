"""`proclient outbox list|show|send` run in-process as a script runs it, in a private
PROCLIENT_HOME: entries captured with the demo pharmacist's software credential (the demo PKI,
so that the embedded service trusts their signature), the outbox key in the home's config
folder. `send --demo --pin-stdin` goes through the demo's embedded DMP service."""

from __future__ import annotations

import io
import json
import shutil
import sys

import pytest

from proclient.cli import main
from proclient.commands import (
    EXIT_OK,
    EXIT_OUTBOX_HELD,
    EXIT_OUTBOX_KEY_MISSING,
    EXIT_OUTBOX_TAMPERED,
    EXIT_OUTBOX_UNKNOWN,
)
from proclient.core.clock import paris_time
from proclient.core.domain import (
    BirthDate,
    Consent,
    IdentitySource,
    LegalRepresentative,
    Relationship,
    Sex,
)
from proclient.core.identity import Document, HeldIdentity
from proclient.outbox.entry import capture
from proclient.outbox.keys import KEY_FILE_NAME
from proclient.outbox.port import EntryState
from proclient.outbox.store import SUFFIX
from proclient.wiring import workstation_outbox

HUGO_NIR = "114067511203551"
# What must never appear in list or show: the minor's and his mother's names, his NIR and
# his birth date in every form the command could print it.
PATIENT_TRACES = ("DURAND", "Hugo", "Sophie", HUGO_NIR, "20140610", "2014-06-10", "10/06/2014")


@pytest.fixture
def pki(settings, demo_pki_cache):
    """The demo PKI in the home's demo folder (where the embedded service looks for it)."""
    from proclient.server.demo import ensure_demo_pki

    target = settings.paths.demo_dir / "demo-pki"
    if not target.exists():
        shutil.copytree(demo_pki_cache, target)
    return ensure_demo_pki(target)


@pytest.fixture
def credential(pki):
    from proclient.credentials.software import unlock_demo

    return unlock_demo(pki.default)


def card_held(last: str, first: str, born: str, nir: str, sex: Sex, rank: int = 1):
    return HeldIdentity(
        last_name=last,
        first_name=first,
        birth_date=BirthDate(born),
        sex=sex,
        nir=nir,
        source=IdentitySource.CARD,
        rank=rank,
    )


def hugo(credential):
    """Hugo DURAND (demo card), his livret de famille seen, his mother as representative."""
    return capture(
        card_held("DURAND", "Hugo", "20140610", HUGO_NIR, Sex.MALE, rank=3),
        Document.FAMILY_BOOK,
        Consent(creation=True, samu_access=True, break_glass_access=False),
        LegalRepresentative(Relationship("MTH"), "DURAND", "Sophie"),
        credential,
    )


def adult(credential, last, first, born, nir, sex):
    return capture(
        card_held(last, first, born, nir, sex),
        Document.ID_CARD,
        Consent(creation=True, samu_access=False, break_glass_access=True),
        None,
        credential,
    )


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `proclient ARGS` (``pin``: the first line of stdin): (exit, out, err)."""

    def run(*args: str, pin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{pin}\n".encode())))
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


def assert_no_patient(text: str) -> None:
    for trace in PATIENT_TRACES:
        assert trace.lower() not in text.lower(), trace


def flip_a_byte(path) -> None:
    """Change one character of the ciphertext (still base64): GCM refuses it."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"ct":"') + 20
    raw[at] = ord("A") if raw[at] != ord("A") else ord("B")
    path.write_bytes(bytes(raw))


# --- list and show ---------------------------------------------------------------------------


def test_list_without_entries_says_so_and_json_is_an_empty_list(settings, cli):
    assert cli("outbox", "list") == (EXIT_OK, "Aucune création en attente sur ce poste.\n", "")
    assert cli("outbox", "list", "--demo") == (
        EXIT_OK,
        "Aucune création en attente dans la démonstration.\n",
        "",
    )
    status, out, _err = cli("outbox", "list", "--json")
    assert (status, json.loads(out)) == (EXIT_OK, [])


def test_list_shows_date_professional_state_reason_and_no_patient(settings, credential, cli):
    outbox = workstation_outbox(settings)
    entry = hugo(credential)
    entry_id = outbox.put(entry)
    held_id = outbox.put(hugo(credential))
    outbox.mark(held_id, EntryState.HELD, "DMPFound")

    status, out, err = cli("outbox", "list")
    assert (status, err) == (EXIT_OK, "")
    assert_no_patient(out)
    line = next(line for line in out.splitlines() if line.startswith(entry_id))
    local = paris_time(entry.captured_at).strftime("%d/%m/%Y %H:%M")
    assert local in line and "899700024450" in line and "en attente" in line
    assert "retenue" in out
    assert "motif : DMPFound — Ce patient a déjà un DMP actif" in out

    status, out, err = cli("outbox", "list", "--json")
    assert (status, err) == (EXIT_OK, "")
    assert_no_patient(out)
    listed = {item["id"]: item for item in json.loads(out)}
    assert listed[entry_id] == {
        "id": entry_id,
        "captured_at": entry.captured_at.isoformat(timespec="seconds"),
        "patient": "D. H. 2014",
        "id_nat": "899700024450",
        "state": "pending",
        "reason": None,
    }
    assert listed[entry_id]["captured_at"].endswith("+00:00")
    assert (listed[held_id]["state"], listed[held_id]["reason"]) == ("held", "DMPFound")


def test_show_gives_the_detail_without_the_patient(settings, credential, cli):
    outbox = workstation_outbox(settings)
    entry_id = outbox.put(hugo(credential))

    status, out, err = cli("outbox", "show", entry_id, "--json")
    assert (status, err) == (EXIT_OK, "")
    assert_no_patient(out)
    value = json.loads(out)
    assert value["id"] == entry_id and value["state"] == "pending"
    assert value["document"] == {"code": "family_book", "label": Document.FAMILY_BOOK.label}
    assert value["consent"] == {"creation": True, "samu_access": True, "break_glass_access": False}
    assert value["legal_representative"] == {
        "relationship": "MTH",
        "label": Relationship("MTH").label,
    }
    assert value["insi_identity_accepted"] is False

    outbox.accept(entry_id)
    status, out, err = cli("outbox", "show", entry_id)
    assert (status, err) == (EXIT_OK, "")
    assert_no_patient(out)
    assert Document.FAMILY_BOOK.label in out and Relationship("MTH").label in out
    assert "Identité INSi acceptée" in out and out.rstrip().endswith("oui")


def test_show_unknown_id_is_exit_6_and_names_the_outbox_read(settings, credential, cli):
    outbox = workstation_outbox(settings)
    entry_id = outbox.put(hugo(credential))
    unknown = "0" if not entry_id.startswith("0") else "1"
    status, out, err = cli("outbox", "show", unknown * 32)
    assert (status, out) == (EXIT_OUTBOX_UNKNOWN, "")
    assert err == (
        f"Aucune création « {unknown * 32} » en attente sur ce poste (dossier "
        f"{outbox.directory}) : déjà envoyée ou abandonnée, ou identifiant mal recopié (voir "
        "« proclient outbox list »).\n"
    )
    assert cli("outbox", "show", "../../etc/passwd")[0] == EXIT_OUTBOX_UNKNOWN
    assert cli("outbox", "show", "")[0] == EXIT_OUTBOX_UNKNOWN
    status, _out, err = cli("outbox", "show", unknown * 32, "--demo")
    assert status == EXIT_OUTBOX_UNKNOWN
    assert "dans la démonstration (dossier " in err and "outbox list --demo" in err


def test_tampered_entry_is_listed_as_altered_and_show_is_exit_12(settings, credential, cli):
    outbox = workstation_outbox(settings)
    entry_id = outbox.put(hugo(credential))
    flip_a_byte(outbox.directory / f"{entry_id}{SUFFIX}")

    status, out, _err = cli("outbox", "list")
    assert status == EXIT_OK
    assert entry_id in out and "altérée" in out and "OUTBOX_TAMPERED" in out
    status, out, _err = cli("outbox", "list", "--json")
    assert json.loads(out) == [
        {
            "id": entry_id,
            "captured_at": None,
            "patient": None,
            "id_nat": None,
            "state": "tampered",
            "reason": "OUTBOX_TAMPERED",
        }
    ]
    status, out, err = cli("outbox", "show", entry_id)
    assert (status, out) == (EXIT_OUTBOX_TAMPERED, "")
    assert err.startswith("Une création enregistrée a été modifiée sur le disque")


def test_key_missing_is_exit_13(settings, credential, cli):
    outbox = workstation_outbox(settings)
    entry_id = outbox.put(hugo(credential))
    (settings.paths.config_dir / KEY_FILE_NAME).unlink()
    status, out, err = cli("outbox", "list")
    assert (status, out) == (EXIT_OUTBOX_KEY_MISSING, "")
    assert "clé de chiffrement" in err
    assert cli("outbox", "show", entry_id)[0] == EXIT_OUTBOX_KEY_MISSING


def test_demo_list_reads_the_demo_outbox_only(settings, credential, cli):
    entry_id = workstation_outbox(settings, demo=True).put(hugo(credential))
    assert entry_id in cli("outbox", "list", "--demo")[1]
    assert entry_id not in cli("outbox", "list")[1]


# --- which outbox, which entry, which patient ----------------------------------------------------

LEGOFF = ("LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE)
CASANOVA = ("CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281", Sex.FEMALE)
# What the list and show must not print of these two: names, given names, birth dates, NIRs.
ADULT_TRACES = ("LE GOFF", "Gérard", "CASANOVA", "ORSINI", "Marie-Ange", "152033523804587")
ADULT_TRACES += ("291092A00401281", "19520314", "14/03/1952", "1952-03-14", "05/09/1991")


def put_as(monkeypatch, outbox, entry, entry_id: str) -> str:
    """Keep ``entry`` under a chosen id (the store draws it at random) to make ids that
    share a prefix."""
    import secrets
    from types import SimpleNamespace

    import proclient.outbox.store as store

    chosen = SimpleNamespace(token_hex=lambda _n: entry_id, token_bytes=secrets.token_bytes)
    monkeypatch.setattr(store, "secrets", chosen)
    try:
        return outbox.put(entry)
    finally:
        monkeypatch.setattr(store, "secrets", secrets)


def test_list_without_demo_says_the_demo_holds_entries_and_how_to_see_them(
    settings, credential, cli
):
    """A trainer ran « proclient demo » and recorded two creations offline: without --demo
    the command reads the workstation's outbox, says it is empty and names --demo."""
    demo = workstation_outbox(settings, demo=True)
    demo.put(adult(credential, *LEGOFF))
    demo.put(adult(credential, *CASANOVA))
    assert cli("outbox", "list") == (
        EXIT_OK,
        "Aucune création en attente sur ce poste ; la démonstration en garde 2 : "
        "« proclient outbox list --demo ».\n",
        "",
    )
    # send reads the outbox before the configuration: nothing to send needs none.
    assert cli("outbox", "send", "--pin-stdin") == (
        EXIT_OK,
        "Aucune création en attente sur ce poste ; la démonstration en garde 2 : "
        "« proclient outbox send --demo ».\n",
        "",
    )
    status, out, _err = cli("outbox", "list", "--demo")
    assert status == EXIT_OK
    assert out.startswith(
        f"Créations en attente dans la démonstration (dossier {demo.directory}) :"
    )
    assert len([line for line in out.splitlines() if "899700024450" in line]) == 2
    # And the other way round: the workstation's entries named from the demo's side.
    workstation_outbox(settings).put(hugo(credential))
    for _id in [s.id for s in demo.list()]:
        demo.done(_id)
    assert cli("outbox", "list", "--demo") == (
        EXIT_OK,
        "Aucune création en attente dans la démonstration ; ce poste en garde 1 : "
        "« proclient outbox list », sans --demo.\n",
        "",
    )


def test_an_id_in_the_other_outbox_says_where_it_is(settings, credential, cli):
    entry_id = workstation_outbox(settings, demo=True).put(hugo(credential))
    status, out, err = cli("outbox", "show", entry_id[:8])
    assert (status, out) == (EXIT_OUTBOX_UNKNOWN, "")
    assert err == (
        f"La création « {entry_id[:8]} » n'est pas sur ce poste mais dans la démonstration : "
        "ajoutez --demo.\n"
    )
    assert cli("outbox", "show", entry_id[:8], "--demo")[0] == EXIT_OK


def test_show_and_send_take_a_unique_prefix(settings, pki, credential, cli, monkeypatch):
    outbox = workstation_outbox(settings, demo=True)
    legoff = put_as(monkeypatch, outbox, adult(credential, *LEGOFF), "ab1" + "0" * 29)
    other = put_as(monkeypatch, outbox, hugo(credential), "ab2" + "0" * 29)

    status, out, err = cli("outbox", "show", "AB1", "--demo", "--json")
    assert (status, err) == (EXIT_OK, "")
    assert json.loads(out)["id"] == legoff
    status, out, err = cli("outbox", "show", "ab1", "--demo")
    assert (status, err) == (EXIT_OK, "") and legoff in out

    status, out, err = cli(
        "outbox", "send", "ab1", "--demo", "--pin-stdin", "--json", pin=pki.default.pin
    )
    assert (status, err) == (EXIT_OK, ""), out
    assert [item["id"] for item in json.loads(out)["created"]] == [legoff]
    assert [s.id for s in outbox.list()] == [other]  # only that one was sent


def test_an_ambiguous_prefix_lists_the_candidates_before_any_code(
    settings, credential, cli, monkeypatch
):
    from proclient.commands import EXIT_USAGE

    outbox = workstation_outbox(settings, demo=True)
    first = put_as(monkeypatch, outbox, adult(credential, *LEGOFF), "ab1" + "0" * 29)
    second = put_as(monkeypatch, outbox, adult(credential, *CASANOVA), "ab2" + "0" * 29)
    expected = (
        f"« ab » désigne 2 créations ({first}, {second}) : donnez plus de caractères de "
        "l'identifiant.\n"
    )
    assert cli("outbox", "show", "ab", "--demo") == (EXIT_USAGE, "", expected)
    assert cli("outbox", "send", "ab", "--demo", "--pin-stdin", pin="") == (
        EXIT_USAGE,
        "",
        expected,
    )
    assert len(outbox.list()) == 2


def test_two_patients_recorded_the_same_minute_are_listed_apart_without_names(
    settings, credential, cli
):
    """One pharmacist, two patients in the same minute (and twins in the same minute, whose
    initials and birth year are the same: the second tells them apart)."""
    from datetime import UTC, datetime, timedelta

    outbox = workstation_outbox(settings)
    minute = datetime(2026, 11, 28, 10, 42, tzinfo=UTC)
    people = [
        (LEGOFF, 5),
        (CASANOVA, 40),
        (("DURAND", "Léa", "20150603", None, Sex.FEMALE), 50),
        (("DURAND", "Lucas", "20150603", None, Sex.MALE), 55),
    ]
    ids = []
    for (last, first, born, nir, sex), second in people:
        entry = capture(
            card_held(last, first, born, nir, sex),
            Document.ID_CARD,
            Consent(creation=True),
            None,
            credential,
            now=minute + timedelta(seconds=second),
        )
        ids.append(outbox.put(entry))

    status, out, err = cli("outbox", "list")
    assert (status, err) == (EXIT_OK, "")
    for trace in (*ADULT_TRACES, "Léa", "Lucas", "DURAND", "20150603", "03/06/2015"):
        assert trace.lower() not in out.lower(), trace
    lines = out.splitlines()
    assert lines[0] == f"Créations en attente sur ce poste (dossier {outbox.directory}) :"
    header, rows = lines[1], lines[2:]
    assert len(rows) == 4
    without_ids = [row[row.index(" ") :] for row in rows]
    assert len(set(without_ids)) == 4  # four distinct rows, ids aside
    masks = ("L. G. 1952", "C. M. 1991", "D. L. 2015", "D. L. 2015")
    for row, entry_id, mask, (_person, second) in zip(rows, ids, masks, people, strict=True):
        when = paris_time(minute + timedelta(seconds=second)).strftime("%d/%m/%Y %H:%M:%S")
        assert row.startswith(entry_id)
        assert row.index(when) == header.index("recueillie le"), (header, row)
        assert row.index(mask) == header.index("patient"), (header, row)
        assert row.index("899700024450") == header.index("professionnel"), (header, row)
        assert row.index("en attente") == header.index("état"), (header, row)

    status, out, err = cli("outbox", "list", "--json")
    assert (status, err) == (EXIT_OK, "")
    for trace in (*ADULT_TRACES, "Léa", "Lucas", "DURAND", "2015-06-03"):
        assert trace.lower() not in out.lower(), trace
    listed = json.loads(out)
    assert [item["patient"] for item in listed] == list(masks)
    assert len({(item["patient"], item["captured_at"]) for item in listed}) == 4

    status, out, err = cli("outbox", "show", ids[1][:6])
    assert (status, err) == (EXIT_OK, "")
    for trace in ADULT_TRACES:
        assert trace.lower() not in out.lower(), trace
    assert "C. M. 1991" in out


# --- send through the demo's embedded service ---------------------------------------------------


def test_send_demo_creates_the_dmp_files_the_accuse_and_drops_the_entry(
    settings, pki, credential, cli
):
    outbox = workstation_outbox(settings, demo=True)
    entry_id = outbox.put(
        adult(credential, "LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE)
    )
    status, out, err = cli("outbox", "send", "--demo", "--pin-stdin", "--json", pin=pki.default.pin)
    assert (status, err) == (EXIT_OK, ""), out
    report = json.loads(out)
    assert [item["id"] for item in report["created"]] == [entry_id]
    assert report["held"] == [] and report["tampered"] == [] and report["stopped"] is None
    receipt = report["created"][0]["receipt"]
    receipts = sorted(settings.paths.receipts_dir.glob("*.pdf"))
    assert [str(path) for path in receipts] == [receipt]
    assert "GOFF" not in receipt.upper()
    assert outbox.list() == []
    # Nothing left: the next run asks for no code.
    assert cli("outbox", "send", "--demo", "--pin-stdin") == (
        EXIT_OK,
        "Aucune création en attente dans la démonstration.\n",
        "",
    )


def test_send_demo_text_tells_created_and_held(settings, pki, credential, cli):
    outbox = workstation_outbox(settings, demo=True)
    outbox.put(adult(credential, "LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE))
    held_id = outbox.put(
        adult(
            credential, "CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281", Sex.FEMALE
        )
    )
    status, out, err = cli("outbox", "send", "--demo", "--pin-stdin", pin=pki.default.pin)
    assert status == EXIT_OUTBOX_HELD == 11, (out, err)
    assert "1 créée(s)." in out and "1 retenue(s) :" in out
    assert f"{held_id} : DMPFound — Ce patient a déjà un DMP actif" in out
    assert str(settings.paths.receipts_dir) in out
    assert "CASANOVA" not in out and "291092A00401281" not in out
    [left] = outbox.list()
    assert (left.id, left.state, left.reason) == (held_id, EntryState.HELD, "DMPFound")


def test_send_demo_active_dmp_is_held_with_dmpfound_exit_11(settings, pki, credential, cli):
    outbox = workstation_outbox(settings, demo=True)
    entry_id = outbox.put(
        adult(
            credential, "CASANOVA-ORSINI", "Marie-Ange", "19910905", "291092A00401281", Sex.FEMALE
        )
    )
    status, out, err = cli(
        "outbox", "send", entry_id, "--demo", "--pin-stdin", "--json", pin=pki.default.pin
    )
    assert status == EXIT_OUTBOX_HELD, (out, err)
    assert json.loads(out)["held"] == [{"id": entry_id, "reason": "DMPFound"}]
    assert json.loads(out)["created"] == []
    [left] = outbox.list()
    assert (left.state, left.reason) == (EntryState.HELD, "DMPFound")
    assert list(settings.paths.receipts_dir.glob("*.pdf")) == []
    # A held entry is not sent again without its id (and no code is asked for nothing).
    status, out, _err = cli("outbox", "send", "--demo", "--pin-stdin")
    assert status == EXIT_OK and out.startswith("Aucune création à envoyer : 1 retenue(s)")


def test_send_unknown_id_is_exit_6_before_any_code(settings, credential, cli):
    outbox = workstation_outbox(settings, demo=True)
    entry_id = outbox.put(hugo(credential))
    unknown = "f" if not entry_id.startswith("f") else "e"
    status, out, err = cli("outbox", "send", unknown * 32, "--demo", "--pin-stdin", pin="")
    assert (status, out) == (EXIT_OUTBOX_UNKNOWN, "")
    assert err.startswith(f"Aucune création « {unknown * 32} » en attente dans la démonstration")
    assert str(outbox.directory) in err and err.count("\n") == 1


def test_send_with_a_wrong_code_is_exit_10_and_keeps_the_entry(settings, pki, credential, cli):
    from proclient.commands import EXIT_CREDENTIAL

    outbox = workstation_outbox(settings, demo=True)
    entry_id = outbox.put(hugo(credential))
    status, out, err = cli("outbox", "send", "--demo", "--pin-stdin", pin="0000")
    assert (status, out) == (EXIT_CREDENTIAL, ""), err
    assert err
    assert [s.id for s in outbox.list()] == [entry_id]


@pytest.mark.slow
def test_send_with_the_service_gone_after_login_stops_exit_9_entries_kept(
    settings, pki, credential, cli, monkeypatch
):
    """The network drops once the professional is signed in: the run stops at the first
    entry (INSi unreachable), exit 9, both entries still pending, no accusé."""
    import proclient.wiring
    from proclient.commands import EXIT_SERVICE
    from proclient.service.client import DmpServiceClient

    made = []
    real_wiring, real_login = proclient.wiring.demo_wiring, DmpServiceClient.login

    def wiring(s):
        made.append(real_wiring(s))
        return made[-1]

    async def login_then_cut(self, credential):
        await real_login(self, credential)
        made[-1].network.toggle()
        self._retry_budget = 0.5  # the client's patience with a dropped network, shortened

    monkeypatch.setattr(proclient.wiring, "demo_wiring", wiring)
    monkeypatch.setattr(DmpServiceClient, "login", login_then_cut)
    outbox = workstation_outbox(settings, demo=True)
    ids = {
        outbox.put(adult(credential, "LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE)),
        outbox.put(hugo(credential)),
    }
    status, out, err = cli("outbox", "send", "--demo", "--pin-stdin", pin=pki.default.pin)
    assert status == EXIT_SERVICE, (out, err)
    assert out.startswith("0 créée(s).") and err.count("\n") == 1
    left = outbox.list()
    assert {s.id for s in left} == ids
    assert {(s.state, s.reason) for s in left} == {(EntryState.PENDING, "")}
    assert list(settings.paths.receipts_dir.glob("*.pdf")) == []


@pytest.mark.slow
def test_send_with_the_service_unreachable_at_login_is_exit_9(
    settings, pki, credential, cli, monkeypatch
):
    import proclient.wiring
    from proclient.commands import EXIT_SERVICE

    offline = proclient.wiring.demo_wiring
    monkeypatch.setattr(proclient.wiring, "demo_wiring", lambda s: offline(s, offline=True))
    outbox = workstation_outbox(settings, demo=True)
    entry_id = outbox.put(
        adult(credential, "LE GOFF", "Gérard", "19520314", "152033523804587", Sex.MALE)
    )
    status, out, err = cli("outbox", "send", "--demo", "--pin-stdin", pin=pki.default.pin)
    assert (status, out) == (EXIT_SERVICE, ""), err
    assert err.count("\n") == 1
    [left] = outbox.list()
    assert (left.id, left.state, left.reason) == (entry_id, EntryState.PENDING, "")


def test_doctor_says_how_many_wait_and_when_their_key_is_gone(settings, credential):
    from proclient.commands.doctor import check_outbox

    assert check_outbox(settings) == (True, "Créations hors connexion : aucune en attente.")
    outbox = workstation_outbox(settings)
    outbox.put(hugo(credential))
    ok, line = check_outbox(settings)
    assert ok and "1 en attente" in line
    assert_no_patient(line)
    (path,) = outbox.directory.glob(f"*{SUFFIX}")
    flip_a_byte(path)
    ok, line = check_outbox(settings)
    assert not ok and "modifiée" in line
    (settings.paths.config_dir / KEY_FILE_NAME).unlink()
    ok, line = check_outbox(settings)
    assert not ok and "clé de chiffrement" in line
