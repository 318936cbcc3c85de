"""Load throughput on the same generated files, each path into an empty database of its own:
our loader incremental and bulk, a naive loader (one MERGE per transaction), LOAD CSV ... IN TRANSACTIONS, and
neo4j-admin database import (offline, the bound). Also our loader's peak RSS (memory.json).

Usage: python bench/load.py --size small|1m [--rounds N] [--paths PATH...]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb import db, ddl, types
from kb.ops import server, tools
from kb.schema import ENTITY_LABEL, schema
from loaders import csv as csv_loader
from loaders import pipeline

LOAD_CSV_BATCH = 10000
ARRAY = types.LIST_SEPARATOR
# Templates filled by str.format: {label}/{type} from the schema, {properties} a map of row columns.
LOAD_CSV_NODES = (
    "LOAD CSV WITH HEADERS FROM $url AS row CALL (row) {{ "
    "MERGE (n:" + ENTITY_LABEL + " {{id: row.`id:ID`}}) SET n:`{label}`, n += {{{properties}}} "
    # A stand-in for our search keys (lower-cased name and aliases): Cypher cannot transliterate
    # Chinese or fold umlauts, but the full-text index gets a comparable amount of text.
    "WITH n, [k IN [n.name] + coalesce(n.aliases, []) | toLower(k)] AS keys "
    "SET n.search_keys = keys, n.search_text = reduce(s = '', k IN keys | s + k + '\\n') "
    "}} IN TRANSACTIONS OF $batch ROWS"
)
LOAD_CSV_RELATIONSHIPS = (
    "LOAD CSV WITH HEADERS FROM $url AS row CALL (row) {{ "
    "MATCH (a:" + ENTITY_LABEL + " {{id: row.`:START_ID`}}) MATCH (b:" + ENTITY_LABEL + " {{id: row.`:END_ID`}}) "
    "MERGE (a)-[r:`{type}`{identity}]->(b) SET r += {{{properties}}} "
    "}} IN TRANSACTIONS OF $batch ROWS"
)


# --- LOAD CSV ----------------------------------------------------------------------------------
def _properties_map(file: csv_loader.CsvFile) -> str:
    entries = []
    for column in file.columns:
        if column.special:
            continue
        header = next(h for h in _header(file.path) if h.split(":")[0] == column.name)
        value = types.of(column.declared or "string").load_csv.format(f"row.`{header}`")
        entries.append(f"`{column.name}`: {value}")
    return ", ".join(entries)


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def _first_value(path: Path, header_name: str) -> str:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.DictReader(handle))[header_name]


def load_csv_statement(file: csv_loader.CsvFile) -> str:
    """The LOAD CSV statement for one file of one label or one relation type (names from the schema)."""
    if not file.relationships:
        label = schema().entity(_first_value(file.path, ":LABEL")).name
        return LOAD_CSV_NODES.format(label=label, properties=_properties_map(file))
    relation = schema().relation(_first_value(file.path, ":TYPE"))
    identity = f" {{`{relation.key}`: row.`{relation.key}`}}" if relation.key else ""
    return LOAD_CSV_RELATIONSHIPS.format(type=relation.name, identity=identity, properties=_properties_map(file))


def importable_url(path: Path) -> str:
    """A file's LOAD CSV URL: the server reads file URLs only inside its import folder, so the file is
    linked there (a hard link costs no time; copied when the import folder is on another file system)."""
    target = server.import_dir() / path.name
    target.unlink(missing_ok=True)
    try:
        os.link(path, target)
    except OSError:
        shutil.copyfile(path, target)
    return "file:///" + target.name


def run_load_csv(folder: Path) -> dict:
    ddl.init()
    for file in csv_loader.csv_files([folder]):
        db.autocommit(load_csv_statement(file), url=importable_url(file.path), batch=LOAD_CSV_BATCH,
                      delimiter=ARRAY)
    return {}


# --- naive -------------------------------------------------------------------------------------
def naive_sample(folder: Path, relations: int) -> Path:
    """A fixed sample: every k-th relation row, the entities they join, and every Source."""
    sample = folder.parent / f"{folder.name}-naive-sample-{relations}"
    if (sample / "done").exists():
        return sample
    sample.mkdir(exist_ok=True)
    files = csv_loader.csv_files([folder])
    total = sum(1 for f in files if f.relationships for _ in open(f.path, encoding="utf-8")) - \
        sum(1 for f in files if f.relationships)
    stride = max(1, total // relations)
    needed, seen = set(), 0
    for file in (f for f in files if f.relationships):
        with open(file.path, newline="", encoding="utf-8") as source, \
                open(sample / file.path.name, "w", newline="", encoding="utf-8") as target:
            rows, out = csv.reader(source), csv.writer(target, lineterminator="\n")
            out.writerow(next(rows))
            for row in rows:
                if seen % stride == 0:
                    out.writerow(row)
                    needed.update(row[:2])
                seen += 1
    for file in (f for f in files if not f.relationships):
        with open(file.path, newline="", encoding="utf-8") as source, \
                open(sample / file.path.name, "w", newline="", encoding="utf-8") as target:
            rows, out = csv.reader(source), csv.writer(target, lineterminator="\n")
            out.writerow(next(rows))
            out.writerows(row for row in rows if row[0] in needed or row[1] == "Source")
    (sample / "done").write_text("")
    return sample


def run_naive(folder: Path) -> dict:
    """The tutorial pattern: every record MERGEd in a transaction of its own (batch size 1)."""
    report = pipeline.load(csv_loader.reader([folder]), batch_size=1, show_progress=False)
    return {"entities": report.entities, "relations": report.relations}


# --- ours --------------------------------------------------------------------------------------
# The timing lines a bulk load prints (kb/ops/admin.py).
BULK_STEPS = re.compile(r"server stopped in ([\d.]+) s\.\n.*?neo4j-admin database import: ([\d.]+) s\.\n"
                        r".*?server started again in ([\d.]+) s", re.DOTALL)


def run_ours(folder: Path, mode: str = "incremental") -> dict:
    """Our loader in a child process (its peak RSS is then its own), in the given mode."""
    result = Path(os.environ["KB_HOME"]) / "ours.json"
    child = subprocess.run([sys.executable, "-m", "bench.ours_child", str(folder), str(result), mode],
                           cwd=harness.BENCH_DIR.parent, stderr=subprocess.PIPE, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"our loader ({mode}) failed:\n{child.stderr[-3000:]}")
    figures = json.loads(result.read_text())
    if mode == "bulk":
        figures.update(_bulk_steps(child.stderr))
    return figures


def _bulk_steps(stderr: str) -> dict:
    """A bulk load's steps as it timed them. Its wall time leaves out the server's stop and start,
    as the neo4j-admin path leaves out its server's start: neither is loading, and a start takes
    from 10 s to over a minute on this shared machine."""
    found = BULK_STEPS.search(stderr)
    if not found:
        raise RuntimeError("the bulk load printed no timing lines:\n" + stderr[-3000:])
    stop, imported, start = map(float, found.groups())
    return {"server_stop_seconds": stop, "import_seconds": imported, "server_start_seconds": start}


# --- neo4j-admin import ------------------------------------------------------------------------
def run_admin_import(folder: Path, home: Path) -> dict:
    """neo4j-admin database import full into the server's (stopped) store, then constraints and indexes."""
    files = csv_loader.csv_files([folder])
    arguments = [f"--nodes={ENTITY_LABEL}={f.path}" for f in files if not f.relationships]
    arguments += [f"--relationships={f.path}" for f in files if f.relationships]
    command = tools.command("neo4j-admin", ["database", "import", "full", "neo4j", "--overwrite-destination=true",
                                            f"--array-delimiter={ARRAY}", *arguments],
                            heap=harness.SERVER_SETTINGS["KB_NEO4J_HEAP"])
    environment = {**os.environ, **tools.admin_environment(home / "neo4j")}
    import_seconds, result = harness.timed(subprocess.run, command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("neo4j-admin import failed:\n" + (result.stdout + result.stderr)[-3000:])
    harness.start_server()
    index_seconds, _ = harness.timed(ddl.init)
    # The server's start-up is not part of loading; import plus index build is.
    return {"import_seconds": round(import_seconds, 2), "index_seconds": round(index_seconds, 2),
            "seconds": round(import_seconds + index_seconds, 2)}


# --- the benchmark -----------------------------------------------------------------------------
PATHS = ["naive", "load_csv", "admin_import", "bulk", "ours"]
DESCRIPTIONS = {
    "ours": "ours, incremental (validate all, then UNWIND batches)",
    "bulk": "ours, bulk (validate all, then neo4j-admin import)",
    "naive": "naive: one MERGE per transaction",
    "load_csv": "LOAD CSV ... CALL {} IN TRANSACTIONS",
    "admin_import": "neo4j-admin database import full (offline)",
}


def _graph_counts() -> tuple[int, int]:
    nodes = db.read("MATCH (n) RETURN count(n) AS c")[0]["c"]
    relations = db.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    return nodes, relations


def _measure(path: str, folder: Path, sample: Path | None, keep_server: bool):
    """Run one loading path into a fresh server; returns its figures (and leaves the server up if asked)."""
    source = sample if path == "naive" and sample else folder
    context = harness.fresh_server()
    home = context.__enter__()
    try:
        if path != "admin_import":
            harness.start_server()
        runner = {"ours": run_ours, "naive": run_naive, "load_csv": run_load_csv,
                  "admin_import": lambda f: run_admin_import(f, home), "bulk": lambda f: run_ours(f, "bulk")}[path]
        seconds, extra = harness.timed(runner, source)
        if path == "bulk":
            extra["wall_seconds"] = round(seconds, 2)
            seconds -= extra["server_stop_seconds"] + extra["server_start_seconds"]
        seconds = (extra or {}).get("seconds", seconds)
        nodes, relations = _graph_counts()
        figures = {"path": path, "what": DESCRIPTIONS[path], "sampled": source != folder,
                   **(extra or {}), "seconds": round(seconds, 2), "entities": nodes, "relations": relations,
                   "entities_per_s": round(nodes / seconds), "relations_per_s": round(relations / seconds),
                   "records_per_s": round((nodes + relations) / seconds)}
    except BaseException:
        context.__exit__(*sys.exc_info())
        raise
    if keep_server:
        return figures, context
    context.__exit__(None, None, None)
    return figures, None


# Paths measured again in each further round, alternately: this machine's speed drifts by tens of
# percent within minutes, so the comparison that matters most is made several times.
REPEATED = ["load_csv", "ours"]


def run(size: str, keep_server: bool = False, rounds: int = 1, paths: list[str] = PATHS):
    """The loading paths (all by default) on the size's files, then LOAD CSV and ours again in each
    further round; our loader last, its server kept up when asked."""
    folder, summary = harness.dataset(size)
    sample_size = harness.SIZES[size]["naive_sample"]
    sample = naive_sample(folder, sample_size) if sample_size else None
    paths = [path for path in PATHS if path in paths]
    runs, kept = {path: [] for path in paths}, None
    for round_index in range(rounds):
        last_round = round_index == rounds - 1
        for path in paths if round_index == 0 else [path for path in REPEATED if path in paths]:
            harness.say(f"load: {DESCRIPTIONS[path]} (round {round_index + 1} of {rounds}) ...")
            try:
                figures, context = _measure(path, folder, sample, keep_server and last_round and path == "ours")
                kept = context or kept
            except Exception as error:  # one path failing must not hide the others' figures
                harness.say(f"load: {path} failed: {error}")
                figures = {"path": path, "what": DESCRIPTIONS[path], "error": str(error)[-1500:]}
            runs[path].append(figures)
    results = {path: _median_run(found) for path, found in runs.items()}
    payload = {"dataset": {k: summary[k] for k in ("seed", "entities", "relations", "entity_counts",
                                                   "relation_counts")},
               "rounds": rounds, "paths": results, "ratios": ratios(results),
               "ours_vs_load_csv_by_round": _ratios_by_round(runs.get("ours", []), runs.get("load_csv", []))}
    return payload, kept


def _median_run(found: list[dict]) -> dict:
    """The run of median wall time (a failed run, if any), with every run's wall time."""
    failed = [r for r in found if "error" in r]
    if failed:
        return failed[0]
    ordered = sorted(found, key=lambda r: r["seconds"])
    median = dict(ordered[(len(ordered) - 1) // 2])
    if len(found) > 1:
        median["runs_seconds"] = [r["seconds"] for r in found]
    return median


def _ratios_by_round(ours: list[dict], load_csv: list[dict]) -> list[float]:
    """Ours to LOAD CSV in each round (same records, so the inverse ratio of wall times)."""
    return [round(other["seconds"] / mine["seconds"], 2) for mine, other in zip(ours, load_csv)
            if "error" not in mine and "error" not in other]


def ratios(results: dict) -> dict:
    ours = results.get("ours", {}).get("records_per_s")
    found = {}
    for path in ("naive", "load_csv", "admin_import"):
        other = results.get(path, {}).get("records_per_s")
        if ours and other:
            found[f"ours_vs_{path}"] = round(ours / other, 2)
    bulk, admin = results.get("bulk", {}), results.get("admin_import", {})
    if "seconds" in bulk and "seconds" in admin:
        # The target: bulk within 1.5x of neo4j-admin's own time (same records, so a ratio of times).
        found["bulk_time_vs_admin_import_time"] = round(bulk["seconds"] / admin["seconds"], 2)
        found["bulk_time_with_restart_vs_admin_import_time"] = round(bulk["wall_seconds"] / admin["seconds"], 2)
    return found


def report(payload: dict) -> str:
    rows = []
    for path in (path for path in PATHS if path in payload["paths"]):
        r = payload["paths"][path]
        if "error" in r:
            rows.append([r["what"], "failed", "", "", "", "", r["error"].splitlines()[-1][:80]])
            continue
        note = "rate measured on a fixed sample" if r.get("sampled") else ""
        if path == "admin_import":
            note = f"import {r['import_seconds']} s + constraints/indexes {r['index_seconds']} s; offline"
        if path == "bulk":
            note = (f"import {r['import_seconds']} s; server stop {r['server_stop_seconds']} s and start "
                    f"{r['server_start_seconds']} s left out (with them {r['wall_seconds']} s)")
        if path == "ours":
            note = f"peak RSS {r['peak_rss_mb']} MB; validation included"
        if "runs_seconds" in r:
            runs = f"median of {len(r['runs_seconds'])} runs: {', '.join(map(str, r['runs_seconds']))} s"
            note = "; ".join(filter(None, [runs, note]))
        rows.append([r["what"], r["entities"], r["relations"], r["seconds"], r["entities_per_s"],
                     r["relations_per_s"], note])
    text = harness.table(f"Load ({payload['dataset']['entities']} entities, {payload['dataset']['relations']} relations)",
                         ["path", "entities", "relations", "wall s", "entities/s", "relations/s", "note"], rows)
    ratio_text = ", ".join(f"{k} = {v}x" for k, v in payload["ratios"].items())
    text += f"\nratios of records/s: {ratio_text or 'n/a'}"
    if payload["rounds"] > 1:
        text += "\nours to LOAD CSV, round by round: " + ", ".join(
            f"{v}x" for v in payload["ours_vs_load_csv_by_round"])
    return text


def memory_payload(payload: dict) -> dict:
    ours = payload["paths"].get("ours", {})
    return {"peak_rss_mb": ours.get("peak_rss_mb"), "entities": ours.get("entities"), "relations": ours.get("relations")}


def memory_report(memory: dict) -> str:
    return harness.table("Memory", ["what", "peak RSS MB"],
                         [["our loader process (VmHWM), whole load", memory["peak_rss_mb"]]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(harness.SIZES), default="small")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure LOAD CSV and our loader this many times, alternately (median reported)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=PATHS, help="only these loading paths")
    args = parser.parse_args()
    payload, _ = run(args.size, rounds=args.rounds, paths=args.paths)
    print(report(payload))
    harness.save("load", args.size, payload)
    if "ours" in payload["paths"]:
        memory = memory_payload(payload)
        print(memory_report(memory))
        harness.save("memory", args.size, memory)
    return 0 if all("error" not in r for r in payload["paths"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
