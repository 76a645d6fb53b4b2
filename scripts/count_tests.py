"""How many tests the suite collects and how many ``assert`` statements its files hold.

A faster suite must not be a smaller one (issue 20): run this before and after a change to the
tests' wiring and compare. The tests are counted as pytest collects them (every parameter
counts), without running any; the asserts are the ``assert`` statements of tests/ (read from
the syntax tree, so comments and strings do not count), plus the calls to ``pytest.raises``
and ``pytest.fail``, which assert too.

    .venv/bin/python scripts/count_tests.py   # tests: 1597, asserts: 2395, pytest.raises/fail: 178
    .venv/bin/python scripts/count_tests.py --json
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def collected_tests(root: Path = ROOT) -> int:
    """The number of test items pytest collects under tests/ (nothing is run)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    items = [line for line in done.stdout.splitlines() if "::" in line]
    if done.returncode != 0 or not items:
        raise SystemExit(f"collection failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return len(items)


def _asserting_call(node: ast.AST) -> bool:
    """``pytest.raises(…)`` or ``pytest.fail(…)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("raises", "fail")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "pytest"
    )


def assertions(root: Path = ROOT) -> dict[str, int]:
    """``assert`` statements and pytest.raises/fail calls in tests/**/*.py."""
    counts = {"assert": 0, "pytest.raises/fail": 0}
    for path in sorted((root / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                counts["assert"] += 1
            elif _asserting_call(node):
                counts["pytest.raises/fail"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    counts = {"tests": collected_tests(), **assertions()}
    if args.json:
        print(json.dumps(counts))
    else:
        print(
            f"tests: {counts['tests']}, asserts: {counts['assert']}, "
            f"pytest.raises/fail: {counts['pytest.raises/fail']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
