"""Requests racing in the service's threads, on SQLite and PostgreSQL: the database's locks
must serialise the writes about one patient and under one idempotency key."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import pytest

from proclient.core.domain import Action, Professional, WebAccess
from proclient.server.operations import DmpOperations
from proclient.server.problems import Problem
from proclient.server.schemas import CreationIn
from proclient.server.settings import ServerSettings
from proclient.server.storage import Storage
from proclient.service.client import creation_body

from .helpers import LE_GOFF, creation, look_up_direct, put_in_register

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


@pytest.fixture
def storage(database_url) -> Iterator[Storage]:
    store = Storage(database_url())
    store.initialize()
    yield store
    store.close()


@pytest.fixture
def service(storage: Storage) -> DmpOperations:
    """The operations, with LE GOFF in the INSi register and looked up by the pharmacist."""
    settings = ServerSettings(database=":unused:", trusted_ca_pem=b"")
    operations = DmpOperations(settings, storage)
    put_in_register(storage, LE_GOFF)
    look_up_direct(operations, PHARMACIST, LE_GOFF)
    return operations


def count_dmps(storage: Storage) -> int:
    with storage.read() as conn:
        return conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0]


def test_racing_creations_for_one_patient_create_one_dmp(service, storage):
    body = CreationIn.model_validate(creation_body(creation()))
    results = race(
        16,
        lambda: service.write_dmp(PHARMACIST, str(uuid.uuid4()), body, Action.CREATION),
    )
    statuses = sorted(str(getattr(r, "status_code", r)) for r in results)
    assert statuses == ["201"] + ["DMPFound"] * 15
    assert count_dmps(storage) == 1


def test_racing_retries_with_one_key_open_one_web_account(service, storage):
    body = CreationIn.model_validate(creation_body(creation(web=WebAccess("a@b.fr"))))
    key = str(uuid.uuid4())
    results = race(8, lambda: service.write_dmp(PHARMACIST, key, body, Action.CREATION))
    answers = [r for r in results if hasattr(r, "body")]
    assert {r for r in results if isinstance(r, str)} <= {"IDEMPOTENCY_IN_PROGRESS"}, results
    assert len({r.body["dmp_id"] for r in answers}) == 1
    assert len([r for r in answers if r.body["web_access"]["initial_password"]]) == 1
    with storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM web_accounts").fetchone()[0] == 1
    assert count_dmps(storage) == 1


def test_retry_while_the_first_is_running_is_409_then_replays(service, storage, monkeypatch):
    body = CreationIn.model_validate(creation_body(creation(web=WebAccess("a@b.fr"))))
    key = str(uuid.uuid4())
    inside, release = threading.Event(), threading.Event()
    insert = storage.insert_dmp

    def slow_insert(*args, **kwargs):
        inside.set()
        assert release.wait(10)
        return insert(*args, **kwargs)

    monkeypatch.setattr(storage, "insert_dmp", slow_insert)
    first: list[object] = []
    worker = threading.Thread(
        target=lambda: first.append(service.write_dmp(PHARMACIST, key, body, Action.CREATION))
    )
    worker.start()
    try:
        assert inside.wait(10)
        with pytest.raises(Problem) as busy:
            service.write_dmp(PHARMACIST, key, body, Action.CREATION)
        assert (busy.value.code, busy.value.status) == ("IDEMPOTENCY_IN_PROGRESS", 409)
    finally:
        release.set()
        worker.join(10)
    assert first[0].body["web_access"]["initial_password"]
    replay = service.write_dmp(PHARMACIST, key, body, Action.CREATION)
    assert replay.replayed and replay.body["dmp_id"] == first[0].body["dmp_id"]
    assert replay.body["web_access"]["initial_password"] is None
    assert replay.body["web_access"]["already_issued"] is True
    other = CreationIn.model_validate(creation_body(creation()))
    with pytest.raises(Problem) as reused:
        service.write_dmp(PHARMACIST, key, other, Action.CREATION)
    assert (reused.value.code, reused.value.status) == ("IDEMPOTENCY_KEY_REUSED", 422)


def test_two_service_processes_on_one_database_create_one_dmp(database_url):
    """Two services (two workers, two hosts) on one database: no in-process lock helps
    there, only the database's."""
    url = database_url()
    key = uuid.uuid4().bytes * 2  # one service's pseudonymisation key file, read by both
    stores = [Storage(url, key) for _ in range(2)]
    for store in stores:
        store.initialize()
    try:
        settings = ServerSettings(database=":unused:", trusted_ca_pem=b"")
        services = [DmpOperations(settings, store) for store in stores]
        put_in_register(stores[0], LE_GOFF)
        look_up_direct(services[1], PHARMACIST, LE_GOFF)  # recorded in the shared database
        body = CreationIn.model_validate(creation_body(creation(web=WebAccess("a@b.fr"))))
        key = str(uuid.uuid4())
        turn = iter(range(100))
        results = race(
            8, lambda: services[next(turn) % 2].write_dmp(PHARMACIST, key, body, Action.CREATION)
        )
        answers = [r for r in results if hasattr(r, "body")]
        assert {r for r in results if isinstance(r, str)} <= {"IDEMPOTENCY_IN_PROGRESS"}, results
        assert len([r for r in answers if r.body["web_access"]["initial_password"]]) == 1
        assert count_dmps(stores[0]) == 1
    finally:
        for store in stores:
            store.close()
