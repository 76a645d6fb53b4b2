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

``PROCLIENT_SERVER_DATABASE`` overrides ``database`` (keeps a PostgreSQL password out of the
file). HTTPS always, except ``--plain-http`` on a loopback address (a reverse proxy on the
same host terminating TLS).
"""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from proclient.domain import DomainError
from proclient.i18n import _
from proclient.netutil import is_loopback
from proclient.settings import ServerTable, load_settings, validate_table

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
    from cryptography import x509

    from proclient.fileutil import write_private
    from proclient.server.demo import ensure_demo_pki
    from proclient.server.pki import CertifiedKey, issue_server_certificate

    directory = server_dir(paths) / "demo"
    pki = ensure_demo_pki(directory / "pki")
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    hosts = demo_hosts(bind_host)
    ca_cert = x509.load_pem_x509_certificate(pki.ca_pem)
    if not _server_cert_reusable(cert_path, key_path, ca_cert, hosts):
        from cryptography.hazmat.primitives import serialization

        ca_key = serialization.load_pem_private_key(
            (pki.directory / "ca.key").read_bytes(), password=None
        )
        issued = issue_server_certificate(CertifiedKey(ca_cert, ca_key), hosts)  # type: ignore[arg-type]
        write_private(key_path, issued.key_pem())
        write_private(cert_path, issued.certificate_pem)
    return DemoMaterial(directory, pki.ca_cert_path, cert_path, key_path, pki)


def _server_cert_reusable(cert_path: Path, key_path: Path, ca, hosts: list[str]) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # missing, unreadable, from another CA: issue again
        return False
    present = {str(n) for n in names.get_values_for_type(x509.DNSName)}
    present |= {str(n) for n in names.get_values_for_type(x509.IPAddress)}
    now = datetime.now(UTC)
    return (
        key_path.is_file()
        and set(hosts) <= present
        and cert.not_valid_after_utc > now + timedelta(days=7)
    )


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


def build_app(config: ServeConfig):
    from proclient.server.app import create_app
    from proclient.server.settings import ServerSettings

    database: str | Path = config.database
    try:
        trusted = config.trusted_ca.read_bytes()  # type: ignore[union-attr]
        settings = ServerSettings(database=database, trusted_ca_pem=trusted, mode=config.mode)  # type: ignore[arg-type]
        return create_app(settings)
    except ValueError:
        raise _config_error(
            _(
                "Le fichier server.trusted_ca ne contient aucun certificat d'autorité lisible, ou "
                "l'adresse de la base (server.database) est invalide : corrigez le réglage."
            )
        ) from None


def uvicorn_server(config: ServeConfig, app):
    """The uvicorn server for ``app``: access log on (paths and statuses only; request
    bodies are never logged and no URL carries a NIR), no Server header."""
    import uvicorn

    options = dict(
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=True,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    if not config.plain_http:
        options.update(ssl_certfile=str(config.certificate), ssl_keyfile=str(config.key))
    return uvicorn.Server(uvicorn.Config(app, **options))
