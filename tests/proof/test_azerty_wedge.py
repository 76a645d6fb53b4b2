"""A counter's 2D scanner is a keyboard: it types the code it reads as key presses, and the
workstation turns them back into characters with its own layout, French AZERTY here.

The model: the layouts are read from the system's xkb symbol files (``pc`` for the space
bar, then ``latin`` "basic" overridden by ``fr`` "basic", as ``setxkbmap fr`` builds it; and
``us`` "basic" for a scanner left on its factory setting). A key press is (key, level):
level 1 plain, level 2 with Shift; AltGr (level 3) and dead keys are not used, as a scanner's
keyboard emulation sends Shift at most. A scanner set to French sends, for each character,
the key and level that give it on AZERTY; the host reads the key press through AZERTY.

Every character a code can hold (the ``DMP1:`` prefix and base45's 45 characters) must be
typeable that way and read back identically; the real code then verifies when typed into
``proclient verify --code -``. A scanner left on US QWERTY garbles it (the digits come out
as ``&é"'(-è_çà``), and that reads as one "unreadable" sentence, not a traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from proclient.core.proof.statement import PREFIX, encode, verify_code
from proclient.server.pki import create_ca
from proclient.server.signing_key import BUNDLE_NAME, load_or_create_signer
from tests.proof import statements

XKB = Path(os.environ.get("XKB_SYMBOLS", "/usr/share/X11/xkb/symbols"))
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

# X keysym names of the characters on these layouts (X11/keysymdef.h).
KEYSYMS = {
    "space": " ", "exclam": "!", "quotedbl": '"', "numbersign": "#", "dollar": "$",
    "percent": "%", "ampersand": "&", "apostrophe": "'", "parenleft": "(",
    "parenright": ")", "asterisk": "*", "plus": "+", "comma": ",", "minus": "-",
    "period": ".", "slash": "/", "colon": ":", "semicolon": ";", "less": "<",
    "equal": "=", "greater": ">", "question": "?", "at": "@", "bracketleft": "[",
    "backslash": "\\", "bracketright": "]", "asciicircum": "^", "underscore": "_",
    "grave": "`", "braceleft": "{", "bar": "|", "braceright": "}", "asciitilde": "~",
    "eacute": "é", "egrave": "è", "ccedilla": "ç", "agrave": "à", "ugrave": "ù",
    "twosuperior": "²", "degree": "°", "sterling": "£", "mu": "µ", "section": "§",
}  # fmt: skip

Key = tuple[str, int]  # (xkb key name, level 1 or 2)


def _section(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(f'xkb_symbols "{name}"')
    return text[start : text.index("\n};", start)]


def _keysym(name: str) -> str | None:
    if len(name) == 1:
        return name  # letters and digits are their own keysym names
    if name.startswith("dead_"):
        return None  # a dead key waits for the next press: never used
    return KEYSYMS.get(name, f"<{name}>")


def layout(*sections: tuple[str, str]) -> dict[Key, str | None]:
    """(key, level) → character, later sections overriding earlier ones, as xkb includes."""
    keys: dict[Key, str | None] = {}
    for file, name in sections:
        body = re.sub(r"//[^\n]*", "", _section(XKB / file, name))
        for key, levels in re.findall(r"key\s+<(\w+)>\s*\{[^\[]*\[([^\]]*)\]", body):
            symbols = [s.strip() for s in levels.split(",")]
            for level, symbol in enumerate(symbols[:2], start=1):
                keys[key, level] = _keysym(symbol)
    return keys


@pytest.fixture(scope="module")
def azerty() -> dict[Key, str | None]:
    if not (XKB / "fr").is_file():
        pytest.skip(f"no xkb symbols in {XKB} (the xkb-data package)")
    return layout(("pc", "pc105"), ("latin", "basic"), ("fr", "basic"))


@pytest.fixture(scope="module")
def qwerty() -> dict[Key, str | None]:
    return layout(("pc", "pc105"), ("latin", "basic"), ("us", "basic"))


def scanner_types(text: str, scanner_layout: dict[Key, str | None]) -> list[Key]:
    """The key presses of a scanner set to ``scanner_layout`` for ``text``."""
    reverse: dict[str, Key] = {}
    for key, char in sorted(scanner_layout.items(), key=lambda item: item[0][1]):
        if char is not None:
            reverse.setdefault(char, key)  # level 1 before Shift
    return [reverse[c] for c in text]


def host_reads(presses: list[Key], host_layout: dict[Key, str | None]) -> str:
    return "".join(host_layout.get(press) or "\ufffd" for press in presses)


def test_the_model_knows_azerty(azerty):
    """The parsed layout is AZERTY: a sanity check of the model, not of the code."""
    assert azerty["AD01", 1] == "a" and azerty["AC01", 1] == "q" and azerty["AB01", 1] == "w"
    assert azerty["AE01", 1] == "&" and azerty["AE01", 2] == "1"  # digits need Shift
    assert azerty["AB09", 1] == ":" and azerty["AB08", 2] == "." and azerty["AC11", 2] == "%"
    assert azerty["AD11", 1] is None  # ^ is a dead key
    assert azerty["SPCE", 1] == " "


def test_every_character_a_code_can_hold_round_trips_through_azerty(azerty):
    alphabet = sorted(set(BASE45 + PREFIX))
    presses = scanner_types("".join(alphabet), azerty)
    assert all(level in (1, 2) for _key, level in presses)
    assert host_reads(presses, azerty) == "".join(alphabet)


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ds")
    signer = load_or_create_signer(folder, create_ca("wedge CA"))
    statement = statements.statement(at=datetime.now(UTC).replace(microsecond=0))
    return signer, encode(statement, signer), folder / BUNDLE_NAME


def test_a_real_code_typed_by_a_french_scanner_verifies_in_proclient_verify(
    azerty, signed, tmp_path
):
    signer, code, bundle = signed
    typed = host_reads(scanner_types(code, azerty), azerty) + "\n"  # the scanner's Enter
    assert typed.rstrip("\n") == code
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        f'[verify]\nservice_certificates = "{bundle}"\n', encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "proclient", "verify", "--code", "-"],
        input=typed,
        capture_output=True,
        text=True,
        env=dict(os.environ, PROCLIENT_HOME=str(tmp_path)),
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DMP-4F7Q2K9X" in done.stdout


def test_a_scanner_left_on_qwerty_garbles_the_code_into_one_unreadable_sentence(
    azerty, qwerty, signed
):
    signer, code, _bundle = signed
    typed = host_reads(scanner_types(code, qwerty), azerty)
    assert typed != code
    assert typed.startswith("D?P&")  # M is the ",/?" key on AZERTY, 1 without Shift is &
    verdict = verify_code(typed, signer.all_certificates())
    assert verdict.outcome == "unreadable"
