"""Reading the settings: the file (absent is fine), the environment's overrides, validation
by the model, and the digest of the last settings accepted (a second start skips pydantic)."""

from __future__ import annotations

import dataclasses
import functools
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from proclient import __version__
from proclient.core.domain import DomainError
from proclient.core.fileutil import write_private
from proclient.core.i18n import N_, _
from proclient.core.settings import model as _model
from proclient.core.settings.errors import describe_error
from proclient.core.settings.model import (
    TABLES,
    ConfigFile,
    field_types,
    is_table,
    table_types,
)
from proclient.core.settings.paths import Paths

T = typing.TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Settings(ConfigFile):
    """config.toml, the environment and where files live: ``settings.printer.name``…"""

    paths: Paths

    def __post_init__(self) -> None:
        # Settings(paths=…, service={"url": …}) in code: a table given as a dict is checked
        # like the file's (this one call imports pydantic).
        for name, table in table_types().items():
            given = getattr(self, name)
            if isinstance(given, dict):
                object.__setattr__(self, name, validate_table(table, given, _("le code")))

    @property
    def configured(self) -> bool:
        return bool(self.service.url)


# --- reading ---------------------------------------------------------------------------------


# variable → (table, key); an empty variable changes nothing.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "PROCLIENT_SERVICE_URL": ("service", "url"),
    "PROCLIENT_SERVICE_CA": ("service", "ca_bundle"),
    "PROCLIENT_READER": ("readers", "patient"),
    "PROCLIENT_PKCS11_MODULE": ("credential", "pkcs11_module"),
    "PROCLIENT_PRINTER": ("printer", "name"),
    "PROCLIENT_SERVER_DATABASE": ("server", "database"),  # keeps a password out of the file
}


def load_settings(paths: Paths | None = None) -> Settings:
    """Read the settings file (absent is fine) and apply environment overrides.

    Both are validated by the model, unless the very same file and overrides were accepted
    before by this very model (``Paths.validated_digest``): then the dataclasses are built
    directly from the TOML, which strict validation proved to hold the right types already.
    """
    paths = paths or Paths.resolve()
    try:
        text = paths.config_file.read_bytes()
    except FileNotFoundError:
        text = None
    except OSError as error:
        raise _unreadable(paths) from error
    overrides = {
        variable: os.environ[variable] for variable in ENVIRONMENT if os.environ.get(variable)
    }
    if text is None and not overrides:
        return Settings(paths=paths)
    raw = _parse(text, paths) if text is not None else {}
    digest = _digest(text, overrides)
    if digest is not None and _validated_digest(paths) == digest:
        merged = _blank_means_unset(raw)
        for variable, value in overrides.items():
            table, key = ENVIRONMENT[variable]
            merged[table] = {**merged.get(table, {}), key: value}
        config = _build(ConfigFile, merged)
    else:
        config = validate_config(raw, paths.config_file)
        for variable, value in overrides.items():
            name, key = ENVIRONMENT[variable]
            table = getattr(config, name)
            checked = validate_table(
                type(table),
                {**dataclasses.asdict(table), key: value},
                _("la variable d'environnement {variable}", variable=variable),
            )
            config = dataclasses.replace(config, **{name: checked})
        if digest is not None:
            _remember(paths, digest)
    return Settings(paths=paths, **{name: getattr(config, name) for name in TABLES})


def _unreadable(paths: Paths) -> DomainError:
    return DomainError(
        "CONFIG",
        _(
            "Le fichier de réglages {path} est illisible : corrigez-le ou supprimez-le.",
            path=paths.config_file,
        ),
    )


def _parse(text: bytes, paths: Paths) -> dict[str, Any]:
    import tomllib  # only when there is a file

    try:
        return tomllib.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise _unreadable(paths) from error


def validate_config(raw: dict[str, Any], source: object) -> ConfigFile:
    """``raw`` (a parsed config.toml) checked by the model; a mistake is a ``CONFIG``
    DomainError, one French sentence naming ``table.key`` and ``source``."""
    from pydantic import ValidationError

    try:
        return _adapter(ConfigFile).validate_python(_blank_means_unset(raw))
    except ValidationError as error:
        raise DomainError("CONFIG", describe_error(error, source)) from None


