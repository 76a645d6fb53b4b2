"""Places of birth by name (../shared/DOMAIN.md §8): what a professional types — a town, or a
country for people born abroad — and the INSEE code INSi wants, the code of the commune *at
the date of birth* (communes merge, split and change names every year) or 99xxx for a
country.

The look-up is INSEE's Code officiel géographique shipped in ``data/cog.tsv.gz`` (built by
scripts/cog_build.py, which says where it comes from and how it is dated): every commune
since 1943 with the periods it existed, the commune déléguée, associée or absorbed with the
commune a birth there belongs to at each date, the municipal arrondissements, the countries.
It is read on first use and kept (a few tenths of a second, once).

:func:`search` completes a typed prefix (accents, case, hyphens, apostrophes and « St »
optional), the places that existed at the birth date first; :func:`resolve` reads a code or a
name (« Saint-Denis (93) », « Maroc », the labels :func:`search` gives) into the code for the
birth date, or refuses in one French sentence (BIRTHPLACE) that says how to put it right;
:func:`resolve_birthplace` is its code alone. Core: no I/O beyond the packaged file.
"""

from __future__ import annotations

import bisect
import calendar
import gzip
import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from proclient.core.domain import BirthDate, DomainError
from proclient.core.i18n import _

DATA = Path(__file__).with_name("data") / "cog.tsv.gz"

# An INSEE place code: département (2 digits, 2A/2B for Corsica, 97x/98x overseas) + commune,
# or 99 + country.
CODE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")
# Paris, Marseille and Lyon: the RNIPP writes a birth there with the arrondissement's code.
CITIES_BY_ARRONDISSEMENT = {"75056", "13055", "69123"}

COMMUNE, COUNTRY = "commune", "country"
# Row kinds (the data file's): commune, arrondissement, country first; then the places that
# belong to a commune at the date asked (déléguée, associée) and the former communes.
_KIND_RANK = {"C": 0, "R": 0, "P": 0, "D": 2, "A": 2, "F": 3}
# Countries rank among communes as a town of this size would: « alg » suggests Algérie before
# Algrange, « mar » Marseille before Maroc.
_COUNTRY_WEIGHT = 20_000
# Search: past this many names beginning with what is typed, only these and the most
# populous of them (among the _POPULAR most populous places) are ranked.
_MANY, _POPULAR = 500, 4000


@dataclass(frozen=True)
class Place:
    """A place of birth as the COG names it for a period: its ``name`` and own INSEE ``code``,
    ``kind`` (COMMUNE — communes, their arrondissements, communes déléguées or associées and
    former communes — or COUNTRY), ``department`` (``31``, ``2A``, ``974``; empty for a
    country), the period (``valid_from`` included, ``valid_to`` excluded, None when open) and
    ``birthplace``: the code INSi takes for a birth there in that period (the commune it then
    belonged to)."""

    name: str
    code: str
    kind: str
    department: str
    valid_from: date | None
    valid_to: date | None
    birthplace: str
    status: str = "C"  # the data file's kind: C, R, D, A, F or P

    @property
    def label(self) -> str:
        """How suggestions write it, and what :func:`resolve` reads back: « Toulouse (31) »,
        « Maroc (pays) »."""
        return f"{self.name} ({self.department or _('pays')})"


@dataclass(frozen=True)
class Resolution:
    """What a typed birthplace stands for: INSi's ``code``, the ``place`` typed (None for a
    code the COG does not know) and the ``commune`` (name) that code designates at the birth
    date when it is not the place itself."""

    code: str
    place: Place | None = None
    commune: str | None = None

    def describe(self) -> str:
        """One French line: « Toulouse (31) — code 31555 »."""
        if self.place is None:
            return _(
                "Code {code} (inconnu du Code officiel géographique : vérifiez-le)", code=self.code
            )
        if self.commune:
            return _(
                "{place} — code {code} (commune à la date de naissance : {commune})",
                place=self.place.label,
                commune=self.commune,
                code=self.code,
            )
        return _("{place} — code {code}", place=self.place.label, code=self.code)


