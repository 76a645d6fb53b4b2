"""Settings: one model of ``config.toml`` for the workstation and for ``proclient serve``.

The file lives in the user config dir (``proclient locate`` prints where); environment
variables override a few entries. ``PROCLIENT_HOME`` roots config, data and logs in one folder
(tests, trainers, a USB stick); otherwise platformdirs' per-user folders are used.

Each table of the file is a strict pydantic model that refuses unknown keys, so a typo is one
French sentence naming ``table.key`` and the file, never a silently ignored line. An empty
string for a name or a path means "unset", as if the line were absent.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from proclient.domain import DomainError
from proclient.i18n import _

APP_NAME = "proclient"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def receipts_dir(self) -> Path:
        return self.data_dir / "receipts"

    @property
    def demo_dir(self) -> Path:
        return self.data_dir / "demo"

    @classmethod
    def resolve(cls) -> Paths:
        home = os.environ.get("PROCLIENT_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(root / "config", root / "data", root / "log")
        import platformdirs

        return cls(
            Path(platformdirs.user_config_dir(APP_NAME)),
            Path(platformdirs.user_data_dir(APP_NAME)),
            Path(platformdirs.user_log_dir(APP_NAME)),
        )


# --- the tables of config.toml ------------------------------------------------------------


class _Table(BaseModel):
    """One ``[table]`` of config.toml: strict types, no unknown key, blank text = unset."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, data: Any) -> Any:
        # ``name = ""`` reads as an absent line (the default applies), except for a choice
        # among fixed values, where "" is a mistake worth a sentence.
        if not isinstance(data, dict):
            return data
        return {
            key: value
            for key, value in data.items()
            if not (
                value == ""
                and key in cls.model_fields
                and typing.get_origin(cls.model_fields[key].annotation) is not Literal
            )
        }


class ServiceTable(_Table):
    url: str | None = None  # the DMP service (proclient serve), https:// (http on loopback)
    ca_bundle: str | None = None  # PEM file of the CA that signed the service's certificate


class ReadersTable(_Table):
    patient: str | None = None  # part of the reader's name; unset: the first reader
    professional: str | None = None  # the CPS reader; unset: the next one


class CredentialTable(_Table):
    key: str | None = None  # software credential (demo, trainers): PEM private key…
    certificate: str | None = None  # …and its certificate
    pkcs11_module: str | None = None  # the CPS card's PKCS#11 module (Cryptolib, OpenSC)
    token_label: str | None = None  # which token, when several (unset: the CPS found)


class ReceiptsTable(_Table):
    format: Literal["a4", "80mm"] = "a4"


class PrinterTable(_Table):
    name: str | None = None  # CUPS queue; unset: LPDEST, PRINTER, then the CUPS default
    auto: bool = True  # print the accusé by itself when a printer is named


class SessionTable(_Table):
    idle_lock_minutes: int = Field(default=5, ge=0, le=24 * 60)  # 0: never


