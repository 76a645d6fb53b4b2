"""The DMP service inside the application's process (demo, tests, single workstation).

This module builds the service only: the ASGI app on ``data_dir/dmp-service.sqlite3`` (test
mode), the demo PKI it trusts, the demo INSi register and the seeded demo DMPs. The client
reaches it through httpx's ASGI transport (the same requests, answers and errors as over the
network, without a socket); joining the two is the composition root's job
(:mod:`proclient.embedded_service`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from proclient.server.app import create_app
from proclient.server.demo import DemoPki, ensure_demo_pki, seed_demo_dmps
from proclient.server.pseudonym_key import KEY_FILE_NAME, load_pseudonym_key
from proclient.server.settings import PscSettings, ServerSettings
from proclient.server.signing_key import FOLDER_NAME, load_or_create_signer

DATABASE_NAME = "dmp-service.sqlite3"


def embedded_app(
    data_dir: Path, *, reset_demo: bool = False, psc: PscSettings | None = None
) -> tuple[FastAPI, DemoPki]:
    """The service's ASGI app on ``data_dir/dmp-service.sqlite3`` (test mode, trusting the
    demo CA in ``data_dir/demo-pki``), with the demo INSi register and the demo DMPs seeded
    (``reset_demo``: the other demo patients' DMPs removed), and that demo PKI. The audit
    trail's pseudonymisation key is the file ``data_dir/dmp-pseudonym.key``; the statements are
    signed by the key in ``data_dir/document-signing`` (issued by the demo CA). ``psc``: the
    Pro Santé Connect the service signs e-CPS users in with (the demo's stand-in)."""
    data_dir = Path(data_dir)
    pki = ensure_demo_pki(data_dir / "demo-pki")
    database = data_dir / DATABASE_NAME
    secret = load_pseudonym_key(data_dir / KEY_FILE_NAME, database)
    signer = load_or_create_signer(data_dir / FOLDER_NAME, pki.ca())
    app = create_app(
        ServerSettings(
            database=database,
            trusted_ca_pem=pki.ca_pem,
            mode="test",
            pseudonym_secret=secret,
            psc=psc,
            document_signer=signer,
        )
    )
    seed_demo_dmps(database, reset=reset_demo, pseudonym_secret=secret)
    return app, pki
