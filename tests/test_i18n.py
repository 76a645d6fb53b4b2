"""French by default, English complete: the catalogues, the language choice, the command line,
the app in English, and receipts that stay French whatever the UI language."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from proclient.core import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "proclient" / "locale"
ENGLISH_PO = LOCALE / "en" / "LC_MESSAGES" / "proclient.po"
ARGPARSE_PO = LOCALE / "fr" / "LC_MESSAGES" / "argparse.po"
FIELD = re.compile(r"\{[^{}]*\}")


def _extract(tmp_path: Path, *inputs: str, mapping: bool = True) -> list[str]:
    """Message ids freshly extracted with Babel (the project's rules from pyproject.toml)."""
    pot = tmp_path / "fresh.pot"
    options = ["-F", str(ROOT / "pyproject.toml")] if mapping else []
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", *options, "--no-location", "-o", str(pot), *inputs]
    )
    with pot.open("rb") as file:
        return [message.id for message in read_po(file) if message.id]


def _translated(po: Path) -> dict:
    with po.open("rb") as file:
        catalog = read_po(file)
    return {
        message.id: message.string
        for message in catalog
        if message.id and not message.fuzzy and all(_strings(message.string))
    }


def _strings(string) -> tuple:
    return string if isinstance(string, tuple) else (string,)


