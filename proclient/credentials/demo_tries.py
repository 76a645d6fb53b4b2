"""The demo CPS's try counter: three wrong codes block it, as a card's chip does.

The demo's credential (a software key, or a SoftHSM2 token, which never blocks) keeps no
count of wrong codes; a CPS does, in the card, across sessions and restarts. So that
training shows the real sequence (2 tries left, last try, blocked), the demo card's count
lives in a file of the demo folder (mode 600): one wrong code more on each refusal, back to
zero on the right code. Unlike a card, the demo one can be unblocked without a PUK (F7 on the
PIN screens, or ``proclient demo --reset``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from proclient.core.fileutil import write_private
from proclient.credentials.pin import CPS_PIN_TRIES

DEMO_TRIES_FILE = "cps-essais"


class DemoPinCounter:
    """How many wrong codes in a row the demo card has seen (0 to ``tries``)."""

    def __init__(self, path: Path, tries: int = CPS_PIN_TRIES) -> None:
        self.path = Path(path)
        self.tries = tries

    def failures(self) -> int:
        try:
            count = int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return 0  # never written, or unreadable: a fresh card
        return min(max(count, 0), self.tries)

    def tries_left(self) -> int:
        return self.tries - self.failures()

    def failed(self) -> int:
        """One more wrong code; returns the tries left."""
        count = min(self.failures() + 1, self.tries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.path, f"{count}\n".encode("ascii"))
        return self.tries - count

    def reset(self) -> None:
        """The right code, or the demo's unblocking: all tries back."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
