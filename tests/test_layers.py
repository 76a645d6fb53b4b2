"""The layering of DESIGN.md, as written in pyproject.toml's import-linter contracts.

The first test checks the real tree. The others plant a violation in a copy of the package and
check that the contracts catch it: a contract that never fails protects nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Runs lint-imports with ``tree``'s pyproject.toml (found in the working directory) on
    ``tree``'s copy of proclient."""
    if not LINT_IMPORTS.exists():
        pytest.skip(f"lint-imports is not installed beside {sys.executable}")
    environment = dict(os.environ)
    # lint-imports finds the root package on sys.path: the copy must win over the editable
    # install of the real tree. A wide console keeps contract names and chains on one line.
    environment["PYTHONPATH"] = str(tree)
    environment["COLUMNS"] = "250"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """A copy of the package and of the contracts, to break on purpose."""
    shutil.copytree(
        ROOT / "proclient",
        tmp_path / "proclient",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant_import(module_file: Path, statement: str) -> None:
    with module_file.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{statement}  # planted by tests/test_layers.py\n")


def assert_broken(result: subprocess.CompletedProcess[str], contract: str, chain: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{contract} BROKEN" in output, output
    assert chain in output, output


def test_the_tree_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_screen_importing_the_app_breaks_the_contract(tree_copy: Path):
    plant_import(tree_copy / "proclient" / "screens" / "home.py", "import proclient.app")

    assert_broken(
        lint_imports(tree_copy),
        "Screens and widgets know no App, route, controller or wiring: they post intents",
        "proclient.screens.home -> proclient.app",
    )


def test_the_server_importing_the_service_client_breaks_the_contract(tree_copy: Path):
    plant_import(tree_copy / "proclient" / "server" / "app.py", "import proclient.service.client")

    assert_broken(
        lint_imports(tree_copy),
        "The server imports no client code",
        "proclient.server.app -> proclient.service.client",
    )


def test_the_core_importing_textual_breaks_the_contract(tree_copy: Path):
    plant_import(tree_copy / "proclient" / "core" / "domain.py", "import textual.app")

    assert_broken(
        lint_imports(tree_copy),
        "The core imports no heavy library and no adapter or UI package",
        "proclient.core.domain -> textual",
    )


def test_a_route_importing_the_app_breaks_the_layers(tree_copy: Path):
    plant_import(tree_copy / "proclient" / "routes" / "steps.py", "import proclient.app")

    result = lint_imports(tree_copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Client layers: entry points > wiring > app > routes" in output and "BROKEN" in output
    assert "proclient.routes.steps -> proclient.app" in output


def test_a_screen_importing_a_route_breaks_the_contract(tree_copy: Path):
    plant_import(
        tree_copy / "proclient" / "screens" / "consent.py", "import proclient.routes.steps"
    )

    assert_broken(
        lint_imports(tree_copy),
        "Screens and widgets know no App, route, controller or wiring: they post intents",
        "proclient.screens.consent -> proclient.routes.steps",
    )


def test_the_psc_standin_importing_the_server_breaks_the_contract(tree_copy: Path):
    plant_import(
        tree_copy / "proclient" / "psc_standin" / "provider.py", "import proclient.server.demo"
    )

    assert_broken(
        lint_imports(tree_copy),
        "The PSC stand-in imports no server and no client code (the core, FastAPI, uvicorn, joserfc only)",
        "proclient.psc_standin.provider -> proclient.server.demo",
    )
