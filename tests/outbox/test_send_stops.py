"""What a send run does with the service's answers that mean "not now" at the creation: it stops,
and the entry stays to be resent (never held with a reason the professional would have to clear).

The service port is a stand-in here: a service answering 503 (busy) or refusing the TLS
handshake after its retries is slow and hard to produce on demand; the replay against the
real service is tested in tests/tui/test_offline_capture.py and benchmarks/outbox_kill.py."""

from __future__ import annotations

import pytest

from proclient.controllers.outbox import OutboxController
from proclient.core.domain import BirthDate, Consent, IdentitySource, Professional, Sex
from proclient.core.identity import Document, HeldIdentity
from proclient.outbox.entry import capture
from proclient.outbox.port import EntryState
from proclient.service.errors import ServiceError
from tests.test_flow import register_answer

HELD = HeldIdentity(
    "LE GOFF", "Gérard", BirthDate("19520314"), Sex.MALE, "152033523804587", IdentitySource.CARD, 1
)


class Unavailable:
    """The service port: INSi answers (the demo register), then the creation gets ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code

    async def insi_by_card(self, query):
        return register_answer(query.nir)

    async def submit(self, request, key, proof=None):
        raise ServiceError(self.code, "—", 503)


@pytest.mark.parametrize(
    "code", ["SERVICE_UNAVAILABLE", "SERVICE_BUSY", "SERVICE_TLS_REFUSED", "AUTH_RATE_LIMITED"]
)
async def test_a_service_not_answering_now_stops_the_run_and_holds_nothing(
    code, outbox, credential
):
    entry_id = outbox.put(
        capture(HELD, Document.PASSPORT, Consent(creation=True), None, credential)
    )
    controller = OutboxController(outbox)
    professional = Professional(credential.professional.id_nat, "", "", "60")

    async def never(*_args):
        raise AssertionError("no accusé without a creation")

    report = await controller.send(Unavailable(code), professional, never)

    assert report.stopped is not None and report.stopped.code == code
    assert report.held == [] and report.created == []
    (summary,) = outbox.list()
    # SENDING: the creation may have reached the service; the next run resends the same key.
    assert (summary.id, summary.state, summary.reason) == (entry_id, EntryState.SENDING, "")