@dataclass(frozen=True)
class DataVintage:
    """Which COG the program carries: ``year`` (the millésime, state at 1 January), the
    number of communes then and of countries and territories, the packages it was built from."""

    year: int
    communes: int
    countries: int
    sources: tuple[str, ...]

    def describe(self) -> str:
        return _(
            "Code officiel géographique : millésime {year} (INSEE), {communes} communes, "
            "{countries} pays",
            year=self.year,
            communes=f"{self.communes:,}".replace(",", "\u202f"),
            countries=self.countries,
        )


# --- reading what is typed ---------------------------------------------------------------------

_LIGATURES = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
}
_SAINTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLES = ("le ", "la ", "les ", "l ")


def _plain_table() -> dict[int, str]:
    # Latin letters with diacritics → the base letter, ASCII punctuation → a space: one
    # str.translate for the 38 000 names read at start-up instead of NFKD each time.
    table: dict[int, str] = {ord(k): v for k, v in _LIGATURES.items()}
    for point in range(0xC0, 0x250):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", chr(point)) if not unicodedata.combining(c)
        )
        if plain != chr(point) and plain.isascii():
            table.setdefault(point, plain)
    for point in range(0x80):
        if not chr(point).isalnum():
            table[point] = " "
    table[0x2019] = " "  # the typographic apostrophe
    return table


_PLAIN = _plain_table()


def _fold(text: str) -> str:
    letters = text.translate(_PLAIN).lower()
    if not letters.isascii():  # a letter the table does not know
        decomposed = unicodedata.normalize("NFKD", letters)
        letters = "".join(c for c in decomposed if not unicodedata.combining(c))
        letters = re.sub(r"[^0-9a-z]+", " ", letters)
    return " ".join(letters.split())


def key(text: str, saints: bool = True) -> str:
    """What two spellings of a place share: lower case without accents, hyphens, apostrophes
    and punctuation read as spaces, « St »/« Ste » read as Saint/Sainte (``saints``)."""
    words = _fold(text).split()
    if saints:
        words = [_SAINTS.get(word, word) for word in words]
    return " ".join(words)


def _window(born: BirthDate | None) -> tuple[date, date] | None:
    """The days the birth date may stand for: one day, or the month or year of a lunar date
    (00 for an unknown day or month); None when unknown."""
    if born is None or not born.year or born.year < 1:
        return None
    exact = born.as_date
    if exact is not None:
        return exact, exact
    year = born.year
    month = int(born.raw[4:6]) if born.raw[4:6].isdigit() else 0
    if 1 <= month <= 12:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, 1, 1), date(year, 12, 31)


# --- the data ----------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: 54 000 of them, built faster; never changed
class _Row:
    name: str
    code: str
    kind: str
    start: date | None
    end: date | None
    result: str
    alias: bool
    depts: tuple[str, ...]
    weight: int

    @property
    def department(self) -> str:
        if self.kind == "P":
            return ""
        return self.code[:3] if self.code[:2] in ("97", "98") else self.code[:2]

    def valid(self, window: tuple[date, date] | None) -> bool:
        if window is None:  # no birth date: today's places
            return self.end is None
        low, high = window
        return (self.start is None or self.start <= high) and (self.end is None or self.end > low)

    def place(self) -> Place:
        return Place(
            self.name,
            self.code,
            COUNTRY if self.kind == "P" else COMMUNE,
            self.department,
            self.start,
            self.end,
            self.result,
            self.kind,
        )