class ServerTable(_Table):
    """``proclient serve``; server/serving.py checks the combination (certificates, loopback)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    database: str | None = None  # unset: SQLite in the data dir (server/serving.py)
    certificate: str | None = None
    key: str | None = None
    trusted_ca: str | None = None
    mode: Literal["test", "production"] = "test"
    plain_http: bool = False  # only on a loopback host, behind a TLS proxy
    pseudonym_key: str | None = None  # unset: next to the TLS key (server/serving.py)
    workers: int = Field(default=1, ge=1, le=32)  # service processes on one socket
    # What one client may ask (server/limits.py; README "Limits"); sizes in bytes, times in s.
    max_auth_body_bytes: int = Field(default=32 * 1024, ge=4 * 1024, le=1024 * 1024)
    max_body_bytes: int = Field(default=64 * 1024, ge=4 * 1024, le=16 * 1024 * 1024)
    max_json_depth: int = Field(default=8, ge=4, le=64)
    max_json_items: int = Field(default=256, ge=32, le=100_000)
    header_timeout: float = Field(default=10.0, gt=0, le=600)
    body_timeout: float = Field(default=20.0, gt=0, le=600)
    keep_alive_timeout: float = Field(default=5.0, gt=0, le=600)
    max_connections: int = Field(default=500, ge=1, le=100_000)
    max_connections_per_address: int = Field(default=50, ge=0, le=100_000)  # 0: no cap
    # Addresses whose X-Forwarded-For is believed (a TLS proxy: "127.0.0.1"); unset: none.
    trusted_proxies: str | None = None


class UiTable(_Table):
    language: Literal["fr", "en"] = "fr"


# Every ``Binding(..., id=...)`` of the app and its screens and widgets: the ids a ``[keys]``
# table may rebind (Textual keymap). tests/test_settings.py keeps this in step with the code.
KEY_IDS: frozenset[str] = frozenset(
    {
        # proclient/app.py
        "remove_card",
        "toggle_cps",
        "quit",
        # proclient/screens/base.py
        "help",
        "back",
        "next",
        # proclient/screens/home.py
        "demo_card",
        "reread",
        "manual_entry",
        "journal",
        "quit_home",
        "cancel_picker",
        # proclient/screens/summary.py
        "create",
        # proclient/screens/done.py
        "next_patient",
        "print_receipt",
        "print_secrets",
        "show_secrets",
        "reissue_password",
        "close_secrets",
        # proclient/screens/journal.py
        "reprint",
        "close_journal",
        # proclient/screens/lock.py
        "close_session",
        # proclient/widgets/help.py
        "close_help",
    }
)


def _known_key_id(value: str) -> str:
    if value not in KEY_IDS:
        raise ValueError("unknown binding id")  # describe_error says it in French
    return value


def _key_list(value: str) -> str:
    # Textual keymap syntax: one key or several, comma-separated ("f5,ctrl+p").
    if not all(part.strip() and " " not in part.strip() for part in value.split(",")):
        raise ValueError("not a key list")  # describe_error says it in French
    return value


KeyId = Annotated[str, AfterValidator(_known_key_id)]
KeyList = Annotated[str, AfterValidator(_key_list)]


class ConfigFile(BaseModel):
    """The whole of config.toml: one attribute per table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: ServiceTable = ServiceTable()
    readers: ReadersTable = ReadersTable()
    credential: CredentialTable = CredentialTable()
    receipts: ReceiptsTable = ReceiptsTable()
    printer: PrinterTable = PrinterTable()
    session: SessionTable = SessionTable()
    server: ServerTable = ServerTable()
    keys: dict[KeyId, KeyList] = Field(default_factory=dict, strict=True)
    ui: UiTable = UiTable()


TABLES: tuple[str, ...] = tuple(ConfigFile.model_fields)


