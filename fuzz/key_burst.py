"""Key bursts: random keys sent to the real demo app faster than its screens change.

A counter keyboard, a barcode scanner or a stuck key sends keys in bursts. Each run starts
the demo app (virtual cards, the embedded service) in one of the app's screens, reached by
keyboard as a user would, then posts bursts of random keys straight into the App's queue —
no pause between the keys of a burst, as a terminal delivers them — and lets the app catch up
between bursts. Any exception, any screen-stack error, ends the run with the seed to replay.

    .venv/bin/python fuzz/key_burst.py --keys 100000 --seed 7   # prints the figures

tests/tui/test_key_burst.py runs the same with a fixed seed and fewer keys.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import string
import sys
import tempfile
import time
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events
from textual.keys import _get_unicode_name_from_key

# Printable keys (the letters and digits a scanner types), function keys, and the keys that
# move or close: Enter and Esc weighted up (storms). F10 and Ctrl+Q are left out: they end
# the run on purpose (the quit path has its own tests).
PRINTABLE = list(string.ascii_lowercase + string.digits) + ["space", "minus", "slash"]
FUNCTION = ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f11", "f12"]
MOVING = ["tab", "shift+tab", "up", "down", "left", "right", "home", "end", "backspace"]
MOVING += ["delete", "pageup", "pagedown", "ctrl+p"]
KEYS = PRINTABLE + FUNCTION + MOVING + ["enter"] * 12 + ["escape"] * 12

SIZES = ((80, 24), (60, 20), (120, 40))


def key_event(key: str) -> events.Key:
    """The event a terminal delivers for ``key`` (as Textual's pilot builds it)."""
    try:
        character = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        character = key if len(key) == 1 else None
    return events.Key(key, character)


async def until(pilot, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the starting screen did not come")
        await pilot.pause(0.05)
    # The new screen mounted and drawn (its focus set) before the next key.
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def _on(app, name: str) -> bool:
    return type(app.screen).__name__ == name


# --- where each run starts, reached by keyboard -------------------------------------------------


async def _ready(pilot, app) -> None:
    await until(pilot, lambda: app.creation.binding is not None)


async def _card(pilot, app, key: str = "legoff") -> None:
    await _ready(pilot, app)
    app.routes.cards.insert_demo_card(key)
    await until(pilot, lambda: _on(app, "IdentifyScreen"))


async def _connect(pilot, app, key: str = "legoff") -> None:
    await _card(pilot, app, key)
    await pilot.press("enter")
    await until(pilot, lambda: _on(app, "ConnectScreen"))


async def _signed_in(pilot, app, key: str = "legoff") -> None:
    await _connect(pilot, app, key)
    await pilot.press(*"1234", "enter")
    await until(pilot, lambda: app.flow.identity is not None)
    await pilot.press("enter")  # the first document offered
    await until(pilot, lambda: app.flow.identity.status is not None)


async def _consent(pilot, app, key: str = "legoff") -> None:
    await _signed_in(pilot, app, key)
    await pilot.press("f8")
    await until(pilot, lambda: _on(app, "ConsentScreen"))


async def _online(pilot, app) -> None:
    await _consent(pilot, app)
    await pilot.press("space", "f8")
    await until(pilot, lambda: _on(app, "OnlineAccessScreen"))


async def _summary(pilot, app) -> None:
    await _online(pilot, app)
    await pilot.press("space", "tab", *"a@b.fr", "f8")
    await until(pilot, lambda: _on(app, "SummaryScreen"))


async def _done(pilot, app) -> None:
    await _summary(pilot, app)
    await pilot.press("enter")
    await until(pilot, lambda: _on(app, "DoneScreen"))


async def _recorded(pilot, app) -> None:
    await _ready(pilot, app)
    app.routes.service.toggle_demo_network()
    await until(pilot, lambda: app.creation.probe.state.value == "unreachable")
    await _connect(pilot, app)
    await pilot.press(*"1234", "enter")
    await until(pilot, lambda: app.flow.offline)
    await pilot.press("enter")
    await until(pilot, lambda: app.flow.document is not None)
    await pilot.press("f8")
    await until(pilot, lambda: _on(app, "ConsentScreen"))
    await pilot.press("space", "f8")
    await until(pilot, lambda: _on(app, "OnlineAccessScreen"))
    await pilot.press("f8")
    await until(pilot, lambda: _on(app, "SummaryScreen"))
    await pilot.press("enter")
    await until(pilot, lambda: _on(app, "RecordedScreen"))


async def _outbox(pilot, app) -> None:
    await _recorded(pilot, app)
    await pilot.press("enter")
    await until(pilot, lambda: _on(app, "HomeScreen") and app.outbox.pending > 0)
    await pilot.press("f7")
    await until(pilot, lambda: _on(app, "OutboxScreen"))


async def _picker(pilot, app) -> None:
    await _ready(pilot, app)
    await pilot.press("f2")
    await until(pilot, lambda: _on(app, "DemoCardPicker"))


async def _family(pilot, app) -> None:
    await _card(pilot, app, "durand")


async def _minor(pilot, app) -> None:
    await _card(pilot, app, "durand")
    await pilot.press("down", "enter")  # Léa, a minor
    await until(pilot, lambda: _on(app, "ConnectScreen"))
    await pilot.press(*"1234", "enter")
    await until(pilot, lambda: app.flow.identity is not None)
    await pilot.press("enter")
    await until(pilot, lambda: app.flow.identity.status is not None)
    await pilot.press("f8")
    await until(pilot, lambda: _on(app, "ConsentScreen"))


async def _journal(pilot, app) -> None:
    await _ready(pilot, app)
    await pilot.press("f9")
    await until(pilot, lambda: _on(app, "JournalScreen"))


async def _locked(pilot, app) -> None:
    await _signed_in(pilot, app)
    app.routes.session.lock()
    await until(pilot, lambda: _on(app, "LockScreen"))


async def _resume(pilot, app) -> None:
    await _consent(pilot, app)
    app.routes.cards.remove_demo_card()
    await until(pilot, lambda: _on(app, "HomeScreen"))
    await asyncio.sleep(0.7)  # a card put back too soon can leave the slot empty
    app.routes.cards.insert_demo_card("legoff")
    await until(pilot, lambda: _on(app, "ResumeModal"))


async def _manual(pilot, app) -> None:
    await _ready(pilot, app)
    await pilot.press("f6")
    await until(pilot, lambda: _on(app, "ManualEntryScreen"))


async def _home(pilot, app) -> None:
    await _ready(pilot, app)


async def _palette(pilot, app) -> None:
    await _ready(pilot, app)
    await pilot.press("ctrl+p")
    await until(pilot, lambda: _on(app, "Palette"))


STARTS: dict[str, Callable[..., Awaitable[None]]] = {
    "home": _home,
    "picker": _picker,
    "family": _family,
    "manual_entry": _manual,
    "connect": _connect,
    "consent_minor": _minor,
    "online_access": _online,
    "summary": _summary,
    "done": _done,
    "recorded": _recorded,
    "outbox": _outbox,
    "journal": _journal,
    "locked": _locked,
    "resume": _resume,
    "palette": _palette,
}


async def burst_run(make_app, start: str, keys: int, seed: int, size=(80, 24)) -> dict:
    """One app started at ``start``, then ``keys`` random keys in bursts of 1 to 60; returns
    what was seen (keys sent, screens visited). Raises whatever the app raised."""
    rng = random.Random(seed)
    app = make_app()
    seen: set[str] = set()
    sent = 0
    async with app.run_test(size=size) as pilot:
        await STARTS[start](pilot, app)
        while sent < keys and app.is_running:
            burst = min(rng.randint(1, 60), keys - sent)
            for _ in range(burst):
                app.post_message(key_event(rng.choice(KEYS)))
            sent += burst
            seen.add(type(app.screen).__name__)
            await pilot.pause()
            seen.add(type(app.screen).__name__)
    if app.return_code:
        raise AssertionError(f"the app ended with status {app.return_code} (start {start})")
    return {"keys": sent, "screens": seen}


def demo_app_factory(home: Path):
    """Apps on the demo wiring in ``home`` (its own PROCLIENT_HOME), each as after
    ``proclient demo --reset``: the demo service's DMPs and the demo CPS's tries afresh (a
    run's random keys create DMPs and type wrong codes; the next run starts clean)."""
    os.environ["PROCLIENT_HOME"] = str(home)
    from proclient.app import ProclientApp
    from proclient.core.settings import Paths, load_settings
    from proclient.credentials.demo_tries import DEMO_TRIES_FILE, DemoPinCounter
    from proclient.wiring import demo_wiring

    def make():
        settings = load_settings(Paths.resolve())
        for leftover in settings.paths.demo_dir.glob("dmp-service.sqlite3*"):
            leftover.unlink()
        DemoPinCounter(settings.paths.demo_dir / DEMO_TRIES_FILE).reset()
        return ProclientApp(demo_wiring(settings))

    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys in all")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("LANGUAGE", "fr")
    per_run = -(-args.keys // (len(STARTS) * len(SIZES)))  # rounded up: at least --keys
    total, screens, runs = 0, set(), 0
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="proclient-burst-") as home:
        make = demo_app_factory(Path(home))
        for index, start in enumerate(STARTS):
            for size in SIZES:
                seed = args.seed * 1000 + index * 10 + SIZES.index(size)
                try:
                    result = asyncio.run(burst_run(make, start, per_run, seed, size))
                except Exception as error:
                    print(f"FAILED: start={start} size={size} seed={seed}: {error!r}")
                    return 1
                total += result["keys"]
                screens |= result["screens"]
                runs += 1
                print(f"{start:14} {size[0]}x{size[1]}: {result['keys']} keys, ok", flush=True)
    elapsed = time.monotonic() - began
    print(
        f"{total} keys in {runs} runs, {len(screens)} screens seen ({', '.join(sorted(screens))}), "
        f"no exception, {elapsed:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
