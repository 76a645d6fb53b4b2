"""Settings: a TOML file in the user config dir, overridden by environment variables.

``PROCLIENT_HOME`` roots config, data and logs in one folder (tests, trainers, a USB stick);
otherwise platformdirs' per-user folders are used.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Settings:
    """What the professional configures once per workstation."""

    paths: Paths
    service_url: str | None = None
    service_ca_bundle: str | None = None
    reader_patient: str | None = None
    reader_professional: str | None = None
    credential_key: str | None = None
    credential_certificate: str | None = None
    credential_pkcs11_module: str | None = None  # the CPS card's PKCS#11 module (Cryptolib, OpenSC)
    credential_token_label: str | None = None  # which token, when several (empty: the CPS found)
    receipt_format: str = "a4"
    printer_name: str | None = None
    printer_auto: bool = True  # print the accusé by itself when a printer is named
    idle_lock_minutes: int = 5
    extra: dict = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.service_url)


_ENV = {
    "PROCLIENT_SERVICE_URL": "service_url",
    "PROCLIENT_SERVICE_CA": "service_ca_bundle",
    "PROCLIENT_READER": "reader_patient",
    "PROCLIENT_PKCS11_MODULE": "credential_pkcs11_module",
    "PROCLIENT_PRINTER": "printer_name",
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
                _("Le fichier de réglages {path} est illisible : corrigez-le ou supprimez-le.",
                  path=paths.config_file),
            ) from error
    service = raw.get("service", {})
    readers = raw.get("readers", {})
    credential = raw.get("credential", {})
    receipts = raw.get("receipts", {})
    printer = raw.get("printer", {})
    values = {
        "service_url": service.get("url"),
        "service_ca_bundle": service.get("ca_bundle"),
        "reader_patient": readers.get("patient"),
        "reader_professional": readers.get("professional"),
        "credential_key": credential.get("key"),
        "credential_certificate": credential.get("certificate"),
        "credential_pkcs11_module": credential.get("pkcs11_module") or None,
        "credential_token_label": credential.get("token_label") or None,
        "receipt_format": receipts.get("format", "a4"),
        "printer_name": printer.get("name") or None,
        "printer_auto": bool(printer.get("auto", True)),
        "idle_lock_minutes": raw.get("session", {}).get("idle_lock_minutes", 5),
    }
    for variable, name in _ENV.items():
        if os.environ.get(variable):
            values[name] = os.environ[variable]
    if values["receipt_format"] not in ("a4", "80mm"):
        raise DomainError(
            "CONFIG", _("Le format d'accusé doit être « a4 » ou « 80mm » (réglage receipts.format).")
        )
    idle = values["idle_lock_minutes"]
    if isinstance(idle, bool) or not isinstance(idle, int) or not 0 <= idle <= 24 * 60:
        raise DomainError("CONFIG", _(
            "Le délai de verrouillage doit être un nombre entier de minutes, 0 pour jamais "
            "(réglage session.idle_lock_minutes)."))
    return Settings(paths=paths, **values)


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
