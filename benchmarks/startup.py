"""Cold start to the first interactive frame: proclient's home screen vs a bare Textual app.

Each run is a fresh interpreter (python -X importtime is not used: we want wall time), which
exits as soon as the app is ready (headless). Target: proclient ≤ 1.3× the bare app.
A child that does not reach its first frame (a crash: Textual exits 0 after one) exits 3
and the benchmark stops, so a broken app never prints a time. Bytecode is written (the
first run compiles), as an installed wheel has it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys
kind = sys.argv[1]
if kind == "bare":
    from textual.app import App
    from textual.widgets import Footer, Static

    class Bare(App):
        def compose(self):
            yield Static("Insérez la carte Vitale du patient")
            yield Footer()

        def on_ready(self):
            self.exit(0)

    app = Bare()
    app.run(headless=True)
    sys.exit(3 if app.return_code != 0 else 0)
else:
    from proclient.app import ProclientApp
    from proclient.core.settings import load_settings
    from proclient.wiring import demo_wiring

    class Measured(ProclientApp):
        def on_ready(self):
            self.exit(0)

    app = Measured(demo_wiring(load_settings()))
    app.run(headless=True)
    sys.exit(3 if app.return_code != 0 else 0)
"""


def run(kind: str, runs: int) -> list[float]:
    times = []
    env = dict(os.environ, PROCLIENT_HOME=tempfile.mkdtemp(prefix="proclient-bench-"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", CHILD, kind],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(os.environ.get("RUNS", "10"))
    run("bare", 1), run("proclient", 1)  # warm the file cache
    bare = statistics.median(run("bare", runs))
    app = statistics.median(run("proclient", runs))
    print(f"bare Textual app, first frame: {bare * 1000:7.1f} ms (floor)")
    print(
        f"proclient home screen:         {app * 1000:7.1f} ms  = {app / bare:.2f}x (target <= 1.3x)"
    )


if __name__ == "__main__":
    main()
