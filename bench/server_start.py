"""`kb server start` as a user runs it: the installed `kb` starting the local server and returning once
Bolt answers, then `kb server stop`; wall time of the start and the Java process's CPU when it was
ready. Each run is timed as shipped and without the class archive that the build makes
(kb/ops/server.py class_archive), the two alternating, so that both meet the same machine.

Usage: python bench/server_start.py [--runs N] [--home DIR]     (figures to bench/results/server_start.json)
  --home starts the server on the database kept in DIR (the 1M graph of `bench/app.py --home DIR`, say);
  without it, on an empty database in a temporary folder.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb.ops import server

KB = str(Path(sys.executable).with_name("kb"))
VARIANTS = ("as shipped", "without the class archive")


@contextlib.contextmanager
def archive_set_aside():
    """The build's class archive moved away for the block (a start then loads every class itself)."""
    archive = server.class_archive()
    aside = archive.with_name(archive.name + ".aside")
    archive.rename(aside)
    try:
        yield
    finally:
        aside.rename(archive)


def timed_start() -> tuple[float, float]:
    """(wall ms of `kb server start`, CPU ms of the server's Java process once it answered), then stopped."""
    started = time.perf_counter()
    done = subprocess.run([KB, "server", "start"], capture_output=True, text=True, timeout=600)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"kb server start failed: {done.stderr.strip()}")
    fields = Path(f"/proc/{server.status().pid}/stat").read_text().split(")")[-1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") * 1000
    subprocess.run([KB, "server", "stop"], capture_output=True, text=True, timeout=600, check=True)
    return wall, cpu


def measure(runs: int) -> dict:
    if not server.is_built():
        server.build(echo=harness.say)
    if not server.class_archive().exists():
        raise SystemExit(f"no class archive at {server.class_archive()}: the build could not make one")
    timed_start()   # untimed: the file cache
    samples = {variant: [] for variant in VARIANTS}
    for _ in range(runs):
        samples[VARIANTS[0]].append(timed_start())
        with archive_set_aside():
            samples[VARIANTS[1]].append(timed_start())
    found = {}
    for variant, pairs in samples.items():
        walls, cpus = zip(*pairs)
        found[variant] = {**harness.percentiles(list(walls)), "cpu_p50_ms": round(sorted(cpus)[len(cpus) // 2], 1)}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--home", type=Path, help="a KB_HOME holding the database to start on")
    options = parser.parse_args()
    payload = {"runs": options.runs, "home": str(options.home or "(empty, temporary)"),
               "load_average_before": os.getloadavg()[0]}
    place = (harness.local_server_in(options.home.resolve(), str(harness.free_port())) if options.home
             else harness.fresh_server())
    with place:
        payload["variants"] = measure(options.runs)
    payload["load_average_after"] = os.getloadavg()[0]
    shipped, removed = (payload["variants"][variant] for variant in VARIANTS)
    payload["gain_p50"] = round(1 - shipped["p50_ms"] / removed["p50_ms"], 3)
    rows = [[variant, figures["p50_ms"], figures["p95_ms"], figures["cpu_p50_ms"]]
            for variant, figures in payload["variants"].items()]
    print(harness.table(f"kb server start on {payload['home']}, {options.runs} runs each (load average "
                        f"{payload['load_average_before']:.1f} before, {payload['load_average_after']:.1f} after); "
                        f"the archive's gain at p50: {payload['gain_p50']:+.1%}",
                        ["variant", "p50 ms", "p95 ms", "Java CPU p50 ms"], rows))
    harness.save("server_start", "1m" if options.home else "empty", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
