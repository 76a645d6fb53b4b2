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
    receipt_format: str = "a4"
    idle_lock_minutes: int = 5
    extra: dict = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.service_url)


_ENV = {
    "PROCLIENT_SERVICE_URL": "service_url",
    "PROCLIENT_SERVICE_CA": "service_ca_bundle",
    "PROCLIENT_READER": "reader_patient",
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
    values = {
        "service_url": service.get("url"),
        "service_ca_bundle": service.get("ca_bundle"),
        "reader_patient": readers.get("patient"),
        "reader_professional": readers.get("professional"),
        "credential_key": credential.get("key"),
        "credential_certificate": credential.get("certificate"),
        "receipt_format": receipts.get("format", "a4"),
        "idle_lock_minutes": int(raw.get("session", {}).get("idle_lock_minutes", 5)),
    }
    for variable, name in _ENV.items():
        if os.environ.get(variable):
            values[name] = os.environ[variable]
    if values["receipt_format"] not in ("a4", "80mm"):
        raise DomainError(
            "CONFIG", _("Le format d'accusé doit être « a4 » ou « 80mm » (réglage receipts.format).")
        )
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
"""
