"""A workstation installs ``proclient`` without the server extra: the configured application
must start without FastAPI, uvicorn or psycopg.

The check runs in a fresh interpreter where a ``sys.meta_path`` finder refuses the server's
packages, as if ``pip install proclient`` had left them out: it builds the application as
``proclient.cli.main`` does on a configured workstation (``ProclientApp(configured_wiring(
settings))``), runs it headless until the home screen is up and the service start has run,
and prints OK. Any attempt to import a refused package is reported, even one that something
caught and hid behind an error message.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVER_ONLY = ("fastapi", "starlette", "uvicorn", "psycopg", "psycopg_pool", "uvloop", "httptools")

PROBE = textwrap.dedent(
    """
    import asyncio
    import importlib.abc
    import sys

    SERVER_ONLY = frozenset(sys.argv[1].split(","))
    refused = []


    class WithoutServerExtra(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in SERVER_ONLY:
                refused.append(name)
                raise ModuleNotFoundError(f"No module named {name!r} (no server extra)",
                                          name=name)
            return None


    sys.meta_path.insert(0, WithoutServerExtra())

    import proclient.app
    import proclient.cli  # noqa: F401
    import proclient.wiring
    from proclient.screens.home import HomeScreen
    from proclient.core.settings import load_settings

    settings = load_settings()
    assert settings.configured, "the probe's config.toml does not configure a workstation"
    app = proclient.app.ProclientApp(proclient.wiring.configured_wiring(settings))


    async def main():
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(200):
                if isinstance(app.screen, HomeScreen):
                    break
                await pilot.pause(0.05)
            else:
                raise SystemExit(f"no home screen, {type(app.screen).__name__} instead")
            # The service start (a worker after the first frame) must have run too: it is
            # where the configured service client is imported and built.
            await asyncio.wait_for(app.workers.wait_for_complete(), timeout=20)
            await pilot.pause()


    try:
        asyncio.run(asyncio.wait_for(main(), timeout=30))
    except TimeoutError:
        # run_test waits for the App to be ready: an App that failed before its message loop
        # never is. Say why (diagnosis only: Textual keeps that task in a private attribute).
        import traceback

        task = getattr(app, "_task", None)
        if task is not None and task.done() and not task.cancelled() and task.exception():
            traceback.print_exception(task.exception())
        raise SystemExit("the application did not reach its home screen within 30 s") from None
    if refused:
        raise SystemExit(f"imported without the server extra: {sorted(set(refused))}")
    print("OK")
    """
)


def _software_credential(directory: Path) -> tuple[Path, Path]:
    """A throw-away key (PIN 1234) and self-signed certificate for ``[credential]``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # as a CPS key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Poste de test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / "professional.key", directory / "professional.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"1234"),
        )
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_configured_workstation_starts_without_the_server_extra(tmp_path: Path):
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    key_path, cert_path = _software_credential(tmp_path)
    (home / "config" / "config.toml").write_text(
        textwrap.dedent(
            f"""
            [service]
            url = "https://127.0.0.1:9"

            [credential]
            key = "{key_path}"
            certificate = "{cert_path}"
            """
        ),
        encoding="utf-8",
    )
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PROCLIENT_")  # no override of the probe's settings
    }
    environment.update(PROCLIENT_HOME=str(home), PYTHONPATH=str(ROOT), COLUMNS="100")
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(probe), ",".join(SERVER_ONLY)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), (
        result.stdout + result.stderr
    )
