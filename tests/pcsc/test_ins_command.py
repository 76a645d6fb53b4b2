"""`proclient ins lookup` from the card in the reader: pyscard → pcscd → vpcd → the LE GOFF
card, INSi asked by the card through the real DMP service on loopback (HTTPS, SQLite, the demo
INSi register), the software credential unlocked with the code on stdin."""

from __future__ import annotations

import json

import pytest

from proclient.cardreader.emulator import VitaleEmulator
from proclient.core.demo_people import OID_TEST
from tests.pcsc.test_card_command import proclient
from tests.service import conftest as service
from tests.test_cli_ins import configure, seed_register

# The service's fixtures (tests/service/conftest.py): a real uvicorn over HTTPS on loopback.
database_url, pki, serve, tls = service.database_url, service.pki, service.serve, service.tls
document_signer = service.document_signer


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_legoff_card_by_card_is_00_with_insi_traits(slots, serve, tls, pki, tmp_path):
    running = serve()
    seed_register(running)
    configure(tmp_path, running.base_url, tls, pki)
    slots.insert(VitaleEmulator.from_demo("legoff", t0_mode=True))
    args = ("ins", "lookup", "--reader", "vpcd 00 00", "--pin-stdin")
    done = proclient(*args, home=tmp_path, input=f"{pki.default.pin}\n")
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    assert "INSi : une identité trouvée (code 00)." in flat
    assert "INS (INS-NIR TEST) 1 52 03 35 238 045 87" in flat
    assert "Nom de naissance LE GOFF" in flat and "Prénom(s) GERARD" in flat
    assert "Aucune différence avec la carte." in flat
    done = proclient(*args, "--json", home=tmp_path, input=f"{pki.default.pin}\n")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["code"] == "00"
    assert found["identity"]["ins"] == {"value": "152033523804587", "oid": OID_TEST}
