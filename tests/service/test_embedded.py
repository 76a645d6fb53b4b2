"""The service inside the application's process, as the demo uses it."""

from __future__ import annotations

import uuid

from proclient.core.domain import Action, DmpStatus, WebAccess
from proclient.credentials.software import unlock_demo
from proclient.embedded_service import embedded_client
from proclient.service.errors import ServiceError

from .helpers import BEN_SAID, LE_GOFF, creation, look_up, patient

CASANOVA = patient("291092A00401281", "19910905", "CASANOVA-ORSINI", "MARIE-ANGE")


async def test_embedded_service_shows_the_demo_paths(tmp_path):
    client, pki = embedded_client(tmp_path)
    try:
        professional = await client.login(unlock_demo(pki.default))
        assert professional.structure == "Pharmacie de la Gare"
        assert (await client.status(LE_GOFF.ins)).status is DmpStatus.NOT_FOUND
        assert (await client.status(CASANOVA.ins)).status is DmpStatus.ACTIVE
        assert (await client.status(BEN_SAID.ins)).status is DmpStatus.CLOSED
        await look_up(client, LE_GOFF, BEN_SAID, CASANOVA)  # the demo register holds them

        created = await client.submit(
            creation(web=WebAccess(email="g@exemple.fr")), str(uuid.uuid4())
        )
        assert created.web.initial_password
        reactivated = await client.submit(
            creation(BEN_SAID, action=Action.REACTIVATION), str(uuid.uuid4())
        )
        assert reactivated.action is Action.REACTIVATION
        try:
            await client.submit(creation(CASANOVA), str(uuid.uuid4()))
        except ServiceError as error:
            assert error.code == "DMPFound"
        else:
            raise AssertionError("a second DMP was created")
    finally:
        await client.aclose()

    # A second start reuses the PKI and puts the seeded DMPs back; LE GOFF's stays.
    again, pki_again = embedded_client(tmp_path)
    try:
        assert pki_again.ca_pem == pki.ca_pem
        await again.login(unlock_demo(pki_again.by_id("899700045679")))
        assert (await again.status(BEN_SAID.ins)).status is DmpStatus.CLOSED
        assert (await again.status(LE_GOFF.ins)).status is DmpStatus.ACTIVE
    finally:
        await again.aclose()

    reset, pki_reset = embedded_client(tmp_path, reset_demo=True)
    try:
        await reset.login(unlock_demo(pki_reset.default))
        assert (await reset.status(LE_GOFF.ins)).status is DmpStatus.NOT_FOUND
    finally:
        await reset.aclose()
