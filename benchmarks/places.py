"""Places of birth (proclient.core.places): the COG table read once, then a completion per
keystroke and a resolution per field left.

Floors: reading the gzip file alone (the rest is parsing and indexing), and a keystroke's
budget of 16 ms (one frame at 60 Hz: the completion must not be felt).
"""

from __future__ import annotations

import gzip
import statistics
import time

from proclient.core import places
from proclient.core.domain import BirthDate

PREFIXES = ("t", "to", "tou", "toul", "saint", "saint e", "st et", "ann", "alg", "paris 1")
NAMES = ("Toulouse", "Annecy-le-Vieux", "Saint-Étienne (42)", "Maroc", "Paris 12e", "Hainneville")
BORN = BirthDate("19800101")


def main() -> None:
    start = time.perf_counter()
    with gzip.open(places.DATA, "rt", encoding="utf-8") as file:
        lines = sum(1 for _line in file)
    floor = time.perf_counter() - start
    start = time.perf_counter()
    places.data_vintage()  # reads and indexes the table
    load = time.perf_counter() - start
    print(f"table: {places.DATA.stat().st_size} bytes gzip, {lines} lines")
    print(
        f"first use (read + index): {load * 1000:.0f} ms (reading the gzip alone: {floor * 1000:.0f} ms)"
    )
    for label, calls in (
        ("search (limit 10) per prefix", [(places.search, p, BORN) for p in PREFIXES]),
        ("resolve per name", [(places.resolve, n, BORN) for n in NAMES]),
    ):
        samples = []
        for _ in range(50):
            for fn, text, born in calls:
                t = time.perf_counter()
                fn(text, born)
                samples.append(time.perf_counter() - t)
        print(
            f"{label}: median {statistics.median(samples) * 1000:.2f} ms, "
            f"max {max(samples) * 1000:.2f} ms (budget per keystroke 16 ms)"
        )


if __name__ == "__main__":
    main()
