"""A process appending audit lines to a service database, as a worker does: ``python -m
tests.service.journal_appender DATABASE COUNT`` (COUNT 0: until killed). Prints how many
lines it committed after each, so that the test knows how far it went; seals as the service's
sealer does."""

from __future__ import annotations

import itertools
import os
import sys

from proclient.server.journal import Journal
from proclient.server.storage import Storage


def main(database: str, count: int) -> None:
    storage = Storage(database)
    storage.db.migrate()  # the pseudonym key is not needed: patient_ref is given
    storage.journal = Journal(mac_key=b"k" * 32)  # tests/service/test_journal.py's MAC_KEY
    pid = os.getpid()
    numbers = range(count) if count else itertools.count()
    try:
        for number in numbers:
            with storage.transaction() as conn:
                storage.journal.append(
                    conn,
                    {
                        "at": "2026-12-07T00:00:00+00:00",
                        "id_nat": f"pid-{pid}",
                        "action": "session",
                        "patient_ref": f"ref-{number}",
                    },
                )
            storage.journal.seal(storage.db)  # as the service's sealer, a moment later
            print(number + 1, flush=True)  # lines committed so far
    finally:
        storage.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
