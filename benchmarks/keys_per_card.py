"""Keys from the card in the reader to the accusé, per demo card, by keyboard (the demo,
the CPS session closed, consent given, no online access; the document seen: the passport for
an adult, the livret de famille for a minor). Not speed: the count the counter feels.

Run: .venv/bin/python benchmarks/keys_per_card.py
"""

import asyncio
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.getcwd())
os.environ.setdefault("LANGUAGE", "fr")


async def run(key, script):
    from proclient.core.settings import load_settings

    home = tempfile.mkdtemp()
    os.environ["PROCLIENT_HOME"] = home
    settings = load_settings()
    from proclient.app import ProclientApp
    from proclient.wiring import demo_wiring

    app = ProclientApp(demo_wiring(settings))
    count = 0
    async with app.run_test(size=(110, 45)) as pilot:

        async def wait(pred, t=20):
            for _ in range(int(t / 0.05)):
                if pred():
                    await pilot.pause(0.1)
                    return
                await pilot.pause(0.05)
            raise AssertionError(f"{key}: timeout at {count} keys on {type(app.screen).__name__}")

        async def press(*keys):
            nonlocal count
            count += len(keys)
            await pilot.press(*keys)
            await pilot.pause(0.15)

        await wait(lambda: app.creation.binding is not None)
        app.routes.cards.insert_demo_card(key)
        from proclient.screens.identify import IdentifyScreen

        await wait(lambda: isinstance(app.screen, IdentifyScreen))
        await script(app, press, wait)
        name = type(app.screen).__name__
    shutil.rmtree(home, ignore_errors=True)
    return count, name


def S(name):
    import importlib

    mod = {
        "Connect": "connect",
        "Consent": "consent",
        "Online": "online_access",
        "Summary": "summary",
        "Done": "done",
    }[name]
    cls = {
        "Connect": "ConnectScreen",
        "Consent": "ConsentScreen",
        "Online": "OnlineAccessScreen",
        "Summary": "SummaryScreen",
        "Done": "DoneScreen",
    }[name]
    return getattr(importlib.import_module("proclient.screens." + mod), cls)


def adult(downs):
    async def script(app, press, wait):
        await press(*(["down"] * downs), "enter")
        await wait(lambda: isinstance(app.screen, S("Connect")))
        await press(*"1234", "enter")
        await wait(lambda: app.flow.dmp_state is not None)
        await press("enter")  # the passport
        if app.flow.dmp_state.status.value == "active":
            return
        await press("f8")
        await wait(lambda: isinstance(app.screen, S("Consent")))
        await press("space", "f8")
        await wait(lambda: isinstance(app.screen, S("Online")))
        await press("f8")
        await wait(lambda: isinstance(app.screen, S("Summary")))
        await press("enter")
        await wait(lambda: isinstance(app.screen, S("Done")))

    return script


def minor(downs, doc_downs):
    async def script(app, press, wait):
        await press(*(["down"] * downs), "enter")
        await wait(lambda: isinstance(app.screen, S("Connect")))
        await press(*"1234", "enter")
        await wait(lambda: app.flow.dmp_state is not None)
        await press(*(["down"] * doc_downs), "enter")
        await press("f8")
        await wait(lambda: isinstance(app.screen, S("Consent")))
        await press("space")
        await press("tab", "tab", "tab")
        await press("enter", "down", "enter")  # the card's adult: Sophie
        await press("tab", "enter", "down", "down", "enter")  # relationship: MTH
        await press("f8")
        await wait(lambda: isinstance(app.screen, S("Online")))
        await press("f8")
        await wait(lambda: isinstance(app.screen, S("Summary")))
        await press("enter")
        await wait(lambda: isinstance(app.screen, S("Done")))

    return script


CASES = [
    ("legoff", adult(0)),
    ("durand", minor(1, 4)),
    ("casanova", adult(0)),
    ("bensaid", adult(0)),
]


async def main():
    for key, script in CASES:
        try:
            n, where = await run(key, script)
            print(f"{key:10} {n:3} keys (PIN 4 included) -> {where}")
        except Exception as e:
            print(f"{key:10} failed: {e}")


asyncio.run(main())
