"""Settings: one model of ``config.toml`` for the workstation and for ``proclient serve``.

The file lives in the user config dir (``proclient locate`` prints where); environment
variables override a few entries. ``PROCLIENT_HOME`` roots config, data and logs in one folder
(tests, trainers, a USB stick); otherwise platformdirs' per-user folders are used.

Each table of the file is a frozen standard-library dataclass that pydantic validates strictly
when it is asked to (it reads the dataclasses as they are: this module never imports it), so
a typo is one French sentence naming ``table.key`` and the file, never a silently ignored line.
An empty string for a name or a path means "unset", as if the line were absent.

Start-up speed: validating needs pydantic (some 55 ms to import it and build the validator).
After a file and its environment overrides were accepted once, their digest is kept
(``Paths.validated_digest``); while it matches, the dataclasses are built from the TOML
without pydantic. No file and no override: the defaults, without pydantic either.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from proclient import __version__
from proclient.core.capture import DEFAULT_MAX_AGE_DAYS
from proclient.core.domain import DomainError
from proclient.core.fileutil import write_private
from proclient.core.i18n import _

if TYPE_CHECKING:
    from pydantic import ValidationError

APP_NAME = "proclient"
T = typing.TypeVar("T")


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

    @property
    def validated_digest(self) -> Path:
        """The digest of the last settings the model accepted (see ``load_settings``): in the
        per-user state folder that holds the log folder (~/.local/state/proclient)."""
        return self.log_dir.parent / "settings-validated.sha256"

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


# --- what pydantic reads when it validates (nothing here imports it) ----------------------


def Field(  # the name and arguments of pydantic's Field: lines read the same
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    strict: bool | None = None,
) -> Any:
    """A dataclass field with pydantic's ``Field`` constraints as its metadata: pydantic
    applies ``ge``/``gt``/``le`` found in a standard dataclass field's metadata when it validates,
    and ``describe_error`` reads them to say the range in French. Another argument of
    pydantic's is a TypeError here: add it above rather than see it ignored."""
    constraints = {"ge": ge, "gt": gt, "le": le, "strict": strict}
    return dataclasses.field(
        default=default,
        default_factory=default_factory,
        metadata={name: value for name, value in constraints.items() if value is not None},
    )


