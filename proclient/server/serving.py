"""`proclient serve`'s settings and start-up: the DMP service shared by several workstations.

Settings come from the ``[server]`` table of the same config.toml as the workstation's
(``proclient locate`` prints where), then the environment, then the command line:

    [server]
    host = "0.0.0.0"            # bind address (default 127.0.0.1)
    port = 8443
    database = "sqlite:////var/lib/proclient/dmp.sqlite3"   # or postgresql://user@host/db
    certificate = "/etc/proclient/server.pem"   # TLS certificate (chain) of the service
    key = "/etc/proclient/server.key"
    trusted_ca = "/etc/proclient/cps-ca.pem"    # CA(s) of the professionals' certificates
    mode = "production"         # or "test": which INS the service accepts (HOM 6)
    pseudonym_key = "/etc/proclient/dmp-pseudonym.key"  # default: next to the TLS key
    document_signing = "/etc/proclient/document-signing"  # default: next to the pseudonym key
    workers = 4                 # service processes on one socket (default 1)
    metrics_port = 9464         # Prometheus metrics on their own loopback port (server/metrics.py)
    log_format = "json"         # one JSON object per line (default "text")
    drain_seconds = 10          # SIGTERM: requests in flight finish (server/draining.py)
    insi_answer_ttl = 3600      # seconds an INSi answer allows a creation (default 1 hour)
    challenges_per_minute = 30  # login challenges per client address and minute (default 30)
    offline_consent_days = 7    # days a consent captured offline stays good (1 to 90)
    psc_discovery_url = "https://…/.well-known/wallet-openid-configuration"  # e-CPS (psc_config.py)

``PROCLIENT_SERVER_DATABASE`` overrides ``database`` (keeps a PostgreSQL password out of the
file). HTTPS always, except ``--plain-http`` on a loopback address (a reverse proxy on the
same host terminating TLS).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from proclient.core.capture import DEFAULT_MAX_AGE_DAYS
from proclient.core.domain import DomainError
from proclient.core.i18n import _
from proclient.core.netutil import is_loopback
from proclient.core.settings import ServerTable, load_settings, validate_table
from proclient.server.psc_config import psc_settings
from proclient.server.settings import PscSettings, ServerLimits

DEFAULT_PORT = 8443


def _config_error(message: str) -> DomainError:
    return DomainError("SERVER_CONFIG", message)


@dataclass(frozen=True)
class ServeConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    certificate: Path | None = None
    key: Path | None = None
    trusted_ca: Path | None = None
    mode: str = "test"
    plain_http: bool = False
    workers: int = 1  # service processes sharing the listening socket (processes.serve_workers)
    pseudonym_key: Path | None = None  # unset: pseudonym_key_path() chooses
    trusted_proxies: str | None = None  # whose X-Forwarded-For is believed
    data_dir: Path | None = None  # the service's data folder (server_dir)
    limits: ServerLimits = ServerLimits()  # body, JSON, timeouts, connections (limits.py)
    insi_answer_ttl: int = 3600  # seconds (server/insi.py, the creation gate)
    challenges_per_minute: int = 30  # per client address (server/auth.py)
    offline_consent_days: int = DEFAULT_MAX_AGE_DAYS  # server/offline.py
    psc: PscSettings | None = None  # e-CPS through Pro Santé Connect (server/psc_config.py)
    document_signing: Path | None = None  # the signing key's folder (document_signing_path)
    signing_ca: Path | None = None  # a PKI folder (ca.pem, ca.key) issuing it: the demo's
    metrics_port: int | None = None  # Prometheus text format on its own port (server/metrics.py)
    metrics_host: str = "127.0.0.1"
    log_format: str = "text"  # or "json" (one object per line)
    drain_seconds: float = 10.0  # SIGTERM: budget for the requests in flight (server/draining.py)

    @property
    def scheme(self) -> str:
        return "http" if self.plain_http else "https"


def server_dir(paths) -> Path:
    return paths.data_dir / "server"


def default_database(paths) -> str:
    return f"sqlite:///{server_dir(paths) / 'dmp-service.sqlite3'}"


def load_serve_config(paths, **overrides) -> ServeConfig:
    """The [server] table of the settings model (PROCLIENT_SERVER_DATABASE included), then
    ``overrides`` from the command line (None = unset), checked by the same model."""
    table = load_settings(paths).server
    given = {
        name: str(value) if isinstance(value, Path) else value
        for name, value in overrides.items()
        if value is not None
    }
    if given:
        table = validate_table(
            ServerTable,
            {**asdict(table), **given},
            _("la ligne de commande"),
            code="SERVER_CONFIG",
        )

    def path(value: str | None) -> Path | None:
        return Path(value).expanduser() if value else None

    return ServeConfig(
        database=table.database or default_database(paths),
        host=table.host,
        port=table.port,
        certificate=path(table.certificate),
        key=path(table.key),
        trusted_ca=path(table.trusted_ca),
        mode=table.mode,
        plain_http=table.plain_http,
        workers=table.workers,
        pseudonym_key=path(table.pseudonym_key),
        trusted_proxies=table.trusted_proxies,
        data_dir=server_dir(paths),
        limits=_limits(table),
        insi_answer_ttl=table.insi_answer_ttl,
        challenges_per_minute=table.challenges_per_minute,
        offline_consent_days=table.offline_consent_days,
        psc=psc_settings(table),
        document_signing=path(table.document_signing),
        metrics_port=table.metrics_port,
        metrics_host=table.metrics_host,
        log_format=table.log_format,
        drain_seconds=table.drain_seconds,
    )


def _limits(table: ServerTable) -> ServerLimits:
    """The [server] table's limits (same names as :class:`ServerLimits`' fields)."""
    from dataclasses import fields

    return ServerLimits(
        **{field.name: getattr(table, field.name) for field in fields(ServerLimits)}
    )


def check(config: ServeConfig) -> None:
    """Refuse a configuration that cannot serve safely, with one sentence naming the fix."""
    if config.plain_http and not is_loopback(config.host):
        raise _config_error(
            _(
                "Le service sans HTTPS (--plain-http) n'écoute que sur 127.0.0.1 : retirez "
                "--plain-http ou écoutez sur 127.0.0.1."
            )
        )
    needed = [("trusted_ca", "trusted_ca")]
    if not config.plain_http:
        needed += [("certificate", "certificate"), ("key", "key")]
    for attribute, setting in needed:
        path = getattr(config, attribute)
        if path is None:
            raise _config_error(
                _(
                    "Réglage server.{name} manquant : indiquez le fichier dans la section [server] "
                    "du fichier de réglages, ou lancez « proclient serve --init-demo » pour un "
                    "service de démonstration.",
                    name=setting,
                )
            )
        if not path.is_file():
            raise _config_error(
                _("Fichier introuvable pour server.{name} : {path}.", name=setting, path=path)
            )


# --- demo material ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoMaterial:
    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path
    pki: object  # DemoPki


def demo_hosts(bind_host: str) -> list[str]:
    hosts = ["localhost", "127.0.0.1", "::1"]
    for name in (socket.gethostname(), socket.getfqdn(), bind_host):
        if name and name not in hosts and name not in ("0.0.0.0", "::"):
            hosts.append(name)
    return hosts


def init_demo(paths, bind_host: str) -> DemoMaterial:
    """The demo CA, the demo professionals' credentials (PIN 1234) and a TLS certificate for
    this host, in ``<data>/server/demo``; reused when still valid and covering the names."""
    from proclient.server.demo import ensure_demo_pki, ensure_demo_tls

    directory = server_dir(paths) / "demo"
    pki = ensure_demo_pki(directory / "pki")
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    ensure_demo_tls(pki, cert_path, key_path, demo_hosts(bind_host))
    return DemoMaterial(directory, pki.ca_cert_path, cert_path, key_path, pki)


def with_demo(config: ServeConfig, material: DemoMaterial) -> ServeConfig:
    """``config`` completed by the demo material where it names nothing of its own."""
    if config.mode != "test":
        raise _config_error(
            _(
                "Le matériel de démonstration ne sert qu'en mode test : retirez --init-demo ou "
                "choisissez --mode test."
            )
        )
    return replace(
        config,
        certificate=config.certificate or material.server_cert,
        key=config.key or material.server_key,
        trusted_ca=config.trusted_ca or material.ca_cert,
        signing_ca=material.pki.directory,  # type: ignore[attr-defined]
    )


def describe_demo(material: DemoMaterial, config: ServeConfig) -> str:
    """What --init-demo made and how a workstation uses it (French, for the console)."""
    pki = material.pki
    shown_host = "localhost" if config.host in ("0.0.0.0", "::", "127.0.0.1") else config.host
    lines = [
        _("Matériel de démonstration dans {path} :", path=material.directory),
        _(
            "  autorité de certification (à copier sur chaque poste) : {path}",
            path=material.ca_cert,
        ),
        _(
            "  certificat du service : {cert}  clé : {key}",
            cert=material.server_cert,
            key=material.server_key,
        ),
        _("  professionnels de démonstration (code porteur {pin}) :", pin=pki.default.pin),
    ]
    for demo in pki.professionals:
        person = demo.professional
        lines.append(
            f"    {person.last_name} {person.first_name} ({person.id_nat}, "
            f"{person.profession}) : {demo.cert_path.name} / {demo.key_path.name}"
        )
    lines += [
        _("Sur chaque poste, dans config.toml (proclient locate) :"),
        "  [service]",
        f'  url = "{config.scheme}://{shown_host}:{config.port}"',
        f'  ca_bundle = "{material.ca_cert}"',
    ]
    return "\n".join(lines)


# --- running -------------------------------------------------------------------------------


def pseudonym_key_path(config: ServeConfig) -> Path:
    """Where the pseudonymisation key file is: ``server.pseudonym_key``, else next to the TLS
    key, else (``--plain-http`` without a key) next to the SQLite file or in the service's
    data folder."""
    from proclient.server.database import open_database
    from proclient.server.pseudonym_key import KEY_FILE_NAME

    if config.pseudonym_key is not None:
        return config.pseudonym_key
    if config.key is not None:
        return config.key.parent / KEY_FILE_NAME
    if urlsplit(config.database).scheme.lower() not in ("postgresql", "postgres"):
        try:
            database = open_database(config.database)
        except ValueError:
            database = None  # build_app says the address is invalid
        if database is not None:
            database.close()
            return database.path.parent / KEY_FILE_NAME  # type: ignore[attr-defined]
    if config.data_dir is None:
        raise _config_error(
            _(
                "Réglage server.pseudonym_key manquant : indiquez où garder la clé de "
                "pseudonymisation du journal d'audit."
            )
        )
    return config.data_dir / KEY_FILE_NAME


def document_signing_path(config: ServeConfig) -> Path:
    """The document-signing key's folder: ``server.document_signing``, else
    ``document-signing`` next to the pseudonymisation key."""
    from proclient.server.signing_key import FOLDER_NAME

    if config.document_signing is not None:
        return config.document_signing
    return pseudonym_key_path(config).parent / FOLDER_NAME


def load_signer(config: ServeConfig):
    """The service's document signer (server/signing_key.py): read, or made at first start,
    issued by ``signing_ca`` (the demo's CA with --init-demo) or else the folder's own CA."""
    from proclient.server.signing_key import load_or_create_signer, own_ca

    ca = own_ca(config.signing_ca) if config.signing_ca is not None else None
    return load_or_create_signer(document_signing_path(config), ca)


def rotate_signer(config: ServeConfig):
    """A new document-signing key from now on (server/signing_key.py's rotate)."""
    from proclient.server.signing_key import own_ca, rotate

    ca = own_ca(config.signing_ca) if config.signing_ca is not None else None
    return rotate(document_signing_path(config), ca)


def describe_signer(config: ServeConfig, signer) -> str:
    """Which key signs the accusés and the bundle verifiers need (French, for the console)."""
    from proclient.server.signing_key import BUNDLE_NAME

    return _(
        "Clé de signature des accusés : {key_id} ; certificats à donner aux postes qui "
        "vérifient (verify.service_certificates) : {path}",
        key_id=signer.key_id,
        path=document_signing_path(config) / BUNDLE_NAME,
    )


def build_app(config: ServeConfig):
    from proclient.server.app import create_app
    from proclient.server.pseudonym_key import load_pseudonym_key
    from proclient.server.settings import ServerSettings

    database: str | Path = config.database
    signer = load_signer(config)
    try:
        trusted = config.trusted_ca.read_bytes()  # type: ignore[union-attr]
        secret = load_pseudonym_key(pseudonym_key_path(config), database)
        settings = ServerSettings(
            database=database,
            trusted_ca_pem=trusted,
            mode=config.mode,  # type: ignore[arg-type]
            pseudonym_secret=secret,
            limits=config.limits,
            insi_answer_ttl=timedelta(seconds=config.insi_answer_ttl),
            challenge_limit=config.challenges_per_minute,
            offline_consent_max_age=timedelta(days=config.offline_consent_days),
            psc=config.psc,
            document_signer=signer,
            drain_seconds=config.drain_seconds,
        )
        return create_app(settings)
    except ssl.SSLError:  # the only TLS material loaded here: PSC's client certificate
        raise _config_error(
            _(
                "Le certificat client pour Pro Santé Connect (server.psc_client_certificate) et "
                "sa clé (server.psc_client_key) ne vont pas ensemble ou sont illisibles : "
                "corrigez le réglage."
            )
        ) from None
    except ValueError:
        raise _config_error(
            _(
                "Le fichier server.trusted_ca ne contient aucun certificat d'autorité lisible, ou "
                "l'adresse de la base (server.database) est invalide : corrigez le réglage."
            )
        ) from None


def load_insi_register(app, path: Path, mode: str) -> int:
    """``--insi-register FILE.json``: the operator's identities into the service's INSi
    register (all checked first, then stored in one transaction); how many. Refused with
    one sentence (SERVER_CONFIG): an unreadable file, an entry of the wrong shape, a bad
    NIR or NIA key, a name with other characters than letters, spaces, hyphens and
    apostrophes, a test OID on a production service or a real INS-NIR on a test one."""
    from proclient.server.register_file import load_register_file

    at = datetime.now(UTC).isoformat(timespec="seconds")
    return load_register_file(app.state.storage, path, mode, at)


def uvicorn_server(config: ServeConfig, app):
    """The uvicorn server for ``app``: access log on (paths and statuses only; request
    bodies are never logged and no URL carries a NIR), no Server header. Its HTTP protocol
    enforces ``config.limits`` on connections (head and body deadlines, connections per
    address and in all) and its TLS is restricted to AEAD suites (server/limits.py); no
    WebSocket (the service has none)."""
    import uvicorn

    from proclient.server import limits

    options = dict(
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=True,
        server_header=False,
        lifespan="on",
        # After SIGTERM's drain (server/draining.py), what is left gets the same budget again.
        timeout_graceful_shutdown=max(1, round(config.drain_seconds)),
        http=limits.protocol_class(),
        ws="none",
        timeout_keep_alive=config.limits.keep_alive_timeout,
        h11_max_incomplete_event_size=limits.MAX_HEAD_BYTES,
        # The limits and the login counters are per client address: a forwarded address is
        # believed only from a proxy named in server.trusted_proxies (uvicorn's default
        # believes any process on 127.0.0.1, which could then pick its own address).
        proxy_headers=bool(config.trusted_proxies),
        forwarded_allow_ips=config.trusted_proxies or "",
    )
    if not config.plain_http:
        options.update(
            ssl_certfile=str(config.certificate),
            ssl_keyfile=str(config.key),
            ssl_context_factory=limits.tls_context,
        )
    return uvicorn.Server(limits.LimitedConfig(app, config.limits, **options))


# --- the console log (serve, its workers, the benchmarks) -------------------------------------


CONSOLE_HANDLER = "proclient-console"


def console_logging(*, with_pid: bool = False, log_format: str | None = None) -> None:
    """Log records to stderr at INFO. With several processes each line names its process,
    so that an access line can be traced to the worker that answered. ``log_format`` "json":
    one JSON object per line (server/logformat.py), Python's warnings included; None: the
    format this process chose before, else text. Called again, it replaces its handler."""
    import logging
    import sys

    root = logging.getLogger()
    earlier = next((h for h in root.handlers if h.get_name() == CONSOLE_HANDLER), None)
    if log_format is None:
        log_format = getattr(earlier, "log_format", "text")
    if earlier is not None:
        root.removeHandler(earlier)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(CONSOLE_HANDLER)
    handler.log_format = log_format  # type: ignore[attr-defined]
    if log_format == "json":
        from proclient.server.logformat import JsonFormatter

        handler.setFormatter(JsonFormatter())
        logging.captureWarnings(True)  # a warning on stderr would not be JSON
    else:
        process = " [%(process)d]" if with_pid else ""
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s %(levelname)s %(name)s{process} %(message)s")
        )
    root.addHandler(handler)
    root.setLevel(logging.INFO)
