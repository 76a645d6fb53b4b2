"""The house's size and shape (docs/architecture.md): the App only routes (app.py at most
400 lines), no class above 400 lines anywhere in proclient/, and no import cycle between
modules of proclient/ (a lazy import inside a function counts: it is still a dependency).

Each rule is checked on the real tree, then on a planted violation: a rule that never fails
protects nothing."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400


def big_classes(package: Path) -> list[str]:
    """``path:Class lines`` of every class above LIMIT lines under ``package``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > LIMIT:
                    found.append(f"{path.relative_to(package.parent)}:{node.name} {lines}")
    return found


def app_lines(package: Path) -> int:
    return len((package / "app.py").read_text(encoding="utf-8").splitlines())


def import_cycles(package: Path) -> list[list[str]]:
    """The strongly connected groups of modules (more than one) in ``package``'s imports,
    module-level and lazy ones alike (grimp, import-linter's own graph)."""
    import grimp

    graph = grimp.build_graph(package.name, cache_dir=None)
    modules = sorted(m for m in graph.modules if m.startswith(package.name))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit)
        nonlocal counter
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if not target.startswith(package.name):
                    continue
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append(
                        (target, iter(sorted(graph.find_modules_directly_imported_by(target))))
                    )
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_the_app_only_routes_and_no_class_is_above_400_lines():
    package = ROOT / "proclient"
    assert app_lines(package) <= LIMIT, f"proclient/app.py has {app_lines(package)} lines"
    assert big_classes(package) == []


def test_no_import_cycle_between_modules_of_proclient():
    assert import_cycles(ROOT / "proclient") == []


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        ROOT / "proclient", tmp_path / "proclient", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path / "proclient"


def test_a_grown_class_or_app_is_caught(tree_copy: Path):
    body = "".join(f"    def m{n}(self):\n        return {n}\n" for n in range(LIMIT // 2 + 1))
    (tree_copy / "routes" / "grown.py").write_text(f"class Grown:\n{body}", encoding="utf-8")
    with (tree_copy / "app.py").open("a", encoding="utf-8") as handle:
        handle.write("\n" * (LIMIT + 1))

    grown = big_classes(tree_copy)
    assert any(found.startswith("proclient/routes/grown.py:Grown") for found in grown)
    assert app_lines(tree_copy) > LIMIT


def test_a_planted_cycle_is_caught(tree_copy: Path):
    with (tree_copy / "core" / "domain.py").open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef _planted():\n    from proclient.core import flow  # noqa: F401\n")
    # In a process of its own, where the copy is the package found first.
    script = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from tests.test_house import import_cycles; "
        "print(json.dumps(import_cycles(Path(sys.argv[1]) / 'proclient')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tree_copy.parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    cycles = json.loads(run.stdout)
    assert any(
        "proclient.core.domain" in group and "proclient.core.flow" in group for group in cycles
    )
