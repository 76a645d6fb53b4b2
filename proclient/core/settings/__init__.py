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

Four modules, one job each: ``paths`` (where files live), ``model`` (the tables of the file),
``loading`` (file + environment → Settings, the digest of the last accepted settings) and
``errors`` (one French sentence per mistake).
"""

from proclient.core.settings.loading import (
    ENVIRONMENT,
    EXAMPLE_CONFIG,
    Settings,
    load_settings,
    validate_config,
    validate_table,
)
from proclient.core.settings.model import (
    KEY_IDS,
    TABLES,
    ConfigFile,
    CredentialTable,
    PrinterTable,
    ReadersTable,
    ReceiptsTable,
    ServerTable,
    ServiceTable,
    SessionTable,
    UiTable,
    VerifyTable,
)
from proclient.core.settings.paths import APP_NAME, Paths

__all__ = [
    "APP_NAME",
    "ENVIRONMENT",
    "EXAMPLE_CONFIG",
    "KEY_IDS",
    "TABLES",
    "ConfigFile",
    "CredentialTable",
    "Paths",
    "PrinterTable",
    "ReadersTable",
    "ReceiptsTable",
    "ServerTable",
    "ServiceTable",
    "SessionTable",
    "Settings",
    "UiTable",
    "VerifyTable",
    "load_settings",
    "validate_config",
    "validate_table",
]