def _key(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


# --- the catalogues -----------------------------------------------------------------------------


def test_every_message_of_the_code_has_an_english_translation(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    fresh = _extract(tmp_path, ".")
    assert len(fresh) > 400  # the extraction found the code's messages
    english = _translated(ENGLISH_PO)
    missing = [_key(m) for m in fresh if m not in english]
    assert not missing, (
        f"{len(missing)} message(s) without English: bash scripts/i18n.sh update, translate "
        f"them in {ENGLISH_PO.relative_to(ROOT)}, then bash scripts/i18n.sh compile. "
        f"First: {missing[:5]}"
    )


def test_receipts_content_is_left_out_of_the_catalogue(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert "Accusé de création du DMP" not in _extract(tmp_path, ".")


def test_translations_keep_the_named_fields():
    for source, english in _translated(ENGLISH_PO).items():
        for fr, en in zip(_strings(source), _strings(english), strict=False):
            assert sorted(FIELD.findall(fr)) == sorted(FIELD.findall(en)), (fr, en)


def test_argparse_speaks_french_for_every_message_of_this_python(tmp_path):
    fresh = _extract(tmp_path, argparse.__file__, mapping=False)
    french = _translated(ARGPARSE_PO)
    missing = [_key(m) for m in fresh if m not in french]
    assert "usage: " in [_key(m) for m in fresh]
    assert not missing, f"argparse messages without French in {ARGPARSE_PO.name}: {missing}"


@pytest.mark.parametrize("po", [ENGLISH_PO, ARGPARSE_PO], ids=["proclient-en", "argparse-fr"])
def test_compiled_catalogue_is_the_po_compiled(po):
    with po.open("rb") as file:
        catalog = read_po(file)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.read_bytes() == compiled.getvalue(), (
        f"{mo.relative_to(ROOT)} is stale: bash scripts/i18n.sh compile"
    )


def test_the_package_ships_the_compiled_catalogues():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["proclient"]
    assert "locale/**/*" in package_data


# --- the language choice ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "environ", "expected"),
    [
        (None, {}, "fr"),
        (None, {"LANG": "C.UTF-8"}, "fr"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        (None, {"LANG": "en_US.UTF-8", "LC_ALL": "fr_FR.UTF-8"}, "fr"),
        (None, {"LANGUAGE": "de:en", "LANG": "de_DE.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "fr"),
        ("en", {"LANG": "C.UTF-8"}, "en"),
        ("fr", {"LANG": "en_US.UTF-8"}, "fr"),
    ],
)
def test_language_is_the_setting_else_the_session_else_french(setting, environ, expected):
    assert i18n.choose_language(setting, environ) == expected


def test_english_ui_translates_and_french_block_does_not():
    try:
        i18n.use_language("en")
        assert i18n._("Continuer") == "Continue"
        assert i18n._("Étape {n}/4 — {title}", n=2, title="x") == "Step 2/4 — x"
        with i18n.french():
            assert i18n._("Continuer") == "Continuer"
            assert i18n.current_language() == "fr"
        assert i18n._("Continuer") == "Continue"
    finally:
        i18n.use_language("fr")


def test_an_english_ui_still_prints_a_french_accuse():
    from proclient.receipts.text import receipt_text
    from tests.receipts.receipt_samples import make_receipt

    try:
        i18n.use_language("en")
        assert i18n._("refusé") == "refused"
        text = receipt_text(make_receipt("le_goff"))
    finally:
        i18n.use_language("fr")
    assert "Accusé de création du DMP" in text
    assert "Consentement à la création" in text and "Date de naissance" in text
    assert "Pharmacien" in text  # a label from the domain, French on paper too
    assert "Date of birth" not in text and "Pharmacist" not in text


# --- the command line ---------------------------------------------------------------------------


def _proclient(tmp_path, *args, lang="C.UTF-8", language_setting=None):
    home = tmp_path / "home"
    if language_setting:
        config = home / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text(f'[ui]\nlanguage = "{language_setting}"\n')
    env = {k: v for k, v in os.environ.items() if k not in i18n.LOCALE_VARIABLES}
    env.update(PROCLIENT_HOME=str(home), LANG=lang, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "proclient", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_help_is_french_by_default(tmp_path):
    out = _proclient(tmp_path, "--help").stdout
    assert out.startswith("utilisation : proclient")
    assert "affiche cette aide et s'arrête" in out
    assert "lit la carte Vitale du lecteur" in out
    assert "usage:" not in out and "show this help" not in out


def test_help_is_english_with_an_english_session(tmp_path):
    out = _proclient(tmp_path, "--help", lang="en_US.UTF-8").stdout
    assert out.startswith("usage: proclient")
    assert "show this help message and exit" in out
    assert "reads the Vitale card in the reader" in out  # a sub-command's help
    assert "utilisation" not in out and "carte Vitale du lecteur" not in out


def test_help_follows_the_setting_over_the_session(tmp_path):
    english = _proclient(tmp_path, "--help", language_setting="en").stdout
    assert english.startswith("usage: proclient") and "shows where the settings" in english
    french = _proclient(tmp_path, "--help", lang="en_US.UTF-8", language_setting="fr").stdout
    assert french.startswith("utilisation : proclient")


def test_argument_errors_are_in_the_ui_language(tmp_path):
    french = _proclient(tmp_path, "receipts")
    assert french.returncode == 2
    assert "proclient receipts : erreur : arguments obligatoires manquants : action" in (
        french.stderr
    )
    english = _proclient(tmp_path, "receipts", lang="en_US.UTF-8")
    assert "error: the following arguments are required: action" in english.stderr


def test_settings_messages_are_in_the_ui_language(tmp_path):
    out = _proclient(tmp_path, "locate", language_setting="en")
    assert out.returncode == 0, out.stderr
    assert "Settings: " in out.stdout and "Réglages" not in out.stdout


# --- the app in English -------------------------------------------------------------------------

# Run in a fresh interpreter: the language is chosen before the screens are imported, as
# ``proclient.cli.main`` does (key labels are translated at import time).
ENGLISH_RUN = """
import asyncio, json, shutil, sys
from pathlib import Path
from proclient.core.i18n import use_language
use_language("en")
from proclient.app import ProclientApp
from proclient.core.settings import Paths, load_settings
from proclient.wiring import demo_wiring
from tests import tui_support as t

async def main():
    settings = load_settings(Paths.resolve())
    shutil.copytree(sys.argv[1], settings.paths.demo_dir / "demo-pki")
    app = ProclientApp(demo_wiring(settings))
    t.record_notices(app)
    seen = {}
    async with app.run_test(size=t.SIZE) as pilot:
        await t.wait_until(pilot, lambda: app.creation.binding is not None, what="service ready")
        seen["home"] = t.screen_text(app)
        await pilot.press("f1")
        await t.wait_until(pilot, lambda: "Help" in type(app.screen).__name__, what="help")
        seen["help"] = t.screen_text(app)
        await pilot.press("escape")
        await t.wait_until(pilot, lambda: "Home" in type(app.screen).__name__, what="home")
        await t.insert(pilot, app, "legoff")
        seen["identify"] = t.screen_text(app)
        await pilot.press("enter")
        await t.connect(pilot, app)
        seen["connect"] = t.screen_text(app)
        await pilot.press("f8")
        await t.wait_until(pilot, lambda: "Consent" in type(app.screen).__name__)
        seen["consent"] = t.screen_text(app)
        await pilot.press("space", "f8")
        await t.wait_until(pilot, lambda: "Online" in type(app.screen).__name__)
        seen["online"] = t.screen_text(app)
        await pilot.press("f8")
        await t.wait_until(pilot, lambda: "Summary" in type(app.screen).__name__)
        seen["summary"] = t.screen_text(app)
        done = await t.create(pilot, app)
        seen["done"] = t.screen_text(app)
        seen["pdf"] = t.pdf_text(done.receipt_path)
    print(json.dumps(seen))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def english_run(tmp_path_factory, demo_pki_cache):
    home = tmp_path_factory.mktemp("english")
    env = {k: v for k, v in os.environ.items() if k not in i18n.LOCALE_VARIABLES}
    env.update(PROCLIENT_HOME=str(home), LANG="C.UTF-8", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", ENGLISH_RUN, str(demo_pki_cache)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_english_home_screen(english_run):
    home = english_run["home"]
    assert "Insert the patient's Vitale card" in home
    assert "Quit" in home and "Journal" in home
    assert "Insérez" not in home and "Quitter" not in home


@pytest.mark.slow
@pytest.mark.parametrize(
    ("screen", "title"),
    [
        ("identify", "Step 1/4 — Patient identification"),
        ("connect", "Step 2/4 — Connecting to the DMP service"),
        ("consent", "Step 3/4 — Patient's consent"),
        ("online", "Step 4/4 — Online access (optional)"),
        ("summary", "Summary"),
        ("done", "DMP created"),
    ],
)
def test_english_steps(english_run, screen, title):
    text = english_run[screen]
    assert title in text
    assert "Étape" not in text and "Continuer" not in text and "Retour" not in text


def test_english_ui_receipt_pdf_stays_french(english_run):
    pdf = english_run["pdf"]
    assert "Accusé de création du DMP" in pdf
    assert "Consentement" in pdf and "Creation receipt" not in pdf


@pytest.mark.slow
def test_english_help_has_no_french_left(english_run):
    """Issue 21 point 10: the palette's line of the help was French in English."""
    assert "All commands (palette)" in english_run["help"]
    assert "Toutes les commandes" not in english_run["help"]


def test_the_palette_says_nothing_found_in_french(app_factory):
    """Textual writes « No matches found » in English whatever the language."""
    import asyncio

    from tests.tui_support import screen_text, wait_until

    async def run() -> str:
        app = app_factory()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: "Palette" in type(app.screen).__name__)
            await pilot.press(*"zzzqqq")
            await wait_until(pilot, lambda: "Aucune commande trouvée" in screen_text(app))
            return screen_text(app)

    text = asyncio.run(run())
    assert "No matches found" not in text


def test_english_settings_errors_quote_choices_in_english(tmp_path):
    from proclient.core.domain import DomainError
    from proclient.core.settings import validate_config

    i18n.use_language("en")
    try:
        with pytest.raises(DomainError) as caught:
            validate_config({"ui": {"language": "de"}}, "config.toml")
    finally:
        i18n.use_language("fr")
    assert '"fr" or "en"' in caught.value.message and "«" not in caught.value.message


def test_the_example_settings_are_commented_in_the_ui_language():
    from proclient.core.settings import EXAMPLE_CONFIG

    assert "# Réglages de proclient" in i18n._(EXAMPLE_CONFIG)
    i18n.use_language("en")
    try:
        english = i18n._(EXAMPLE_CONFIG)
    finally:
        i18n.use_language("fr")
    assert "# proclient settings" in english and "Réglages" not in english
    assert tomllib.loads(english) == tomllib.loads(EXAMPLE_CONFIG)  # only the comments differ
