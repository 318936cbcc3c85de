"""The quick commands as a user meets them on the seeds: `kb search`, `kb stats` and `kb query`, each
the installed `kb` in a process of its own against a running local server holding the seed files,
wall time and the process's CPU; then the same with each start-up mechanism removed, in one run:
the driver's optional imports (numpy, pandas, pyarrow) made first, as before kb/cli.py kept them off
the quick commands' path; pypinyin imported at start, as before kb/keys.py imported it on the
first Chinese name only; and YAML read by the pure-Python parser, as before kb/schema.py took libyaml's.

Usage: python bench/startup.py [--runs N]      (figures to bench/results/startup.json)
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb import config, ddl
from loaders import pipeline, seed

KB = str(Path(sys.executable).with_name("kb"))
COMMANDS = {
    "kb search Kuka": ["search", "Kuka"],
    "kb stats": ["stats"],
    "kb query (a count)": ["query", "MATCH (c:City) RETURN count(c) AS cities"],
}
# Each mechanism's removal: Python run before the command, undoing what the mechanism saves.
REMOVALS = {"driver's optional imports": "import numpy, pandas, pyarrow",
            "pinyin on first use": "import pypinyin",
            "libyaml's parser": "import yaml; yaml.CSafeLoader = yaml.SafeLoader"}


def without(prelude: str) -> list[str]:
    return [sys.executable, "-c", f"{prelude}; import sys; from kb.cli import main; sys.argv[0] = 'kb'; main()"]


def timed_run(argv: list[str]) -> tuple[float, float]:
    """(wall ms, CPU ms of the child) of one run; a failed run raises."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return wall, ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def measure(prefix: list[str], args: list[str], runs: int) -> dict:
    timed_run(prefix + args)    # untimed: warms the file cache and the server
    walls, cpus = zip(*(timed_run(prefix + args) for _ in range(runs)))
    figures = harness.percentiles(list(walls))
    figures["cpu_p50_ms"] = round(sorted(cpus)[len(cpus) // 2], 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    rows, payload = [], {"runs": runs, "load_average_before": os.getloadavg()[0], "commands": {}}
    with harness.fresh_server():
        harness.start_server()
        ddl.init()
        pipeline.load(seed.reader([config.PROJECT_ROOT / "seeds"]), show_progress=False)
        for name, args in COMMANDS.items():
            shipped = measure([KB], args, runs)
            payload["commands"][name] = {"as_shipped": shipped}
            rows.append([name, "as shipped", shipped["p50_ms"], shipped["p95_ms"], shipped["cpu_p50_ms"], ""])
            for mechanism, prelude in REMOVALS.items():
                removed = measure(without(prelude), args, runs)
                gain = 1 - shipped["p50_ms"] / removed["p50_ms"]
                payload["commands"][name][f"without {mechanism}"] = {**removed, "gain_p50": round(gain, 3)}
                rows.append([name, f"without {mechanism}", removed["p50_ms"], removed["p95_ms"],
                             removed["cpu_p50_ms"], f"{gain:+.1%}"])
    payload["load_average_after"] = os.getloadavg()[0]
    print(harness.table(f"Quick commands on the seeds, {runs} runs each (load average {payload['load_average_before']:.1f}"
                        f" before, {payload['load_average_after']:.1f} after)",
                        ["command", "variant", "p50 ms", "p95 ms", "CPU p50 ms", "mechanism's gain (p50)"], rows))
    harness.save("startup", "seeds", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
