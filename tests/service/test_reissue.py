"""Authorisation on a DMP for its web access, and the reissue of an initial password whose
answer was lost (POST /v1/dmp/web-access/password), against the real service over HTTPS on
both backends; then the lost answer end to end through the workstation's controller.

The middlewares below stage what a single machine cannot: a network that drops an answer
after the service committed, and a service that cannot be reached for one call. The service
behind them, uvicorn, TLS and the database are the real ones."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from proclient.controllers.creation import CreationController, password_lost
from proclient.controllers.paper import PaperController
from proclient.core.domain import Authorization, WebAccess
from proclient.core.records import CreationReceipt
from proclient.credentials.software import unlock_demo
from proclient.ports import ServiceBinding
from proclient.server.operations import verify_password
from proclient.service.client import DmpServiceClient
from proclient.service.errors import ServiceError
from proclient.service.journal import IdempotencyJournal

from .helpers import BEN_SAID, LE_GOFF, LEA_DURAND, creation, insi_ready

WEB = WebAccess(email="gerard.legoff@exemple.fr", mobile="+33612345678")
REISSUE = "/v1/dmp/web-access/password"


def key() -> str:
    return str(uuid.uuid4())


async def refused(call) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        await call
    return error.value


def stored_hash(server, dmp_id: str) -> str:
    with server.storage.read() as conn:
        return conn.execute(
            "SELECT password_hash FROM web_accounts WHERE dmp_id = ?", (dmp_id,)
        ).fetchone()[0]


def audited(server, action: str) -> list[tuple[str, str]]:
    with server.storage.read() as conn:
        rows = conn.execute(
            "SELECT id_nat, dmp_id FROM audit WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [tuple(row) for row in rows]


def ins_body(patient) -> dict:
    return {"ins": {"value": patient.ins.value, "oid": patient.ins.oid}}


# --- the service -------------------------------------------------------------------------------


async def test_reissue_hands_out_a_new_password_once_and_voids_the_old(connected, server):
    await insi_ready(server.storage, connected, LE_GOFF)
    created = await connected.submit(creation(web=WEB), key())
    first = created.web.initial_password
    assert first and verify_password(first, stored_hash(server, created.dmp_id))

    reissue_key = key()
    again = await connected.reissue_password(LE_GOFF.ins, reissue_key)

    assert again.login == created.web.login
    assert again.initial_password and again.initial_password != first
    current = stored_hash(server, created.dmp_id)
    assert verify_password(again.initial_password, current)
    assert not verify_password(first, current)  # the lost password is void
    # The same key again (its answer lost): the replay carries no password, changes nothing.
    replay = await connected.reissue_password(LE_GOFF.ins, reissue_key)
    assert (replay.login, replay.initial_password) == (again.login, None)
    assert stored_hash(server, created.dmp_id) == current
    assert audited(server, "web_access_reissue") == [("899700024450", created.dmp_id)]


async def test_reissue_over_http_is_201_then_a_replay_without_password(connected, server, tls):
    await insi_ready(server.storage, connected, LE_GOFF)
    await connected.submit(creation(web=WEB), key())
    headers = {"Authorization": f"Bearer {connected._token}", "Idempotency-Key": key()}
    async with httpx.AsyncClient(base_url=server.base_url, verify=tls.context) as http:
        first = await http.post(REISSUE, json=ins_body(LE_GOFF), headers=headers)
        replay = await http.post(REISSUE, json=ins_body(LE_GOFF), headers=headers)
        other = await http.post(REISSUE, json=ins_body(LEA_DURAND), headers=headers)
        no_key = await http.post(
            REISSUE, json=ins_body(LE_GOFF), headers={"Authorization": headers["Authorization"]}
        )
    assert first.status_code == 201
    assert first.json()["initial_password"] and first.json()["already_issued"] is False
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["initial_password"] is None and replay.json()["already_issued"] is True
    assert (other.status_code, other.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert (no_key.status_code, no_key.json()["code"]) == (400, "IDEMPOTENCY_KEY_REQUIRED")


async def test_reissue_needs_an_active_dmp_with_a_web_account(connected, server):
    missing = await refused(connected.reissue_password(LE_GOFF.ins, key()))
    assert (missing.code, missing.status) == ("DMPNotFound", 404)

    await insi_ready(server.storage, connected, LE_GOFF)
    await connected.submit(creation(), key())  # no online access
    without = await refused(connected.reissue_password(LE_GOFF.ins, key()))
    assert (without.code, without.status) == ("DMPPatientAccessNotFound", 404)
    assert "pas d'accès en ligne" in without.message

    server.storage.seed_dmp(
        BEN_SAID.ins,
        {"last_name": "BEN SAID", "first_name": "KARIM", "birth_date": "19550000", "sex": "M"},
        "closed",
    )
    closed = await refused(connected.reissue_password(BEN_SAID.ins, key()))
    assert (closed.code, closed.status) == ("DMPClosed", 409)
    assert audited(server, "web_access_reissue") == []


async def test_a_professional_not_authorised_on_the_dmp_is_refused(
    connected, server, tls, pki, credential
):
    nurse = DmpServiceClient(server.base_url, verify=tls.context)
    try:
        await nurse.login(unlock_demo(pki.professionals[1]))
        await insi_ready(server.storage, connected, LE_GOFF)
        created = await connected.submit(creation(), key())  # the pharmacist's DMP

        # Status stays open to any professional, and says who may act.
        state = await nurse.status(LE_GOFF.ins)
        assert (state.web_access, state.authorization) == (False, Authorization.NON_EXISTE)
        opening = await refused(nurse.open_web_access(LE_GOFF.ins, WEB, key()))
        assert (opening.code, opening.status) == ("DMP_NOT_AUTHORIZED", 403)
        assert "pas autorisé" in opening.message
        assert LE_GOFF.ins.value not in opening.message
        assert not (await connected.status(LE_GOFF.ins)).web_access  # nothing was opened

        opened = await connected.open_web_access(LE_GOFF.ins, WEB, key())
        before = stored_hash(server, created.dmp_id)
        reissue = await refused(nurse.reissue_password(LE_GOFF.ins, key()))
        assert (reissue.code, reissue.status) == ("DMP_NOT_AUTHORIZED", 403)
        assert stored_hash(server, created.dmp_id) == before
        assert verify_password(opened.initial_password, before)  # still the patient's

        # A DMP nobody was granted (seeded): its creator's rights are nobody's.
        server.storage.seed_dmp(
            BEN_SAID.ins,
            {"last_name": "BEN SAID", "first_name": "KARIM", "birth_date": "19550000"},
            "active",
        )
        seeded = await refused(connected.open_web_access(BEN_SAID.ins, WEB, key()))
        assert seeded.code == "DMP_NOT_AUTHORIZED"
    finally:
        await nurse.aclose()
    assert audited(server, "web_access_reissue") == []
    assert [row[0] for row in audited(server, "web_access")] == ["899700024450"]


# --- through the workstation's controller --------------------------------------------------------


class Network:
    """In front of the reissue route: ``drop`` answers are cut after the service committed
    (the headers go out, the connection closes before the body); while ``down`` is set the
    route answers 503. Counts the reissue requests that reached it."""

    def __init__(self, drop: int = 0) -> None:
        self.drop, self.down, self.reissues = drop, False, 0

    def wrap(self, app):
        async def middleware(scope, receive, send):
            if scope["type"] != "http" or scope["path"] != REISSUE:
                return await app(scope, receive, send)
            self.reissues += 1
            if self.down:
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            if self.drop <= 0:
                return await app(scope, receive, send)
            self.drop -= 1

            async def cut(message):
                await send(message)
                if message["type"] == "http.response.start":
                    raise ConnectionResetError("the answer is lost on its way")

            await app(scope, receive, cut)

        return middleware


def controller_for(client: DmpServiceClient, pending) -> CreationController:
    return CreationController(lambda: ServiceBinding(client, None, "test"), pending)


async def test_lost_creation_answer_comes_back_with_a_new_usable_password(
    serve, tls, credential, tmp_path
):
    server = serve()
    pending, receipts = tmp_path / "pending", tmp_path / "receipts"
    async with DmpServiceClient(server.base_url, verify=tls.context) as client:
        professional = await client.login(credential)
        await insi_ready(server.storage, client, LE_GOFF)
        controller = controller_for(client, pending)
        await controller.start()
        request = creation(web=WEB)
        # The first sending: the key is on disk, the service commits, the answer is lost.
        lost = await client.submit(request, controller.key_for(request))
        assert lost.web.initial_password

        result = await controller.submit(request)  # the professional sends again

    assert result.dmp_id == lost.dmp_id and result.web.login == lost.web.login
    password = result.web.initial_password
    assert password and password != lost.web.initial_password
    assert controller.password_error is None
    current = stored_hash(server, result.dmp_id)
    assert verify_password(password, current)
    assert not verify_password(lost.web.initial_password, current)
    assert IdempotencyJournal(pending).pending() == 0
    assert audited(server, "web_access_reissue") == [(professional.id_nat, result.dmp_id)]
    with server.storage.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM dmps").fetchone()[0] == 1

    # The accusé and the secrets sheet as after any creation; the password on the sheet only.
    paper = PaperController(receipts, "a4")
    receipt = CreationReceipt(request, professional, result.dmp_id, result.at, demo=True)
    _preview, error = await asyncio.to_thread(paper.issue, receipt, result)
    assert error == ""
    assert paper.receipt_path.is_file()
    assert password.encode() not in paper.receipt_path.read_bytes()
    assert paper.secrets.initial_password == password
    assert paper.secrets.login == result.web.login
    assert [entry.dmp_id for entry in paper.journal()] == [result.dmp_id]


async def test_a_reissue_whose_own_answer_is_lost_is_asked_again_with_a_new_key(
    serve, tls, credential, tmp_path
):
    network = Network(drop=1)
    server = serve(wrap=network.wrap)
    async with DmpServiceClient(server.base_url, verify=tls.context) as client:
        await client.login(credential)
        await insi_ready(server.storage, client, LE_GOFF)
        controller = controller_for(client, tmp_path / "pending")
        await controller.start()
        request = creation(web=WEB)
        await client.submit(request, controller.key_for(request))  # answer lost
        result = await controller.submit(request)

    # Dropped, resent with its key (a replay without password), then a new key.
    assert network.reissues == 3
    assert len(audited(server, "web_access_reissue")) == 2
    assert result.web.initial_password
    assert verify_password(result.web.initial_password, stored_hash(server, result.dmp_id))


async def test_reissue_failing_leaves_the_creation_done_and_can_be_asked_again(
    serve, tls, credential, tmp_path
):
    network = Network()
    server = serve(wrap=network.wrap)
    async with DmpServiceClient(server.base_url, verify=tls.context, retry_budget=1.0) as client:
        await client.login(credential)
        await insi_ready(server.storage, client, LE_GOFF)
        controller = controller_for(client, tmp_path / "pending")
        await controller.start()
        request = creation(web=WEB)
        lost = await client.submit(request, controller.key_for(request))
        network.down = True

        result = await controller.submit(request)  # no exception: the DMP exists

        assert result.dmp_id == lost.dmp_id and result.web.initial_password is None
        assert controller.password_error.code == "SERVICE_UNAVAILABLE"
        assert "ne répond pas" in controller.password_error.message
        assert IdempotencyJournal(tmp_path / "pending").pending() == 0
        # The lost password is still the stored one: nothing was changed.
        assert verify_password(lost.web.initial_password, stored_hash(server, lost.dmp_id))

        network.down = False
        again = await controller.reissue_password(request, result)

    assert again.dmp_id == result.dmp_id and again.web.login == lost.web.login
    assert controller.password_error is None
    current = stored_hash(server, lost.dmp_id)
    assert verify_password(again.web.initial_password, current)
    assert not verify_password(lost.web.initial_password, current)


async def test_a_first_answer_with_its_password_is_not_reissued(serve, tls, credential, tmp_path):
    network = Network()
    server = serve(wrap=network.wrap)
    async with DmpServiceClient(server.base_url, verify=tls.context) as client:
        await client.login(credential)
        await insi_ready(server.storage, client, LE_GOFF, BEN_SAID)
        controller = controller_for(client, tmp_path / "pending")
        await controller.start()
        request = creation(web=WEB)
        result = await controller.submit(request)
        without_web = await controller.submit(creation(BEN_SAID))
    assert result.web.initial_password
    assert verify_password(result.web.initial_password, stored_hash(server, result.dmp_id))
    assert without_web.web is None
    assert network.reissues == 0
    assert not password_lost(request, result)