@dataclass(frozen=True)
class AfterValidator:
    """``Annotated`` metadata like pydantic's ``AfterValidator``: ``function`` checks a value
    once its type is right, and raises ``ValueError`` to refuse it."""

    function: Callable[[Any], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema  # at validation time only

        return core_schema.no_info_after_validator_function(self.function, handler(source))


class _Table:
    """Base of the tables and of the whole file (for TOML, a table of tables), all frozen
    dataclasses."""

    # Strict types (no "5" for 5, no 1 for true) and no unknown key: pydantic reads this
    # dict as a standard dataclass's config.
    __pydantic_config__ = {"extra": "forbid", "strict": True}

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        # Strict mode would also want an instance of the dataclass itself where TOML gives a
        # table (a dict): only this level is lax ("strict" of a dataclass schema: "require an
        # exact instance"); its fields stay strict.
        schema = handler(source)
        handler.resolve_ref_schema(schema)["strict"] = False
        return schema


# --- the tables of config.toml ------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTable(_Table):
    url: str | None = None  # the DMP service (proclient serve), https:// (http on loopback)
    ca_bundle: str | None = None  # PEM file of the CA that signed the service's certificate


@dataclass(frozen=True)
class ReadersTable(_Table):
    patient: str | None = None  # part of the reader's name; unset: the first reader
    professional: str | None = None  # the CPS reader; unset: the next one


@dataclass(frozen=True)
class CredentialTable(_Table):
    key: str | None = None  # software credential (demo, trainers): PEM private key…
    certificate: str | None = None  # …and its certificate
    pkcs11_module: str | None = None  # the CPS card's PKCS#11 module (Cryptolib, OpenSC)
    token_label: str | None = None  # which token, when several (unset: the CPS found)


@dataclass(frozen=True)
class ReceiptsTable(_Table):
    format: Literal["a4", "80mm"] = "a4"


@dataclass(frozen=True)
class PrinterTable(_Table):
    name: str | None = None  # CUPS queue; unset: LPDEST, PRINTER, then the CUPS default
    auto: bool = True  # print the accusé by itself when a printer is named


@dataclass(frozen=True)
class SessionTable(_Table):
    idle_lock_minutes: int = Field(default=5, ge=0, le=24 * 60)  # 0: never


@dataclass(frozen=True)
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
    # Seconds an INSi answer lets its professional create or reactivate the DMP (server/insi.py).
    insi_answer_ttl: int = Field(default=3600, ge=60, le=24 * 3600)
    # Days a consent captured offline stays good for its creation (server/offline.py).
    offline_consent_days: int = Field(default=DEFAULT_MAX_AGE_DAYS, ge=1, le=90)


@dataclass(frozen=True)
class UiTable(_Table):
    # Unset: the session's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else French.
    language: Literal["fr", "en"] | None = None


# Every ``Binding(..., id=...)`` of the app and its screens and widgets: the ids a ``[keys]``
# table may rebind (Textual keymap). tests/test_settings.py keeps this in step with the code.
KEY_IDS: frozenset[str] = frozenset(
    {
        # proclient/app.py
        "remove_card",
        "toggle_cps",
        "toggle_network",
        "quit",
        "help_anywhere",
        "palette",
        # proclient/screens/base.py
        "help",
        "back",
        "next",
        # proclient/screens/home.py
        "demo_card",
        "reread",
        "manual_entry",
        "journal",
        "outbox",
        "quit_home",
        "cancel_picker",
        # proclient/screens/connect.py (and lock.py for the demo's unblocking)
        "insi_retry",
        "insi_traits",
        "unblock_demo_cps",
        # proclient/screens/summary.py
        "create",
        "record",
        "record_instead",
        # proclient/screens/recorded.py
        "print_slip",
        # proclient/screens/outbox.py
        "outbox_send",
        "outbox_retry",
        "outbox_accept",
        "outbox_drop",
        "drop_keep",
        "drop_confirm",
        "quit_stay",
        "quit_confirm",
        # proclient/screens/done.py
        "next_patient",
        "print_receipt",
        "print_secrets",
        "show_secrets",
        "reissue_password",
        "quit_done",
        "close_secrets",
        # proclient/screens/journal.py
        "reprint",
        "close_journal",
        # proclient/screens/lock.py
        "close_session",
        # proclient/screens/resume.py
        "resume",
        "start_afresh",
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


@dataclass(frozen=True)
class ConfigFile(_Table):
    """The whole of config.toml: one attribute per table."""

    service: ServiceTable = ServiceTable()
    readers: ReadersTable = ReadersTable()
    credential: CredentialTable = CredentialTable()
    receipts: ReceiptsTable = ReceiptsTable()
    printer: PrinterTable = PrinterTable()
    session: SessionTable = SessionTable()
    server: ServerTable = ServerTable()
    keys: dict[KeyId, KeyList] = Field(default_factory=dict, strict=True)
    ui: UiTable = UiTable()


TABLES: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(ConfigFile))


@functools.cache
def _types(model: type) -> dict[str, Any]:
    """Field name → type of a dataclass of this module (its annotations are text)."""
    return typing.get_type_hints(model)


@functools.cache
def _table_types() -> dict[str, type]:
    """Table name → its dataclass, for the tables that have one (not [keys])."""
    return {name: kind for name, kind in _types(ConfigFile).items() if _is_model(kind)}


@dataclass(frozen=True, kw_only=True)
class Settings(ConfigFile):
    """config.toml, the environment and where files live: ``settings.printer.name``…

    The flat read-only properties below keep the callers' names of the first version.
    """

    paths: Paths

    def __post_init__(self) -> None:
        # Settings(paths=…, service={"url": …}) in code: a table given as a dict is checked
        # like the file's (this one call imports pydantic).
        for name, table in _table_types().items():
            given = getattr(self, name)
            if isinstance(given, dict):
                object.__setattr__(self, name, validate_table(table, given, _("le code")))

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

    name = next(name for name, kind in _table_types().items() if kind is table)
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
    tables = _table_types()
    cleaned = dict(raw)
    for name, values in raw.items():
        if name in tables and isinstance(values, dict):
            types = _types(tables[name])
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
    a second start compares both ways on the README's example, which shows every field."""
    types = _types(model)

    def built(name: str, value: Any) -> Any:
        if isinstance(value, dict) and _is_model(types[name]):
            return _build(types[name], value)
        if types[name] is float and type(value) is int:
            return float(value)  # what validation makes of `header_timeout = 10`
        return value

    return model(**{name: built(name, value) for name, value in values.items()})


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


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
        model = Path(__file__).read_bytes()
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


# --- one French sentence per mistake -------------------------------------------------------


def describe_error(error: ValidationError, source: object, table: str | None = None) -> str:
    """The first mistake of ``error`` (pydantic's) as one French sentence naming
    ``table.key`` and the ``source`` (the file, or where the values came from). ``table``:
    when ``error`` comes from one table's model rather than the whole file."""
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
    # A dataclass refuses an unknown key as an unexpected keyword argument.
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
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
    table = _table_types().get(loc[0])
    fields = {field.name: field for field in dataclasses.fields(table)} if table else {}
    if loc[1] not in fields:
        return _("une autre valeur")
    annotation = _types(table)[loc[1]]
    if type(None) in typing.get_args(annotation):  # an optional setting: what it accepts when set
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is Literal:
        return _(" ou ").join(f"« {choice} »" for choice in typing.get_args(annotation))
    if annotation is bool:
        return _("vrai ou faux (true ou false, sans guillemets)")
    if annotation is int:
        low = fields[loc[1]].metadata.get("ge")
        high = fields[loc[1]].metadata.get("le")
        if low is not None and high is not None:
            return _("un nombre entier entre {low} et {high}", low=low, high=high)
        return _("un nombre entier")
    if annotation is float:
        high = fields[loc[1]].metadata.get("le")
        if high is not None:
            return _("un nombre de secondes supérieur à 0, au plus {high}", high=high)
        return _("un nombre")
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
