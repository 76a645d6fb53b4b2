"""atheris fuzzing of the Vitale parsers and the T=0 transport (coverage-guided).

    .venv/bin/pip install atheris   # not a test dependency: the tests fuzz with hypothesis
    .venv/bin/python fuzz/fuzz_card.py -runs=200000          # or -max_total_time=60

Any exception other than CardError is a crash that atheris reports with the input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).parent))

with atheris.instrument_imports():
    import targets

    import proclient.cardreader.apdu  # noqa: F401
    import proclient.cardreader.tlv  # noqa: F401
    import proclient.cardreader.vitale  # noqa: F401


def one_input(data: bytes) -> None:
    if not data:
        return
    target = (targets.parsers, targets.transport, targets.whole_read)[data[0] % 3]
    target(data[1:])


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