class _Data:
    def __init__(self, path: Path) -> None:
        self.meta: dict[str, list[str]] = {}
        self.rows: list[_Row] = []
        self.by_key: dict[str, list[int]] = {}
        self.by_code: dict[str, list[int]] = {}
        # The largest population a code had (today's), to rank all its names and periods.
        self.weights: dict[str, int] = {}
        keys: dict[str, str] = {}
        with gzip.open(path, "rt", encoding="utf-8") as file:
            for line in file:
                if line.startswith("# "):
                    name, _tab, value = line[2:].rstrip("\n").partition("\t")
                    self.meta.setdefault(name, []).append(value)
                    continue
                name, code, kind, start, end, result, alias, depts, weight = line.rstrip(
                    "\n"
                ).split("\t")
                row = _Row(
                    name,
                    code,
                    kind,
                    date.fromisoformat(start) if start else None,
                    date.fromisoformat(end) if end else None,
                    result or code,
                    alias == "1",
                    tuple(depts.split(",")) if depts else (),
                    int(weight or 0),
                )
                index = len(self.rows)
                self.rows.append(row)
                name_key = keys.get(name)
                if name_key is None:
                    name_key = keys[name] = key(name)
                self.by_key.setdefault(name_key, []).append(index)
                self.by_code.setdefault(code, []).append(index)
                if row.weight:
                    self.weights[code] = max(self.weights.get(code, 0), row.weight)
        for name_key in list(self.by_key):
            for alias_key in self._aliases(name_key):
                self.by_key.setdefault(alias_key, [])
                self.by_key[alias_key] = sorted(set(self.by_key[alias_key] + self.by_key[name_key]))
        # Prefix search: every key, and every key without its article (« havre » finds
        # « Le Havre »), sorted.
        entries = {(k, k) for k in self.by_key}
        for name_key in self.by_key:
            for article in _ARTICLES:
                if name_key.startswith(article):
                    entries.add((name_key[len(article) :], name_key))
        self.prefixes = sorted(entries)
        self.prefix_keys = [entry[0] for entry in self.prefixes]
        # The same entries, the most populous places first: a short prefix (« s », « saint »)
        # matches thousands of names, of which these are ranked without reading them all.
        size: dict[str, int] = {}
        for name_key, indexes in self.by_key.items():
            for index in indexes:
                row = self.rows[index]
                weight = _COUNTRY_WEIGHT if row.kind == "P" else row.weight
                if weight > size.get(name_key, 0):
                    size[name_key] = weight
        ranked = sorted((e for e in entries if e[1] in size), key=lambda e: -size[e[1]])
        self.popular = ranked[:_POPULAR]

    @staticmethod
    def _aliases(name_key: str) -> list[str]:
        # « Paris 12e Arrondissement » is also « Paris 12e » and « Paris 12 »; « Lyon 1er… »
        # « Lyon 1er » and « Lyon 1 ».
        match = re.fullmatch(r"(.+) (\d+)(er|e) arrondissement", name_key)
        if not match:
            return []
        city, number, suffix = match.groups()
        return [f"{city} {number}{suffix}", f"{city} {number}"]

    def name_at(self, code: str, window: tuple[date, date] | None) -> str | None:
        """The commune ``code``'s own name at the birth date."""
        for index in self.by_code.get(code, ()):
            row = self.rows[index]
            if row.kind in ("C", "R") and not row.alias and row.valid(window):
                return row.name
        return None


_data: _Data | None = None
_lock = threading.Lock()


def _load() -> _Data:
    global _data
    if _data is None:
        with _lock:
            if _data is None:
                _data = _Data(DATA)
    return _data


def data_vintage() -> DataVintage:
    """The COG the program carries (for ``proclient doctor``)."""
    meta = _load().meta
    return DataVintage(
        int(meta["vintage"][0]),
        int(meta["communes"][0]),
        int(meta["countries"][0]),
        tuple(meta.get("source", ())),
    )


# --- searching ---------------------------------------------------------------------------------


def search(prefix: str, born: BirthDate | None = None, limit: int = 10) -> list[Place]:
    """The places whose name starts with ``prefix`` (accents, case, hyphens, apostrophes,
    « St » and a leading article optional), those that existed at the birth date first (today's
    when ``born`` is None), then by kind (communes and countries before communes déléguées and
    former communes), exact name, population, name. One Place per name and place."""
    typed = key(prefix)
    if not typed:
        return []
    data = _load()
    window = _window(born)
    keys = set()
    for wanted in {typed, key(prefix, saints=False)}:
        start = bisect.bisect_left(data.prefix_keys, wanted)
        end = bisect.bisect_left(data.prefix_keys, wanted + "\uffff", start)
        # Many names begin so: the first ones, the name itself, and the most populous.
        first = data.prefixes[start : min(end, start + _MANY)]
        keys.update(name_key for _entry, name_key in first)
        if end - start > _MANY:
            keys.update(k for k in (wanted,) if k in data.by_key)
            keys.update(k for entry, k in data.popular if entry.startswith(wanted))
    best: dict[tuple[str, str], tuple] = {}
    for name_key in keys:
        for index in data.by_key[name_key]:
            row = data.rows[index]
            if row.code in CITIES_BY_ARRONDISSEMENT and row.kind == "C":
                continue  # a birth there is written by arrondissement: suggest those
            rank = (
                not row.valid(window),
                name_key != typed,
                row.alias,
                _KIND_RANK[row.kind],
                -(_COUNTRY_WEIGHT if row.kind == "P" else data.weights.get(row.code, 0)),
                len(row.name),
                name_key,
                -(row.start or date.min).toordinal(),
            )
            group = (row.name, row.code)
            if group not in best or rank < best[group][0]:
                best[group] = (rank, row)
    ranked = sorted(best.values(), key=lambda item: item[0])
    places, labels = [], set()
    for _rank, row in ranked:
        place = row.place()
        if place.label in labels:  # the same name and département under two codes over time
            continue
        labels.add(place.label)
        places.append(place)
        if len(places) >= limit:
            break
    return places


