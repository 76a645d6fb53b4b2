"""`proclient ins lookup --traits` as a script runs it: a workstation configured for the real
DMP service on loopback (uvicorn over HTTPS, SQLite, the demo INSi register), the software
credential unlocked with the code given on stdin.

The card path (pyscard → pcscd → vpcd) is tests/pcsc/test_ins_command.py.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from proclient.cli import main
from proclient.commands import (
    EXIT_CREDENTIAL,
    EXIT_INSI_NONE,
    EXIT_INSI_SEVERAL,
    EXIT_NOT_CONFIGURED,
    EXIT_OK,
    EXIT_SERVICE,
    EXIT_USAGE,
)
from proclient.core.demo_people import OID_NIA, OID_TEST
from tests.service import conftest as service

# The service's fixtures (tests/service/conftest.py): a real uvicorn over HTTPS on loopback.
database_url, pki, serve, tls = service.database_url, service.pki, service.serve, service.tls
document_signer = service.document_signer

INSI = "/v1/insi/"


@pytest.fixture
def backend() -> str:
    """SQLite only: the command does not depend on the service's database (the service's
    own tests run both)."""
    return "sqlite"


def configure(home: Path, url: str, tls, pki) -> None:
    """A workstation's config.toml: the service and its CA, the software credential."""
    user = pki.default
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.toml").write_text(
        f'[service]\nurl = "{url}"\nca_bundle = "{tls.ca_bundle}"\n'
        f'[credential]\nkey = "{user.key_path}"\ncertificate = "{user.cert_path}"\n',
        encoding="utf-8",
    )


@pytest.fixture
def workstation(serve, tls, pki, tmp_path, monkeypatch):
    """Start the service (``wrap``: a middleware in front of it) and configure the
    workstation for it; returns the started service."""
    for name in ("PROCLIENT_SERVICE_URL", "PROCLIENT_SERVICE_CA", "PROCLIENT_PKCS11_MODULE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))

    def start(wrap=None):
        running = serve(wrap=wrap)
        seed_register(running)
        configure(tmp_path, running.base_url, tls, pki)
        return running

    return start


def seed_register(running) -> None:
    """The demo INSi register in the service's database (test mode), as the demo seeds it."""
    from proclient.server.demo import seed_demo_dmps

    seed_demo_dmps(running.settings.database)


@pytest.fixture
def lookup(monkeypatch, capsys, pki):
    """Run `proclient ins lookup ARGS --pin-stdin` with ``pin`` on stdin: (exit, out, err)."""

    def run(*args: str, pin: str | None = None) -> tuple[int, str, str]:
        code = pki.default.pin if pin is None else pin
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(f"{code}\n".encode())))
        status = main(["ins", "lookup", *args, "--pin-stdin"])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def traits(last: str, first: str, sex: str, born: str, *more: str) -> list[str]:
    return [
        "--traits",
        "--birth-name",
        last,
        "--first-name",
        first,
        "--sex",
        sex,
        "--birth-date",
        born,
        *more,
    ]


def test_moreau_tom_by_traits_json_is_00_with_insi_identity(workstation, lookup):
    workstation()
    status, out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018"), "--json")
    assert (status, err) == (EXIT_OK, "")
    assert json.loads(out) == {
        "code": "00",
        "identity": {
            "ins": {"value": "118046912304533", "oid": OID_TEST},
            "history": [],
            "traits": {
                "birth_name": "MOREAU",
                "given_names": ["TOM"],
                "sex": "M",
                "birth_date": "20180412",
                "birthplace": "69123",
            },
        },
    }
    assert out.count("\n") == 1  # one object, one line


def test_martin_marie_homonyms_are_02_then_the_birthplace_splits_them(workstation, lookup):
    workstation()
    status, out, err = lookup(*traits("MARTIN", "Marie", "F", "01/01/1970"), "--json")
    assert status == EXIT_INSI_SEVERAL == 8 and err == ""
    assert json.loads(out) == {"code": "02", "identity": None}
    status, out, _err = lookup(*traits("MARTIN", "Marie", "F", "01/01/1970"))
    assert status == EXIT_INSI_SEVERAL
    assert out.splitlines()[0] == "INSi : plusieurs identités trouvées (code 02)."
    assert "précisez le lieu de naissance" in out and "--birthplace LIEU" in out
    assert "(Échap)" not in out
    status, out, _err = lookup(
        *traits("MARTIN", "Marie", "F", "01/01/1970", "--birthplace", "31555"), "--json"
    )
    assert status == EXIT_OK
    found = json.loads(out)["identity"]
    assert found["ins"]["value"] == "270013155513312"
    assert found["traits"]["given_names"] == ["MARIE", "LOUISE"]
    status, out, _err = lookup(  # the town by name, as a pharmacist knows it
        *traits("MARTIN", "Marie", "F", "01/01/1970", "--birthplace", "toulouse"), "--json"
    )
    assert status == EXIT_OK and json.loads(out)["identity"]["ins"]["value"] == "270013155513312"


def test_dupont_by_traits_is_01_with_the_next_step(workstation, lookup):
    workstation()
    status, out, err = lookup(*traits("Dupont", "Michel", "M", "00/06/1958"), "--json")
    assert status == EXIT_INSI_NONE == 7 and err == ""
    assert json.loads(out) == {"code": "01", "identity": None}
    status, out, err = lookup(*traits("Dupont", "Michel", "M", "00/06/1958"))
    assert status == EXIT_INSI_NONE
    lines = out.splitlines()
    assert lines[0] == "INSi : aucune identité trouvée (code 01)."
    assert lines[1].startswith("L'INSi ne trouve aucune identité avec ces traits")
    assert "(Échap)" not in out and "(F6)" not in out  # the TUI's keys mean nothing here


