"""The tables of ``config.toml``: frozen standard-library dataclasses that pydantic
validates strictly when asked to (nothing here imports it), and :class:`Settings`, the whole
file with where files live."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from proclient.core.capture import DEFAULT_MAX_AGE_DAYS

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
    # The document-signing key's folder (server/signing_key.py); unset: next to pseudonym_key.
    document_signing: str | None = None
    workers: int = Field(default=1, ge=1, le=32)  # service processes on one socket
    # What one client may ask (server/limits.py; docs/service.md "Limits"); bytes, seconds.
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
    # Login challenges one client address may ask per minute (server/auth.py): a pharmacy
    # group's counters behind one NAT share it (docs/service.md "Authentication").
    challenges_per_minute: int = Field(default=30, ge=1, le=100_000)
    # Seconds an INSi answer lets its professional create or reactivate the DMP (server/insi.py).
    insi_answer_ttl: int = Field(default=3600, ge=60, le=24 * 3600)
    # Days a consent captured offline stays good for its creation (server/offline.py).
    offline_consent_days: int = Field(default=DEFAULT_MAX_AGE_DAYS, ge=1, le=90)
    # e-CPS through Pro Santé Connect (server/psc_config.py): unset discovery URL, no e-CPS.
    # The secret: a 0600 file, or PROCLIENT_PSC_CLIENT_SECRET; or a TLS client certificate.
    psc_discovery_url: str | None = None
    psc_client_id: str | None = None
    psc_client_secret_file: str | None = None
    psc_client_certificate: str | None = None
    psc_client_key: str | None = None
    psc_ca: str | None = None  # unset: the system's CAs
    psc_timeout: float = Field(default=10.0, gt=0, le=120)
    # Operator tools (docs/service.md "Operating several hosts"). Prometheus metrics on their
    # own loopback port (server/metrics.py); unset: no metrics.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"  # loopback only unless the operator says otherwise
    log_format: Literal["text", "json"] = "text"  # json: one object per line (log collectors)
    # SIGTERM: seconds the requests in flight get to finish (new ones get 503 + Retry-After).
    drain_seconds: float = Field(default=10.0, ge=0, le=600)


@dataclass(frozen=True)
class VerifyTable(_Table):
    """``proclient verify`` and « Vérifier un accusé »: whom a proof is checked against. The
    DMP service's document-signing certificates (a PEM bundle, the service's
    ``document-signing/certificates.pem``) for the 2D codes; the CA(s) of the CPS cards for the
    accusé's PDF signature."""

    service_certificates: str | None = None
    cps_ca: str | None = None  # PEM file of the CA(s) of the CPS cards (the accusé's signature)


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
        "verify",
        # proclient/screens/verify.py
        "close_verify",
        # proclient/screens/codes.py
        "sheet_print",
        "sheet_show",
        "sheet_leave",
        "sheet_stay",
        "new_password_done",
        "new_password_back",
        "new_password_print",
        "new_password_show",
        "new_password",
        "choose_card",
        # proclient/screens/connect.py (and lock.py for the demo's unblocking)
        "insi_retry",
        "insi_traits",
        "unblock_demo_cps",
        # e-CPS: step 2 and the lock screen (F2), its screen (proclient/screens/ecps.py)
        "ecps",
        "lock_ecps",
        "ecps_cancel",
        "ecps_phone_approve",
        "ecps_phone_refuse",
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
    verify: VerifyTable = VerifyTable()
    keys: dict[KeyId, KeyList] = Field(default_factory=dict, strict=True)
    ui: UiTable = UiTable()


TABLES: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(ConfigFile))


@functools.cache
def field_types(model: type) -> dict[str, Any]:
    """Field name → type of a dataclass of this module (its annotations are text)."""
    return typing.get_type_hints(model)


@functools.cache
def table_types() -> dict[str, type]:
    """Table name → its dataclass, for the tables that have one (not [keys])."""
    return {name: kind for name, kind in field_types(ConfigFile).items() if is_table(kind)}


def is_table(kind: Any) -> bool:
    """Whether ``kind`` is one of the dataclasses above (a table, or the whole file)."""
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)
