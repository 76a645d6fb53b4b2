"""A workstation as its own process: log in, ask INSi for LE GOFF (by the card), create his
DMP with web access, print the answer as JSON. Run by the tests with ``python -m tests.service.workstation URL CA PKI JOURNAL``
so that they can kill it with SIGKILL at the worst moment and start it again."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from proclient.core.domain import WebAccess
from proclient.credentials.software import unlock_demo
from proclient.server.demo import ensure_demo_pki
from proclient.service.client import DmpServiceClient
from proclient.service.journal import IdempotencyJournal

from .helpers import LE_GOFF, creation, look_up


async def main(url: str, ca_bundle: str, pki_dir: str, journal_dir: str) -> None:
    journal = IdempotencyJournal(Path(journal_dir))
    request = creation(web=WebAccess(email="gerard.legoff@exemple.fr"))
    key = journal.key_for(request)  # on disk before the request leaves
    print(json.dumps({"key": key}), flush=True)
    async with DmpServiceClient(url, verify=ca_bundle) as client:
        await client.login(unlock_demo(ensure_demo_pki(Path(pki_dir)).default))
        await look_up(client, LE_GOFF)
        result = await client.submit(request, key)
    journal.done(request)
    print(
        json.dumps(
            {
                "dmp_id": result.dmp_id,
                "password_received": bool(result.web and result.web.initial_password),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