def test_text_answer_shows_ins_label_traits_and_history(workstation, lookup):
    workstation()
    status, out, err = lookup(*traits("Garnier", "Paul", "M", "05/10/1962"))
    assert (status, err) == (EXIT_OK, "")
    flat = " ".join(out.split())
    assert out.splitlines()[0] == "INSi : une identité trouvée (code 00)."
    assert "INS (INS-NIR TEST) 1 62 10 44 109 023 60" in flat
    assert f"OID de l'INS {OID_TEST}" in flat
    assert "Nom de naissance GARNIER" in flat and "Prénom(s) PAUL" in flat
    assert "Sexe Masculin" in flat and "Date de naissance 05/10/1962" in flat
    assert "Lieu de naissance 44109" in flat
    assert "Anciens matricules 1 62 10 44 109 010 73 (INS-NIR TEST)" in flat
    assert "différence" not in flat  # no card to compare with


def test_an_nia_and_a_lunar_date(workstation, lookup):
    workstation()
    status, out, _err = lookup(*traits("Okafor", "Chidi", "M", "15/07/1990"))
    assert status == EXIT_OK
    assert "INS (INS-NIA)" in out and OID_NIA in out
    status, out, _err = lookup(*traits("Ben Saïd", "Karim", "M", "00/00/1955"))
    assert status == EXIT_OK
    assert "BEN SAID" in out and "00/00/1955 (date lunaire)" in out


def test_a_wrong_code_is_one_french_line_and_nothing_asked(workstation, lookup):
    workstation()
    status, out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018"), pin="0000")
    assert status == EXIT_CREDENTIAL == 10
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("Code porteur incorrect") and "Traceback" not in err
    status, out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018"), pin="")
    assert status == EXIT_CREDENTIAL and "Aucun code porteur" in err


def test_insi_down_behind_the_service_is_one_french_line(workstation, lookup):
    """A proxy answering 502 for the INSi routes: the service cannot be reached for INSi."""

    def gateway_down(app):
        async def middleware(scope, receive, send):
            if scope["type"] == "http" and scope["path"].startswith(INSI):
                await send({"type": "http.response.start", "status": 502, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            await app(scope, receive, send)

        return middleware

    workstation(wrap=gateway_down)
    status, out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018"), "--json")
    assert status == EXIT_SERVICE == 9 and out == ""
    assert err.strip() == "Le service DMP ne répond pas : vérifiez la connexion puis réessayez."


def test_incomplete_or_malformed_traits_are_refused_before_the_code(workstation, lookup):
    workstation()
    status, out, err = lookup("--traits", "--birth-name", "Moreau", "--sex", "M")
    assert status == EXIT_USAGE and out == ""
    assert "--first-name" in err and "--birth-date" in err
    status, _out, err = lookup(*traits("Moreau", "Tom", "X", "12/04/2018"))
    assert status == EXIT_USAGE and "F (féminin) ou M (masculin)" in err
    status, _out, err = lookup(*traits("Moreau", "Tom", "M", "2018-04-12"))
    assert status == EXIT_USAGE and "JJ/MM/AAAA" in err
    status, _out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018", "--birthplace", "7505"))
    assert status == EXIT_USAGE and "code INSEE" in err


def test_without_a_service_set_the_fix_is_named(tmp_path, monkeypatch, lookup):
    monkeypatch.setenv("PROCLIENT_HOME", str(tmp_path))
    monkeypatch.delenv("PROCLIENT_SERVICE_URL", raising=False)
    status, out, err = lookup(*traits("Moreau", "Tom", "M", "12/04/2018"))
    assert status == EXIT_NOT_CONFIGURED and out == ""
    assert "service.url" in err and "Traceback" not in err


def test_the_code_is_read_from_a_terminal_only_without_pin_stdin(workstation, monkeypatch, capsys):
    workstation()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1234\n")))
    status = main(["ins", "lookup", *traits("Moreau", "Tom", "M", "12/04/2018")])
    out, err = capsys.readouterr()
    assert status == EXIT_CREDENTIAL and out == ""
    assert "--pin-stdin" in err


def test_next_steps_name_the_options_not_the_tui_keys():
    """The answer's sentences (proclient.core.problems) without the TUI's keys, and the option
    that goes on from the command line."""
    from proclient.commands.ins import next_step
    from proclient.core.identity import InsiAnswer, InsiCode

    by_card = next_step(InsiAnswer(InsiCode.NONE, by_card=True))
    assert by_card.startswith("L'INSi ne trouve aucune identité pour cette carte")
    assert "cherchez par les traits, ou arrêtez là :" in by_card
    assert "proclient ins lookup --traits" in by_card
    by_traits = next_step(InsiAnswer(InsiCode.NONE, by_card=False))
    assert "--traits" not in by_traits and "corrigez-les, ou arrêtez là :" in by_traits
    several = next_step(InsiAnswer(InsiCode.SEVERAL, by_card=False))
    assert "--birthplace LIEU" in several
    for text in (by_card, by_traits, several):
        assert "(F6)" not in text and "(Échap)" not in text