def validate_table(table: type[T], data: dict[str, Any], source: object, code: str = "CONFIG") -> T:
    """One table (``ServerTable``…) from ``data`` checked by the model, as in the file; a
    mistake is a DomainError ``code`` naming ``table.key`` and ``source`` (the command line,
    an environment variable…)."""
    from pydantic import ValidationError

    name = next(name for name, kind in table_types().items() if kind is table)
    try:
        return _adapter(table).validate_python(_blank_means_unset({name: data})[name])
    except ValidationError as error:
        raise DomainError(code, describe_error(error, source, table=name)) from None


@functools.cache
def _adapter(model: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(model)


def _blank_means_unset(raw: dict[str, Any]) -> dict[str, Any]:
    """``name = ""`` reads as an absent line (the default applies), except for a choice among
    fixed values, where "" is a mistake worth a sentence. A copy: ``raw`` is left as it was."""
    tables = table_types()
    cleaned = dict(raw)
    for name, values in raw.items():
        if name in tables and isinstance(values, dict):
            types = field_types(tables[name])
            cleaned[name] = {
                key: value
                for key, value in values.items()
                if not (
                    value == "" and key in types and typing.get_origin(types[key]) is not Literal
                )
            }
    return cleaned


def _build(model: type[T], values: dict[str, Any]) -> T:
    """``model`` from values that passed strict validation: a table becomes its dataclass,
    everything else is already of its type (strict mode converts nothing). A field whose
    validation would convert (a Path, a float given an int) needs its case here; the test of
    a second start compares both ways on the settings reference's example
    (docs/workstation.md), which shows every field."""
    types = field_types(model)

    def built(name: str, value: Any) -> Any:
        if isinstance(value, dict) and is_table(types[name]):
            return _build(types[name], value)
        if types[name] is float and type(value) is int:
            return float(value)  # what validation makes of `header_timeout = 10`
        return value

    return model(**{name: built(name, value) for name, value in values.items()})


# --- the digest of the last settings accepted --------------------------------------------
#
# Why trusting it is safe: the digest file sits in the user's own state folder, written 0600
# by the same user who owns config.toml and the environment. Whoever can write it can write
# config.toml too, so a forged digest gives nobody a power they did not already have; and an
# honest one cannot match settings other than those validated (it covers the file's bytes,
# the overrides and this module). It holds no setting, only a SHA-256; as that hash also
# covers PROCLIENT_SERVER_DATABASE, which may carry a password that a guess could be checked
# against, the file stays private like the log.


def _digest(text: bytes | None, overrides: dict[str, str]) -> str | None:
    """What was validated, or None when this module's source cannot be read (then every
    start validates)."""
    import hashlib

    try:
        model = Path(_model.__file__).read_bytes()
    except OSError:
        return None
    digest = hashlib.sha256()
    for part in (
        __version__.encode(),
        model,
        b"" if text is None else b"file:" + text,
        repr(sorted(overrides.items())).encode(),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _validated_digest(paths: Paths) -> str | None:
    try:
        return paths.validated_digest.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _remember(paths: Paths, digest: str) -> None:
    try:
        paths.validated_digest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(paths.validated_digest, f"{digest}\n".encode("ascii"))
    except OSError:
        pass  # a read-only home validates at every start, that is all


# Printed in the UI language to a workstation not set up yet (proclient/cli.py): French
# comments here, the English ones in the catalogue; the settings themselves never change.
EXAMPLE_CONFIG = N_(
    """\
# Réglages de proclient
[service]
url = "https://dmp.exemple.internal:8443"   # proclient serve sur le serveur partagé
ca_bundle = "/etc/proclient/ca.pem"          # l'AC qui a signé le certificat du service

[readers]
patient = ""          # une partie du nom du lecteur (vide : le premier lecteur)

[receipts]
format = "a4"         # ou "80mm"

[credential]
pkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"   # ou le module Cryptolib CPS de l'ANS
token_label = ""      # vide : le jeton qui porte le certificat d'authentification CPS

[session]
idle_lock_minutes = 5 # l'écran se verrouille après ce temps d'inactivité ; le code le déverrouille

[printer]
name = ""             # file CUPS (lpstat -p) ; vide : LPDEST, PRINTER, puis celle par défaut de CUPS
auto = true           # avec un nom, l'accusé s'imprime dès que le DMP est créé
"""
)
