"""Where the workstation's files live: ``PROCLIENT_HOME`` (tests, trainers, a USB stick) or
platformdirs' per-user folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