# --- resolving ---------------------------------------------------------------------------------


def _refuse(message: str) -> DomainError:
    return DomainError("BIRTHPLACE", message)


def _split_area(text: str) -> tuple[str, str | None]:
    """« Saint-Denis (93) » → (« Saint-Denis », « 93 »); « Maroc (pays) » → (« Maroc »,
    « pays »); otherwise the text and None (brackets that are part of a name stay)."""
    match = re.fullmatch(r"(.*?)\s*\(\s*([^()]*?)\s*\)\s*", text)
    if match:
        inner = match.group(2).upper()
        if re.fullmatch(r"[0-9]{2,3}|2[AB]", inner):
            return match.group(1), inner
        if key(inner) == key(_("pays")) or key(inner) == "pays":
            return match.group(1), "pays"
    return text, None


def _year(window: tuple[date, date] | None) -> str:
    return str(window[0].year) if window else ""


def resolve(text: str, born: BirthDate | None = None) -> Resolution | None:
    """The birthplace typed: an INSEE code (taken as typed, upper case), or a town or a
    country by name, optionally with its département « Saint-Denis (93) » (or « (pays) »), as
    it was called at the birth date. None for an empty text; BIRTHPLACE, in one sentence
    saying what to type instead, when the name is unknown, names several places then, or
    names a place that did not exist at that date."""
    text = " ".join((text or "").split())
    if not text:
        return None
    _check_code_shape(text)
    data = _load()
    window = _window(born)
    if CODE.fullmatch(text.upper()):
        code = text.upper()
        rows = [data.rows[i] for i in data.by_code.get(code, ()) if not data.rows[i].alias]
        valid = [row for row in rows if row.valid(window)] or rows
        return Resolution(code, valid[0].place() if valid else None)
    name, area = _split_area(text)
    rows = [data.rows[i] for i in data.by_key.get(key(name), ())]
    if not rows and area is None:  # « Toulouse 31 »
        match = re.fullmatch(r"(.+?)\s+([0-9]{2,3}|2[AB])", text, flags=re.IGNORECASE)
        if match:
            name, area = match.group(1), match.group(2).upper()
            rows = [data.rows[i] for i in data.by_key.get(key(name), ())]
    if not rows:
        raise _unknown(text, born)
    if area == "pays":
        rows = [row for row in rows if row.kind == "P"]
    elif area is not None:
        rows = [row for row in rows if row.department == area or area in row.depts]
    if not rows:
        raise _refuse(
            _(
                "Aucun lieu « {name} » dans le département {area} : vérifiez le département ou "
                "saisissez le nom seul.",
                name=name,
                area=area,
            )
            if area != "pays"
            else _("« {name} » n'est pas un pays : saisissez le nom seul.", name=name)
        )
    valid = [row for row in rows if row.valid(window)]
    if not valid:
        raise _not_then(rows, window, data)
    official = [row for row in valid if not row.alias]
    valid = official or valid
    codes = sorted({row.result for row in valid})
    if len(codes) > 1:
        raise _ambiguous(name, valid, codes, data)
    row = min(valid, key=lambda r: (_KIND_RANK[r.kind], r.start or date.min))
    code = codes[0]
    if code in CITIES_BY_ARRONDISSEMENT and row.kind in ("C", "P"):
        raise _refuse(
            _(
                "Une naissance à {city} s'inscrit par arrondissement : précisez-le, par exemple "
                "« {city} 12e » (ou laissez le lieu vide).",
                city=row.name,
            )
        )
    commune = None
    if row.kind not in ("C", "R", "P") or row.alias:
        then = data.name_at(code, window)
        commune = then if then and key(then) != key(row.name) else None
    return Resolution(code, row.place(), commune)


