"""Every benchmark in one go on one generated graph: load (all paths), memory, queries, rendering, the kb commands.

Usage: python bench/run.py --size small|1m [--rounds N]
Exits non-zero if any benchmark produced no figures (the CI smoke test runs --size small).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cli, harness, load, queries, render


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(harness.SIZES), default="small")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure LOAD CSV and our loader this many times, alternately (median reported)")
    args = parser.parse_args()
    started, load_average = time.monotonic(), os.getloadavg()
    folder, summary = harness.dataset(args.size)
    print(f"graph: {summary['entities']} entities, {summary['relations']} relations, seed {summary['seed']} "
          f"({folder})")
    failed = []
    # Our loader runs last and its server stays up: the queries, renders and kb commands use its graph.
    load_payload, kept = load.run(args.size, keep_server=True, rounds=args.rounds)
    print(load.report(load_payload))
    memory = load.memory_payload(load_payload)
    print(load.memory_report(memory) if memory["peak_rss_mb"] else "\nMemory: no figure")
    harness.save("load", args.size, load_payload)
    harness.save("memory", args.size, memory)
    failed += [f"load: {p}" for p, r in load_payload["paths"].items() if "error" in r]
    failed += [] if memory["peak_rss_mb"] else ["memory"]
    if kept is None:
        failed += ["queries", "render", "cli"]
    else:
        try:
            for name, module in (("queries", queries), ("render", render), ("cli", cli)):
                try:
                    payload = module.run(args.size, folder)
                except Exception as error:  # report, and let the other benchmark run
                    harness.say(f"{name} failed: {error!r}")
                    failed.append(name)
                    continue
                print(module.report(payload))
                harness.save(name, args.size, payload)
                # A benchmark that can tell: a failed run or a missing figure is no figure.
                complete = getattr(module, "complete", None)
                if complete and not complete(payload):
                    failed.append(name)
        finally:
            kept.__exit__(None, None, None)
    print(f"\nall benchmarks: {time.monotonic() - started:.0f} s; load average at start "
          f"{load_average[0]:.1f}, at end {os.getloadavg()[0]:.1f} (2 cores: above 2 means other work competed)")
    if failed:
        print("no figures from: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
