"""Requests racing in the service's threads: SQLite must serialise the writes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from proclient.domain import Action, Professional, WebAccess
from proclient.server.operations import DmpOperations
from proclient.server.problems import Problem
from proclient.server.schemas import CreationIn
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage
from proclient.service.client import creation_body

from .helpers import creation

PHARMACIST = Professional("899700024450", "MARTIN", "Claire", "21", "Pharmacie de la Gare")


def race(count: int, job: Callable[[], object]) -> list[object]:
    """Run ``job`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(job())
        except Problem as problem:
            results.append(problem.code)
        except Exception as error:  # noqa: BLE001 - any other failure is the finding
            results.append(type(error).__name__)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def operations(tmp_path) -> DmpOperations:
    settings = ServerSettings(database=tmp_path / "dmp.sqlite3", trusted_ca_pem=b"")
    storage = Storage(settings.database)
    storage.initialize()
    return DmpOperations(settings, storage)


def test_racing_creations_for_one_patient_create_one_dmp(tmp_path):
    service = operations(tmp_path)
    body = CreationIn.model_validate(creation_body(creation()))
    results = race(
        16,
        lambda: service.write_dmp(PHARMACIST, str(uuid.uuid4()), body, Action.CREATION),
    )
    statuses = sorted(str(getattr(r, "status_code", r)) for r in results)
    assert statuses == ["201"] + ["DMPFound"] * 15


def test_racing_retries_with_one_key_open_one_web_account(tmp_path):
    service = operations(tmp_path)
    body = CreationIn.model_validate(
        creation_body(creation(web=WebAccess("a@b.fr")))
    )
    key = str(uuid.uuid4())
    results = race(8, lambda: service.write_dmp(PHARMACIST, key, body, Action.CREATION))
    assert all(hasattr(r, "body") for r in results), results
    assert len({r.body["dmp_id"] for r in results}) == 1
    assert len([r for r in results if r.body["web_access"]["initial_password"]]) == 1
