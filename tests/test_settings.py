"""The settings model: config.toml as documented, strict, overridden by the environment, and
every mistake one French sentence naming ``table.key`` and the file."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
import tomllib
import typing
from pathlib import Path

import pytest

from proclient.core.domain import DomainError
from proclient.core.settings import (
    ENVIRONMENT,
    EXAMPLE_CONFIG,
    KEY_IDS,
    TABLES,
    ConfigFile,
    Paths,
    PrinterTable,
    Settings,
    load_settings,
    validate_config,
)
from proclient.core.settings import loading as settings_module

ROOT = Path(__file__).resolve().parents[1]
# The settings reference is the workstation's page; the other pages (the service's) hold TOML
# examples too, each a valid settings file.
SETTINGS_PAGE = ROOT / "docs" / "workstation.md"
REFERENCE = SETTINGS_PAGE.read_text(encoding="utf-8")
DOCUMENTATION = {
    page.relative_to(ROOT).as_posix(): page.read_text(encoding="utf-8")
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}


def _section(title: str) -> str:
    start = REFERENCE.index(f"\n## {title}\n")
    end = REFERENCE.find("\n## ", start + 1)
    return REFERENCE[start : end if end != -1 else None]


SETTINGS_SECTION = _section("Settings")


def _toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def _table_models() -> dict[str, type | None]:
    """Table name → its model (None for [keys], a free table of binding ids)."""
    tables = {}
    for name in TABLES:
        annotation = typing.get_type_hints(ConfigFile)[name]
        is_model = isinstance(annotation, type) and dataclasses.is_dataclass(annotation)
        tables[name] = annotation if is_model else None
    return tables


def _source_bindings() -> dict[str, str]:
    """id → default key of every ``Binding(..., id=...)`` under proclient/."""
    found = {}
    for path in sorted((ROOT / "proclient").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            ids = [k.value for k in node.keywords if k.arg == "id"]
            if name == "Binding" and ids and isinstance(ids[0], ast.Constant):
                found[ids[0].value] = ast.literal_eval(node.args[0])
    return found


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch):
    for variable in ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def paths(tmp_path) -> Paths:
    return Paths(tmp_path / "config", tmp_path / "data", tmp_path / "log")


@pytest.fixture
def write(paths):
    def write(text: str) -> Path:
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        paths.config_file.write_text(text, encoding="utf-8")
        return paths.config_file

    return write


def refusal(paths, write, text: str) -> str:
    write(text)
    with pytest.raises(DomainError) as caught:
        load_settings(paths)
    assert caught.value.code == "CONFIG"
    return caught.value.message


# --- the documentation (docs/workstation.md, "Settings") is the model's ----------------------


def test_every_toml_example_of_the_documentation_is_a_valid_settings_file():
    blocks = [(name, block) for name, text in DOCUMENTATION.items() for block in _toml_blocks(text)]
    assert len(blocks) >= 3  # settings reference, CPS, server
    for name, block in blocks:
        validate_config(tomllib.loads(block), name)  # an unknown key fails here


def test_the_settings_reference_shows_every_setting_of_the_model():
    (block,) = _toml_blocks(SETTINGS_SECTION)
    documented = tomllib.loads(block)
    for table, model in _table_models().items():
        assert table in documented, f"[{table}] missing from the settings reference's example"
        if model is None:
            assert documented[table], f"[{table}] has no example line"
            continue
        missing = {field.name for field in dataclasses.fields(model)} - set(documented[table])
        assert not missing, f"[{table}] {sorted(missing)} missing from docs/workstation.md"


def test_the_settings_reference_names_every_environment_override_and_its_setting():
    text = " ".join(SETTINGS_SECTION.split())
    for variable, (table, key) in ENVIRONMENT.items():
        assert f"`{variable}` (`{table}.{key}`)" in text
    overrides = text[text.index("Environment overrides:") :]
    named = set(re.findall(r"`(PROCLIENT_\w+)`", overrides[: overrides.index(". ")]))
    assert named == set(ENVIRONMENT)


def test_the_settings_reference_lists_every_bindable_action_with_its_default_key():
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", SETTINGS_SECTION, flags=re.M))
    assert rows == _source_bindings()


def test_key_ids_are_the_ids_of_the_apps_bindings():
    assert set(_source_bindings()) == KEY_IDS


def test_the_example_printed_to_an_unconfigured_workstation_is_valid():
    validate_config(tomllib.loads(EXAMPLE_CONFIG), "EXAMPLE_CONFIG")


# --- reading ------------------------------------------------------------------------------


def test_an_absent_file_gives_the_defaults(paths):
    settings = load_settings(paths)
    assert settings.paths == paths
    assert not settings.configured
    assert settings.receipts.format == "a4" and settings.printer.auto is True
    assert settings.session.idle_lock_minutes == 5 and settings.ui.language is None
    assert settings.server.host == "127.0.0.1" and settings.server.port == 8443
    assert settings.keys == {}


def test_every_table_of_the_file_is_read(paths, write):
    write(
        '[service]\nurl = "https://dmp.test:8443"\nca_bundle = "/ca.pem"\n'
        '[readers]\npatient = "Omnikey"\nprofessional = "Gemalto"\n'
        '[credential]\nkey = "/k.pem"\ncertificate = "/c.pem"\n'
        'pkcs11_module = "/m.so"\ntoken_label = "CPS"\n'
        '[receipts]\nformat = "80mm"\n[printer]\nname = "comptoir"\nauto = false\n'
        "[session]\nidle_lock_minutes = 0\n"
        '[keys]\nnext = "f8"\nprint_receipt = "f5,ctrl+p"\n[ui]\nlanguage = "en"\n'
    )
    settings = load_settings(paths)
    nested = {
        "service.url": "https://dmp.test:8443",
        "service.ca_bundle": "/ca.pem",
        "readers.patient": "Omnikey",
        "readers.professional": "Gemalto",
        "credential.key": "/k.pem",
        "credential.certificate": "/c.pem",
        "credential.pkcs11_module": "/m.so",
        "credential.token_label": "CPS",
        "receipts.format": "80mm",
        "printer.name": "comptoir",
        "printer.auto": False,
        "session.idle_lock_minutes": 0,
    }
    read = {
        name: getattr(getattr(settings, name.split(".")[0]), name.split(".")[1]) for name in nested
    }
    assert read == nested and settings.configured
    assert settings.printer.name == "comptoir" and settings.credential.token_label == "CPS"
    assert settings.keys == {"next": "f8", "print_receipt": "f5,ctrl+p"}
    assert settings.ui.language == "en"


def test_settings_are_read_only(paths):
    settings = load_settings(paths)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.printer.name = "other"


def test_an_empty_text_means_unset(paths, write):
    write(
        '[printer]\nname = ""\n[readers]\npatient = ""\n'
        '[credential]\npkcs11_module = ""\ntoken_label = ""\n'
        '[service]\nurl = ""\n[server]\nhost = ""\ndatabase = ""\n'
    )
    settings = load_settings(paths)
    assert settings.printer.name is None and settings.readers.patient is None
    assert settings.credential.pkcs11_module is None and settings.credential.token_label is None
    assert settings.service.url is None and not settings.configured
    assert settings.server.host == "127.0.0.1" and settings.server.database is None


def test_an_empty_choice_is_a_mistake_not_a_default(paths, write):
    message = refusal(paths, write, '[receipts]\nformat = ""\n')
    assert "receipts.format" in message and "« a4 » ou « 80mm »" in message


def test_environment_overrides_the_file(paths, write, monkeypatch):
    write(
        '[service]\nurl = "https://file.test"\n[printer]\nname = "file"\n'
        '[server]\ndatabase = "sqlite:////file.sqlite3"\n'
    )
    monkeypatch.setenv("PROCLIENT_SERVICE_URL", "https://env.test")
    monkeypatch.setenv("PROCLIENT_SERVICE_CA", "/env/ca.pem")
    monkeypatch.setenv("PROCLIENT_READER", "Omnikey")
    monkeypatch.setenv("PROCLIENT_PKCS11_MODULE", "/env/module.so")
    monkeypatch.setenv("PROCLIENT_PRINTER", "")  # empty: the file's value stays
    monkeypatch.setenv("PROCLIENT_SERVER_DATABASE", "postgresql://proclient@db/dmp")
    settings = load_settings(paths)
    assert settings.service.url == "https://env.test"
    assert settings.service.ca_bundle == "/env/ca.pem"
    assert settings.readers.patient == "Omnikey"
    assert settings.credential.pkcs11_module == "/env/module.so"
    assert settings.printer.name == "file"
    assert settings.server.database == "postgresql://proclient@db/dmp"
    monkeypatch.setenv("PROCLIENT_PRINTER", "comptoir-2")
    assert load_settings(paths).printer.name == "comptoir-2"


def test_an_unreadable_file_is_one_french_sentence(paths, write):
    message = refusal(paths, write, "[service\nurl = ")
    assert "illisible" in message and str(paths.config_file) in message


# --- mistakes: one French sentence naming table.key and the file --------------------------


def test_an_unknown_key_is_refused(paths, write):
    message = refusal(paths, write, "[server]\nprot = 8443\n")
    assert message.startswith("Réglage inconnu server.prot dans ")
    assert str(paths.config_file) in message


def test_an_unknown_table_is_refused(paths, write):
    message = refusal(paths, write, '[printers]\nname = "comptoir"\n')
    assert "[printers]" in message and "[printer]" in message
    assert str(paths.config_file) in message


def test_a_wrong_type_is_refused(paths, write):
    message = refusal(paths, write, '[printer]\nauto = "oui"\n')
    assert message == (
        f"Réglage printer.auto dans {paths.config_file} : valeur attendue "
        "vrai ou faux (true ou false, sans guillemets)."
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("[session]\nidle_lock_minutes = true\n", "session.idle_lock_minutes"),
        ("[server]\nport = true\n", "server.port"),
    ],
)
def test_a_boolean_is_not_a_number(paths, write, text, name):
    message = refusal(paths, write, text)
    assert name in message and "nombre entier" in message


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("[server]\nprot = 1\n", "server.prot"),
        ("[printer]\nauto = 1\n", "printer.auto"),
        ("[session]\nidle_lock_minutes = 1441\n", "session.idle_lock_minutes"),
        ("[session]\nidle_lock_minutes = 2.5\n", "session.idle_lock_minutes"),
        ('[receipts]\nformat = "a5"\n', "receipts.format"),
        ("[service]\nurl = 8443\n", "service.url"),
        ('[server]\nmode = "staging"\n', "server.mode"),
        ("[server]\nport = 0\n", "server.port"),
        ('[ui]\nlanguage = "de"\n', "ui.language"),
        ('printer = "comptoir"\n', "printer"),
        ('[keys]\nnope = "f1"\n', "keys.nope"),
        ('[keys]\nnext = ""\n', "keys.next"),
        ("[keys]\nnext = 8\n", "keys.next"),
        ('[keys]\nnext = "f8,"\n', "keys.next"),
    ],
)
def test_every_mistake_is_one_french_sentence_naming_key_and_file(paths, write, text, name):
    message = refusal(paths, write, text)
    assert re.search(rf"\b{re.escape(name)}\b", message)
    assert str(paths.config_file) in message
    assert "\n" not in message
    for english in ("Input should", "Extra inputs", "validation error", "pydantic", "type="):
        assert english not in message


def test_keys_refuses_an_unknown_action_and_names_the_known_ones(paths, write):
    message = refusal(paths, write, '[keys]\nprint_recipt = "f5"\n')
    assert message.startswith("Réglage inconnu keys.print_recipt dans ")
    assert "print_receipt" in message


def test_keys_accepts_textual_keymap_strings(paths, write):
    write('[keys]\nnext = "f8"\nprint_receipt = "f5,ctrl+p"\nquit = "ctrl+q, f12"\n')
    assert load_settings(paths).keys["quit"] == "ctrl+q, f12"


def test_the_file_cannot_set_where_files_live(paths, write):
    message = refusal(paths, write, '[paths]\nconfig_dir = "/tmp"\n')
    assert "[paths]" in message


def test_settings_built_in_code_take_tables():
    paths = Paths(Path("c"), Path("d"), Path("l"))
    settings = Settings(paths=paths, service={"url": "https://dmp.test"})
    assert settings.service.url == "https://dmp.test" and settings.configured


# --- proclient serve reads the same model -------------------------------------------------


def test_serve_takes_the_server_table_and_checks_the_command_line(paths, write, monkeypatch):
    from proclient.server import serving

    write(
        '[server]\nhost = "127.0.0.1"\nport = 9443\nplain_http = true\n'
        'trusted_ca = "~/ca.pem"\nmode = "production"\n'
    )
    config = serving.load_serve_config(paths, port=None, mode=None)
    assert (config.port, config.plain_http, config.mode) == (9443, True, "production")
    assert config.trusted_ca == Path("~/ca.pem").expanduser() and config.certificate is None
    assert config.database == serving.default_database(paths)
    assert serving.load_serve_config(paths, port=7443, mode="test").port == 7443
    monkeypatch.setenv("PROCLIENT_SERVER_DATABASE", "postgresql://proclient@db/dmp")
    assert serving.load_serve_config(paths).database == "postgresql://proclient@db/dmp"
    with pytest.raises(DomainError) as caught:
        serving.load_serve_config(paths, port=70000)
    assert "server.port" in caught.value.message
    assert "ligne de commande" in caught.value.message


# --- settings validated once are not validated again (start-up without pydantic) ----------


def _start(home: Path) -> tuple[bool, str]:
    """A fresh interpreter reading the settings under ``home``: was pydantic imported, and
    what did it read."""
    environment = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    environment["PROCLIENT_HOME"] = str(home)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), environment.get("PYTHONPATH")])
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from proclient.core.settings import load_settings; "
            "settings = load_settings(); print('pydantic' in sys.modules); print(settings)",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    imported, settings = done.stdout.splitlines()
    return imported == "True", settings


def test_a_second_start_with_the_same_file_does_not_import_pydantic(tmp_path):
    (tmp_path / "config").mkdir()
    (block,) = _toml_blocks(SETTINGS_SECTION)
    (tmp_path / "config" / "config.toml").write_text(block, encoding="utf-8")
    _, validated = _start(tmp_path)
    imported, remembered = _start(tmp_path)
    assert not imported
    assert remembered == validated  # the same settings, built without pydantic


def test_no_file_and_no_override_give_the_defaults_without_pydantic(tmp_path):
    imported, _ = _start(tmp_path)
    assert not imported


@pytest.fixture
def validations(monkeypatch) -> list[type]:
    """The models validated by pydantic from now on."""
    done: list[type] = []
    adapter = settings_module._adapter

    def counting(model):
        done.append(model)
        return adapter(model)

    monkeypatch.setattr(settings_module, "_adapter", counting)
    return done


def test_the_same_file_is_validated_once(paths, write, validations):
    write('[printer]\nname = "comptoir"\nauto = false\n[keys]\nnext = "f8"\n')
    first = load_settings(paths)
    assert validations == [ConfigFile]
    assert load_settings(paths) == first
    assert validations == [ConfigFile]  # the second reading trusted the digest


def test_the_digest_is_private_and_holds_no_setting(paths, write):
    write('[service]\nurl = "https://dmp.test"\n')
    load_settings(paths)
    digest = paths.validated_digest
    assert digest.stat().st_mode & 0o777 == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", digest.read_text(encoding="ascii"))


def test_an_edited_file_is_validated_again(paths, write):
    write("[printer]\nauto = false\n")
    assert load_settings(paths).printer.auto is False
    message = refusal(paths, write, '[printer]\nauto = "non"\n')
    assert message.startswith("Réglage printer.auto dans ")
    assert str(paths.config_file) in message


def test_a_changed_environment_override_is_validated_again(paths, write, monkeypatch):
    # An override of a number (none today) shows the check: "8443" is a text, not a number.
    monkeypatch.setitem(ENVIRONMENT, "PROCLIENT_TEST_PORT", ("server", "port"))
    monkeypatch.delenv("PROCLIENT_TEST_PORT", raising=False)
    write("[server]\nport = 9443\n")
    assert load_settings(paths).server.port == 9443
    monkeypatch.setenv("PROCLIENT_TEST_PORT", "8443")
    with pytest.raises(DomainError) as caught:
        load_settings(paths)
    assert caught.value.code == "CONFIG"
    assert caught.value.message.startswith("Réglage server.port dans ")
    assert "PROCLIENT_TEST_PORT" in caught.value.message and "nombre entier" in caught.value.message


def test_an_override_is_validated_then_remembered(paths, write, monkeypatch, validations):
    write('[printer]\nname = "file"\n')
    load_settings(paths)
    monkeypatch.setenv("PROCLIENT_PRINTER", "comptoir-2")
    assert load_settings(paths).printer.name == "comptoir-2"
    assert validations == [ConfigFile, ConfigFile, PrinterTable]
    assert load_settings(paths).printer.name == "comptoir-2"
    assert len(validations) == 3


@pytest.mark.parametrize("digest", ["", "not a digest\n", "0" * 64])
def test_a_wrong_or_unreadable_digest_means_validating(paths, write, validations, digest):
    write("[printer]\nauto = false\n")
    paths.validated_digest.parent.mkdir(parents=True, exist_ok=True)
    paths.validated_digest.write_text(digest, encoding="ascii")
    assert load_settings(paths).printer.auto is False
    assert validations == [ConfigFile]
    assert paths.validated_digest.read_text(encoding="ascii") != digest  # refreshed


def test_another_version_of_proclient_validates_again(paths, write, monkeypatch, validations):
    write("[printer]\nauto = false\n")
    load_settings(paths)
    monkeypatch.setattr(settings_module, "__version__", "0.0.0-other")
    load_settings(paths)
    assert validations == [ConfigFile, ConfigFile]
