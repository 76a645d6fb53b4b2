"""The service's INSi register: the operator's file (``proclient serve --insi-register``), its
checks, and the upsert that keeps one identity per person across their matricules; on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from proclient.core.domain import (
    OID_INS_NIA,
    OID_INS_NIR,
    OID_INS_NIR_DEMO,
    OID_INS_NIR_TEST,
    Ins,
)
from proclient.server import register
from proclient.server.register_file import RegisterError, identity_from_json, load_register_file
from proclient.server.storage import Storage

AT = "2025-01-01T00:00:00+00:00"
NIR = "152033523804587"  # LE GOFF's
OTHER = "285077505612370"  # DURAND Sophie's


def item(value: str = NIR, oid: str = OID_INS_NIR_TEST, **traits: object) -> dict:
    return {
        "ins": {"value": value, "oid": oid},
        "history": [],
        "traits": {
            "birth_name": "LE GOFF",
            "given_names": ["GERARD"],
            "sex": "M",
            "birth_date": "19520314",
            "birthplace": "35238",
            **traits,
        },
    }


@pytest.fixture
def storage(database_url) -> Iterator[Storage]:
    store = Storage(database_url())
    store.initialize()
    yield store
    store.close()


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def identities(storage: Storage) -> list[register.RegisterIdentity]:
    with storage.read() as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM insi_identities").fetchall()]
        return [register.load(conn, identity_id) for identity_id in ids]


# --- checks --------------------------------------------------------------------------------------


def test_names_are_stored_as_insi_writes_them():
    identity = identity_from_json(
        item(birth_name="Le Goff", given_names=["Gérard", "Éloi-Marie"], birthplace="2a004"),
        "test",
    )
    assert identity.birth_name == "LE GOFF"
    assert identity.given_names == ("GERARD", "ELOI-MARIE")
    assert identity.birthplace == "2A004"


@pytest.mark.parametrize(
    ("mode", "oid", "accepted"),
    [
        ("test", OID_INS_NIR_TEST, True),
        ("test", OID_INS_NIR_DEMO, True),
        ("test", OID_INS_NIA, True),  # no test variant of the NIA exists
        ("test", OID_INS_NIR, False),
        ("production", OID_INS_NIR, True),
        ("production", OID_INS_NIA, True),
        ("production", OID_INS_NIR_TEST, False),
        ("production", OID_INS_NIR_DEMO, False),
    ],
)
def test_the_mode_decides_which_oids_a_register_may_hold(mode, oid, accepted):
    if accepted:
        assert identity_from_json(item(oid=oid), mode).ins == Ins(NIR, oid)
    else:
        with pytest.raises(RegisterError) as refused:
            identity_from_json(item(oid=oid), mode, rank=3)
        assert "identité n° 3" in refused.value.message
        assert ("production" if mode == "production" else "test") in refused.value.message
    history = item(oid=OID_INS_NIR if mode == "production" else OID_INS_NIR_TEST)
    history["history"] = [{"value": OTHER, "oid": oid}]
    if accepted:
        assert identity_from_json(history, mode).history == (Ins(OTHER, oid),)
    else:
        with pytest.raises(RegisterError):
            identity_from_json(history, mode)


BAD = {
    "wrong key": item(value=NIR[:-2] + "88"),
    "not a NIR": item(value="ABCDEFGHIJKLMNO"),
    "unknown OID": item(oid="1.2.3"),
    "digits in a name": item(birth_name="LE G0FF"),
    "escape in a given name": item(given_names=["GE\x1b[2JRARD"]),
    "no given name": item(given_names=[]),
    "given names not a list": item(given_names="GERARD"),
    "birth date": item(birth_date="1952-03-14"),
    "sex": item(sex="X"),
    "birthplace": item(birthplace="3523"),
    "unknown trait": item(eye_colour="blue"),
    "no traits": {"ins": {"value": NIR, "oid": OID_INS_NIR_TEST}},
    "not an object": [NIR],
    "history not a list": {**item(), "history": {"value": OTHER}},
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_malformed_identity_is_refused_in_one_sentence_without_its_data(case):
    with pytest.raises(RegisterError) as refused:
        identity_from_json(BAD[case], "test", rank=2)
    message = refused.value.message
    assert refused.value.code == "SERVER_CONFIG"
    assert "identité n° 2" in message
    assert NIR not in message and "GOFF" not in message and "GERARD" not in message


def test_a_file_is_stored_whole_or_not_at_all(storage, tmp_path):
    bad = write(tmp_path / "bad.json", [item(), item(OTHER, birth_name="DURAND", sex="X")])
    with pytest.raises(RegisterError) as refused:
        load_register_file(storage, bad, "test", AT)
    assert "identité n° 2" in refused.value.message
    assert identities(storage) == []
    twice = write(tmp_path / "twice.json", [item(), item(birth_name="LEGOFF")])
    with pytest.raises(RegisterError) as refused:
        load_register_file(storage, twice, "test", AT)
    assert "n° 1 et n° 2" in refused.value.message  # one person, one identity
    for broken, sentence in (
        (tmp_path / "missing.json", "introuvable"),
        (write(tmp_path / "object.json", {"ins": NIR}), "liste"),
    ):
        with pytest.raises(RegisterError) as refused:
            load_register_file(storage, broken, "test", AT)
        assert sentence in refused.value.message
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    with pytest.raises(RegisterError, match="JSON"):
        load_register_file(storage, tmp_path / "broken.json", "test", AT)
    assert identities(storage) == []


# --- upsert --------------------------------------------------------------------------------------


def test_loading_again_changes_nothing_and_a_new_word_replaces_the_old(storage, tmp_path):
    path = write(tmp_path / "register.json", [item(), item(OTHER, birth_name="DURAND")])
    assert load_register_file(storage, path, "test", AT) == 2
    assert load_register_file(storage, path, "test", AT) == 2
    assert len(identities(storage)) == 2
    renamed = write(tmp_path / "renamed.json", [item(given_names=["GERARD", "YVES"])])
    load_register_file(storage, renamed, "test", AT)
    found = {i.ins.value: i for i in identities(storage)}
    assert found[NIR].given_names == ("GERARD", "YVES")
    assert len(found) == 2


def test_a_new_matricule_keeps_the_person_and_their_dmp(storage, tmp_path):
    """GARNIER's case as an operator meets it: first known under a matricule, then INSi gives
    a new active INS with the first one in its history. One identity; the DMP created under
    the first matricule is the person's under the new one."""
    old, new = "162104410901073", "162104410902360"
    garnier = {"birth_name": "GARNIER", "given_names": ["PAUL"], "birth_date": "19621005"}
    write(tmp_path / "first.json", [item(old, **garnier, birthplace="44109")])
    load_register_file(storage, tmp_path / "first.json", "test", AT)
    dmp_id = storage.seed_dmp(
        Ins(old, OID_INS_NIR_TEST),
        {"last_name": "GARNIER", "first_name": "PAUL", "birth_date": "19621005", "sex": "M"},
        "active",
    )
    changed = item(new, **garnier, birthplace="44109")
    changed["history"] = [{"value": old, "oid": OID_INS_NIR_TEST}]
    write(tmp_path / "second.json", [changed])
    load_register_file(storage, tmp_path / "second.json", "test", AT)

    (only,) = identities(storage)
    assert only.ins == Ins(new, OID_INS_NIR_TEST)
    assert only.history == (Ins(old, OID_INS_NIR_TEST),)
    with storage.read() as conn:
        found = storage.find_dmp(conn, Ins(new, OID_INS_NIR_TEST), "")
        by_demo_oid = storage.find_dmp(conn, Ins(old, OID_INS_NIR_DEMO), "")
    assert found is not None and found.dmp_id == dmp_id
    assert by_demo_oid is not None and by_demo_oid.dmp_id == dmp_id


def test_two_identities_named_one_person_are_merged(storage):
    first = identity_from_json(item(), "test")
    second = identity_from_json(item(OTHER, birth_name="DURAND"), "test")
    with storage.transaction() as conn:
        kept = register.upsert(conn, first, AT)
        other = register.upsert(conn, second, AT)
        register.record_answer(conn, "899700024450", register.load(conn, other), 1.0)
    both = item(NIR)
    both["history"] = [{"value": OTHER, "oid": OID_INS_NIR_TEST}]
    register.store(storage, [identity_from_json(both, "test")], AT)
    (only,) = identities(storage)
    assert only.id == kept and only.history == (Ins(OTHER, OID_INS_NIR_TEST),)
    with storage.read() as conn:
        answers = conn.execute("SELECT identity_id FROM insi_answers").fetchall()
    assert [row[0] for row in answers] == [kept]  # the answer follows the person
