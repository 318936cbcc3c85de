"""What every benchmark shares: sizes, generated data, a fresh server per run, timing and reporting."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kb import db
from kb.ops import server

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_ROOT = Path("/tmp/kb-bench-data")
PORTS = range(7900, 8000)
SEED = 42
# (entities, relations, naive sample): the naive loader needs ~1 ms per row, so at 1m it runs
# on a fixed sample and its rate is reported as measured there.
SIZES = {
    "small": {"entities": 2000, "relations": 8000, "naive_sample": 500},
    "1m": {"entities": 200_000, "relations": 1_000_000, "naive_sample": 5000},
}
# The same server settings for every loading path; recorded with the results.
SERVER_SETTINGS = {"KB_NEO4J_HEAP": "2g", "KB_NEO4J_PAGECACHE": "1g"}


def free_port(taken: tuple = ()) -> int:
    """A free port among those the benchmarks may use, other than the taken ones."""
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def dataset(size: str) -> tuple[Path, dict]:
    """The generated files for a size, generated once per (size, seed, generator's code) and reused."""
    from bench import synthetic

    spec = SIZES[size]
    # A changed generator makes new files instead of reusing what an older one wrote.
    code = hashlib.blake2b(Path(synthetic.__file__).read_bytes(), digest_size=4).hexdigest()
    folder = DATA_ROOT / f"{size}-seed{SEED}-{code}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder, json.loads(manifest.read_text())
    started = time.monotonic()
    summary = synthetic.generate(spec["entities"], spec["relations"], SEED, folder)
    summary["generate_seconds"] = round(time.monotonic() - started, 2)
    manifest.write_text(json.dumps(summary, indent=1))
    return folder, summary


@contextlib.contextmanager
def local_server_in(home: Path, port: str):
    """This process (and the `kb` processes it starts) pointed at a local Neo4j in home on Bolt port
    `port` (its HTTP port free too: the default one may be another server's), with the benchmark's
    server settings; the server is stopped and the environment put back afterwards."""
    saved = {name: os.environ.get(name) for name in ("KB_HOME", "KB_NEO4J_PORT", "KB_NEO4J_HTTP_PORT", "NEO4J_URI",
                                                      "NEO4J_PASSWORD", *SERVER_SETTINGS)}
    http = os.environ.get("KB_NEO4J_HTTP_PORT") or str(free_port(taken=(int(port),)))
    os.environ.update({"KB_HOME": str(home), "KB_NEO4J_PORT": port, "KB_NEO4J_HTTP_PORT": http, **SERVER_SETTINGS})
    os.environ.pop("NEO4J_URI", None)
    os.environ.pop("NEO4J_PASSWORD", None)
    db.close()
    try:
        yield home
    finally:
        db.close()
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def fresh_server():
    """An empty local Neo4j in a temporary home on a free port; stopped and deleted afterwards."""
    home = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    try:
        with local_server_in(home, str(free_port())):
            yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def holds(summary: dict) -> bool:
    """True when the running database holds exactly the generated graph's entities and relations."""
    try:
        found = db.read("MATCH (n) RETURN count(n) AS n, COUNT { ()-[]->() } AS r")[0]
    except Exception:
        return False
    return (found["n"], found["r"]) == (summary["entities"], summary["relations"])


@contextlib.contextmanager
def loaded_server(size: str, home: Path | None = None):
    """A running local server holding the size's generated graph; yields (folder, summary).

    With home, the database lives there and is reused by the next run when it still holds the graph
    (a 1M load takes minutes); the port is KB_NEO4J_PORT if set, else a free one. Without, a fresh
    server is loaded and deleted afterwards."""
    from kb import ddl
    from kb.ops import backup
    from loaders import csv as csv_loader
    from loaders import pipeline

    folder, summary = dataset(size)
    place = (local_server_in(home.resolve(), os.environ.get("KB_NEO4J_PORT") or str(free_port()))
             if home else fresh_server())
    with place as where:
        start_server()
        loaded = where / "bench-dataset"  # which files a reused home holds: equal counts do not say
        if not holds(summary) or not loaded.exists() or loaded.read_text() != folder.name:
            say(f"loading {folder} ...")
            backup.wipe()
            ddl.init()
            pipeline.load(csv_loader.reader([folder]), show_progress=False)
            loaded.write_text(folder.name)
        yield folder, summary


def start_server() -> None:
    server.start(echo=lambda message: None)


def timed(work, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - started, result


def percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    if len(ordered) == 1:
        return {"runs": 1, "p50_ms": round(ordered[0], 2), "p95_ms": round(ordered[0], 2)}
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"runs": len(ordered), "p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2),
            "max_ms": round(ordered[-1], 2)}


def machine() -> dict:
    """Cores, memory and versions, recorded with every result."""
    import neo4j

    memory_kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    import importlib.util

    # neo4j-rust-ext installs its codec as neo4j._rust; the driver uses it whenever it is present.
    rust = "yes" if importlib.util.find_spec("neo4j._rust") else "no"
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gb": round(memory_kb / 1024 ** 2, 1),
            "python": platform.python_version(), "neo4j_driver": neo4j.__version__, "neo4j_rust_ext": rust,
            "neo4j_server": "5.26.30 Community (embedded launcher)", "java": java[0] if java else "?",
            "server_settings": SERVER_SETTINGS}


def table(title: str, columns: list[str], rows: list[list]) -> str:
    """A plain-text table, also valid Markdown."""
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = [f"\n{title}", "| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells[1:]]
    return "\n".join(lines)


def save(name: str, size: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"size": size, "machine": machine(), **payload}, indent=1, ensure_ascii=False))
    return path


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_alone(name: str, run, report, figures: str) -> int:
    """A benchmark's own command line: load the size's graph with our loader, run, print, save.

    run(size, folder) -> payload; figures names the payload entry that must not be empty.
    """
    import argparse

    from loaders import csv as csv_loader
    from loaders import pipeline

    parser = argparse.ArgumentParser(description=f"The {name} benchmark on a loaded synthetic graph.")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    size = parser.parse_args().size
    folder, _ = dataset(size)
    with fresh_server():
        start_server()
        pipeline.load(csv_loader.reader([folder]), show_progress=False)
        payload = run(size, folder)
    print(report(payload))
    save(name, size, payload)
    return 0 if payload[figures] else 1