def resolve_birthplace(text: str, born: BirthDate | None = None) -> str | None:
    """INSi's birthplace code for what was typed (see :func:`resolve`); None when empty. A
    code is taken as typed (upper case) without reading the COG."""
    code = " ".join((text or "").split()).upper()
    if CODE.fullmatch(code):
        return code
    resolution = resolve(text, born)
    return resolution.code if resolution else None


def _check_code_shape(text: str) -> None:
    # Digits (a Corsican 2A/2B at most): a code mistyped, not a name.
    if re.fullmatch(r"[0-9]+|2[AB][0-9]*", text.upper()) and not CODE.fullmatch(text.upper()):
        raise _refuse(
            _(
                "Un code INSEE de lieu de naissance a 5 caractères (ex. 31555 ; 99 et le code du "
                "pays pour l'étranger) : vérifiez-le, ou saisissez le nom de la commune."
            )
        )


def _unknown(text: str, born: BirthDate | None) -> DomainError:
    close = [place.label for place in search(text, born, limit=3)]
    if close:
        return _refuse(
            _(
                "Lieu de naissance inconnu : « {text} ». Choisissez parmi les suggestions, par "
                "exemple {examples}.",
                text=text,
                examples=", ".join(f"« {label} »" for label in close),
            )
        )
    return _refuse(
        _(
            "Lieu de naissance inconnu : « {text} ». Saisissez une commune française ou un pays "
            "(ex. Toulouse, Maroc), ou son code INSEE.",
            text=text,
        )
    )


def _ambiguous(name: str, rows: list[_Row], codes: list[str], data: _Data) -> DomainError:
    # The most populous first: the one most likely meant.
    by_size = sorted(rows, key=lambda row: (-data.weights.get(row.result, 0), row.department))
    labels = list(dict.fromkeys(row.place().label for row in by_size))
    if len(labels) > 1:
        examples = labels[:3]
        return _refuse(
            _(
                "Plusieurs lieux s'appellent « {name} » : précisez le département, par exemple "
                "{examples}.",
                name=name,
                examples=_(" ou ").join(f"« {label} »" for label in examples),
            )
        )
    return _refuse(
        _(
            "« {label} » désigne plusieurs communes à cette date : saisissez son code INSEE "
            "({codes}).",
            label=labels[0],
            codes=_(" ou ").join(codes),
        )
    )


def _not_then(rows: list[_Row], window: tuple[date, date] | None, data: _Data) -> DomainError:
    year = _year(window)
    if window is None:
        return _refuse(
            _(
                "« {name} » n'est plus une commune : saisissez d'abord la date de naissance.",
                name=rows[0].name,
            )
        )
    first = min(rows, key=lambda r: r.start or date.min)
    if first.start is not None and first.start > window[1]:
        # Created after the birth (a commune nouvelle): name the communes it was made of.
        members = sorted(
            {
                data.rows[i].name
                for i in range(len(data.rows))
                if data.rows[i].result == first.code
                and data.rows[i].kind in ("D", "A", "F")
                and data.rows[i].start == first.start
                and key(data.rows[i].name) != key(first.name)
            }
        )
        if members:
            return _refuse(
                _(
                    "« {name} » n'existait pas encore en {year} : saisissez la commune de "
                    "naissance de l'époque, par exemple {examples}.",
                    name=first.name,
                    year=year,
                    examples=", ".join(members[:4]),
                )
            )
        return _refuse(
            _(
                "« {name} » n'existait pas encore en {year} : saisissez la commune de naissance "
                "de l'époque ou son code INSEE.",
                name=first.name,
                year=year,
            )
        )
    return _refuse(
        _(
            "« {name} » n'existait plus en {year} : vérifiez le lieu ou saisissez son code INSEE.",
            name=rows[0].name,
            year=year,
        )
    )
