"""A process appending audit lines to a service database, as a worker does: ``python -m
tests.service.journal_appender DATABASE COUNT`` (COUNT 0: until killed). Prints each line's
seq once its transaction has committed, so that the test knows how far it went."""

from __future__ import annotations

import itertools
import os
import sys

from proclient.server.storage import Storage


def main(database: str, count: int) -> None:
    storage = Storage(database)
    storage.db.migrate()  # the pseudonym key is not needed: patient_ref is given
    pid = os.getpid()
    numbers = range(count) if count else itertools.count()
    try:
        for number in numbers:
            with storage.transaction() as conn:
                seq = storage.journal.append(
                    conn,
                    {
                        "at": "2026-12-07T00:00:00+00:00",
                        "id_nat": f"pid-{pid}",
                        "action": "session",
                        "patient_ref": f"ref-{number}",
                    },
                )
            print(seq, flush=True)
    finally:
        storage.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
