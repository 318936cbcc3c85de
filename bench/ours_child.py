"""Our loader on one folder of CSV files, in its own process so that its peak memory is its own.

Usage: python -m bench.ours_child FOLDER RESULT.json MODE   (KB_HOME and KB_NEO4J_PORT name the server;
MODE: incremental or bulk, see loaders/bulk.py)
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(folder: str, result_path: str, mode: str) -> None:
    started = time.monotonic()
    from kb.ops import admin
    from loaders import csv as csv_loader, pipeline

    report = pipeline.load(csv_loader.reader([folder]), show_progress=False, mode=mode,
                           offline_import=admin.bulk_import)
    Path(result_path).write_text(json.dumps({
        "entities": report.entities, "relations": report.relations,
        "written": sum(report.written.values()), "loader_seconds": report.seconds,
        "process_seconds": time.monotonic() - started, "peak_rss_mb": round(peak_rss_mb(), 1),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
