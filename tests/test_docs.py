"""The documentation holds together: a README that fits a screen and leads to every page of
docs/, links that reach an existing file and heading, and repository paths that exist.

The checks are plain functions over a tree, so that the last tests can plant a broken tree
and see them fail."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200

_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) outside code spans; the text may hold code spans (`…`), not brackets.
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# A path of this repository as prose names it: one of its top-level folders, then a path.
_REPO_PATH = re.compile(
    r"(?<![\w/.~<>-])((?:proclient|tests|scripts|benchmarks|probe|fuzz|docs)/[\w./*-]*[\w*])"
)


def pages(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (letters with accents
    kept), spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in a page; a repeated one gets -1, -2… as on GitHub."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    """The links of a page that point into the repository (not http:, mailto:…)."""
    links = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        # A code span is no link, but a link's text may hold one: blank the spans only.
        for target in _LINK.findall(re.sub(r"`[^`]*`", "code", line)):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):
                links.append(target)
    return links


def broken_links(root: Path) -> list[str]:
    broken = []
    for page in pages(root):
        for link in relative_links(page):
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            name = f"{page.relative_to(root)}: {link}"
            if not target.exists():
                broken.append(f"{name} (no such file)")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                broken.append(f"{name} (no such heading in {target.name})")
    return broken


def unlinked_pages(root: Path) -> list[str]:
    readme = root / "README.md"
    linked = {
        (root / link.partition("#")[0]).resolve()
        for link in relative_links(readme)
        if link.partition("#")[0]
    }
    return [
        str(page.relative_to(root))
        for page in sorted((root / "docs").glob("*.md"))
        if page.resolve() not in linked
    ]


# Paths the documentation announces before they land (docs/architecture.md, "Routes (being
# built)"); test_announced_paths_have_not_landed_yet says when to take one off.
ANNOUNCED: set[str] = set()


def missing_paths(root: Path, announced: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Repository paths named anywhere in the pages (prose, code spans, code blocks) that do
    not exist: a moved module leaves its old name behind here first."""
    missing = []
    for page in pages(root):
        for named in sorted(set(_REPO_PATH.findall(page.read_text(encoding="utf-8")))):
            if named in announced:
                continue
            exists = any(root.glob(named)) if "*" in named else (root / named).exists()
            if not exists:
                missing.append(f"{page.relative_to(root)}: {named}")
    return missing


# --- the repository's documentation ---------------------------------------------------------


def test_the_readme_fits_in_two_hundred_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES})"


def test_the_readme_links_every_page_of_docs():
    assert any((ROOT / "docs").glob("*.md")), "docs/ has no page"
    assert unlinked_pages(ROOT) == []


def test_every_relative_link_reaches_a_file_and_its_heading():
    assert broken_links(ROOT) == []


def test_every_repository_path_the_docs_name_exists():
    assert missing_paths(ROOT, ANNOUNCED) == []


def test_announced_paths_have_not_landed_yet():
    landed = {path for path in ANNOUNCED if (ROOT / path).exists()}
    assert not landed, f"{sorted(landed)} exist now: take them off ANNOUNCED (and update the docs)"


# --- the checks themselves, on a planted tree -------------------------------------------------


def test_anchors_follow_githubs_rules():
    assert slug("Créations hors connexion (`proclient outbox`)") == (
        "créations-hors-connexion-proclient-outbox"
    )
    assert slug("Printing, the journal and the 80 mm format") == (
        "printing-the-journal-and-the-80-mm-format"
    )
    assert slug("Real card readers (PC/SC)") == "real-card-readers-pcsc"


def _tree(tmp_path: Path, readme: str, pages: dict[str, str]) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    for name, text in pages.items():
        (tmp_path / "docs" / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_page_the_readme_does_not_link_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        "# R\n\n[a](docs/a.md)\n\n```\n[b](docs/b.md) in a code block is no link\n```\n",
        {"a.md": "# A\n", "b.md": "# B\n"},
    )
    assert unlinked_pages(root) == ["docs/b.md"]


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path):
    root = _tree(
        tmp_path,
        "# R\n\n[a](docs/a.md#two) [gone](docs/gone.md) [`x` here](#r) [web](https://x.org/y)\n",
        {"a.md": "# A\n\n## One\n\n```sh\n# Two, a comment in a code block\n```\n"},
    )
    assert broken_links(root) == [
        "README.md: docs/a.md#two (no such heading in a.md)",
        "README.md: docs/gone.md (no such file)",
    ]


def test_a_repository_path_that_moved_is_reported(tmp_path):
    root = _tree(tmp_path, "# R\n\n`proclient/core/settings.py` and `tests/x.py`\n", {})
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "x.py").write_text("", encoding="utf-8")
    assert missing_paths(root) == ["README.md: proclient/core/settings.py"]