class Settings(ConfigFile):
    """config.toml, the environment and where files live: ``settings.printer.name``…

    The flat read-only properties below keep the callers' names of the first version.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    paths: Paths

    @property
    def configured(self) -> bool:
        return bool(self.service.url)

    @property
    def service_url(self) -> str | None:
        return self.service.url

    @property
    def service_ca_bundle(self) -> str | None:
        return self.service.ca_bundle

    @property
    def reader_patient(self) -> str | None:
        return self.readers.patient

    @property
    def reader_professional(self) -> str | None:
        return self.readers.professional

    @property
    def credential_key(self) -> str | None:
        return self.credential.key

    @property
    def credential_certificate(self) -> str | None:
        return self.credential.certificate

    @property
    def credential_pkcs11_module(self) -> str | None:
        return self.credential.pkcs11_module

    @property
    def credential_token_label(self) -> str | None:
        return self.credential.token_label

    @property
    def receipt_format(self) -> str:
        return self.receipts.format

    @property
    def printer_name(self) -> str | None:
        return self.printer.name

    @property
    def printer_auto(self) -> bool:
        return self.printer.auto

    @property
    def idle_lock_minutes(self) -> int:
        return self.session.idle_lock_minutes


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
    """Read the settings file (absent is fine) and apply environment overrides."""
    paths = paths or Paths.resolve()
    raw: dict = {}
    if paths.config_file.exists():
        try:
            raw = tomllib.loads(paths.config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise DomainError(
                "CONFIG",
                _(
                    "Le fichier de réglages {path} est illisible : corrigez-le ou supprimez-le.",
                    path=paths.config_file,
                ),
            ) from error
    try:
        config = ConfigFile.model_validate(raw)
    except ValidationError as error:
        raise DomainError("CONFIG", describe_error(error, paths.config_file)) from None
    tables = {name: getattr(config, name) for name in TABLES}
    for variable, (table, key) in ENVIRONMENT.items():
        if os.environ.get(variable):
            tables[table] = tables[table].model_copy(update={key: os.environ[variable]})
    return Settings(paths=paths, **tables)


# --- one French sentence per mistake -------------------------------------------------------


def describe_error(error: ValidationError, source: object, table: str | None = None) -> str:
    """The first mistake of ``error`` as one French sentence naming ``table.key`` and the
    ``source`` (the file, or where the values came from). ``table``: when ``error`` comes from
    one table's model rather than the whole file."""
    first = error.errors(include_url=False)[0]
    loc = tuple(str(part) for part in first["loc"])
    if table is not None:
        loc = (table, *loc)
    kind = first["type"]
    if loc[0] == "keys" and loc[-1] == "[key]":  # an id no Binding carries
        name = "keys." + loc[1]
        return _(
            "Réglage inconnu {name} dans {source} : les actions connues sont {ids}.",
            name=name,
            source=source,
            ids=", ".join(sorted(KEY_IDS)),
        )
    name = ".".join(loc)
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return _(
                "Section inconnue [{name}] dans {source} : les sections connues sont {tables}.",
                name=name,
                source=source,
                tables=", ".join(f"[{t}]" for t in TABLES),
            )
        return _(
            "Réglage inconnu {name} dans {source} : corrigez son nom ou retirez-le.",
            name=name,
            source=source,
        )
    return _(
        "Réglage {name} dans {source} : valeur attendue {expected}.",
        name=name,
        source=source,
        expected=_expected(loc),
    )


def _expected(loc: tuple[str, ...]) -> str:
    """What the setting at ``loc`` accepts, in French."""
    if len(loc) == 1:
        if loc[0] == "keys":
            return _('une section [keys] (action = "touche")')
        return _("une section [{table}]", table=loc[0])
    if loc[0] == "keys":
        return _(
            "une touche ou plusieurs séparées par des virgules, entre guillemets "
            '(par exemple "f5,ctrl+p")'
        )
    table = ConfigFile.model_fields.get(loc[0])
    field = None
    if (
        table is not None
        and isinstance(table.annotation, type)
        and issubclass(table.annotation, BaseModel)
    ):
        field = table.annotation.model_fields.get(loc[1])
    if field is None:
        return _("une autre valeur")
    annotation = field.annotation
    if typing.get_origin(annotation) is Literal:
        return _(" ou ").join(f"« {choice} »" for choice in typing.get_args(annotation))
    if annotation is bool:
        return _("vrai ou faux (true ou false, sans guillemets)")
    if annotation is int:
        low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
        if low is not None and high is not None:
            return _("un nombre entier entre {low} et {high}", low=low, high=high)
        return _("un nombre entier")
    if annotation is str or str in typing.get_args(annotation):
        return _("un texte entre guillemets")
    return _("une autre valeur")


EXAMPLE_CONFIG = """\
# proclient settings
[service]
url = "https://dmp.example.internal:8443"   # proclient serve on the shared host
ca_bundle = "/etc/proclient/ca.pem"          # the CA that signed the service's certificate

[readers]
patient = ""          # part of the reader's name (empty: the first reader)

[receipts]
format = "a4"         # or "80mm"

[credential]
pkcs11_module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"   # or the ANS Cryptolib CPS module
token_label = ""      # empty: the token holding the CPS authentication certificate

[session]
idle_lock_minutes = 5 # the screen locks after this idle time; the PIN unlocks it

[printer]
name = ""             # CUPS queue (lpstat -p); empty: LPDEST, PRINTER, then the CUPS default
auto = true           # with a name set, print the accusé as soon as the DMP is created
"""
