"""Every `kb` command a user runs against a loaded graph, timed as the user meets it: the installed `kb`
executable in a process of its own (Python's start-up and imports included), pointed at the loaded
local server by the environment (KB_HOME, KB_NEO4J_PORT). p50, p95 and max per command; a run whose
exit code is not the expected one is reported with its message and not timed.

Quick commands get one untimed run first (it warms the server's page cache and the system's file
cache); export, backup and analyse, minutes each at 1M, do not.

Usage: python bench/cli.py --size small|1m [--runs N] [--slow-runs N] [--home DIR]
  --home keeps the loaded database in DIR and reuses it on the next run (a 1M load takes minutes).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.queries import HUB_IDS, SYNTHETIC_PARAMETERS, prefix_of, sample_entities, typo_of
from kb import db
from kb.errors import KBError
from kb.saved_queries import SAVED_QUERIES

# Runs per command: (quick commands, slow ones). Small stays within about a minute for CI.
RUNS = {"small": (2, 1), "1m": (20, 3)}
TIMEOUT_S = 3600
# The load and validate runs bring new firms with ids of this prefix; they are deleted afterwards,
# so the graph is left as found (and a reused --home still holds exactly the generated graph).
PREFIX = "clibench-"
FIRMS_PER_FILE = 10
DELETE_LOADED = "MATCH (n:Company) WHERE n.id STARTS WITH $prefix DETACH DELETE n"
COUNT_LOADED = "MATCH (n:Company) WHERE n.id STARTS WITH $prefix RETURN count(n) AS n"
# Ad-hoc reads, as a researcher would type them.
AD_HOC = {
    "query, ad hoc: a hub's ties by type":
        ("MATCH (:Entity {id: $id})-[r]-() RETURN type(r) AS tie, count(*) AS ties ORDER BY ties DESC",
         {"id": HUB_IDS[0]}),
    "query, ad hoc: cities with most head offices":
        ("MATCH (:Company)-[:HEADQUARTERED_IN]->(c:City) RETURN c.name AS city, count(*) AS firms "
         "ORDER BY firms DESC LIMIT 10", {}),
}
# A saved query that takes a year, timed with one as well: the hub city's ties in force that year.
YEAR_QUERY, YEAR = "city-ties", "2015"
# Each command of `kb` not timed, and why; a command neither timed nor here is reported as uncovered.
NOT_TIMED = {
    "kb demo": "starts the server, then serves the app until stopped: bench/app.py times the app's pages",
    "kb restore": "replaces the whole database; a dump's round trip is measured in the README's Backups section",
    "kb server start": "a start of the 1M server takes 35 to 114 s on this machine; each `kb backup` run "
                       "below includes a stop and a start",
    "kb server stop": "see kb server start",
    "kb story show": "checks the story's ids against the database: the shipped story names the seed graph's "
                     "entities, which the synthetic graph does not hold",
    "kb story export": "see kb story show",
    "kb load document|gleif|wikidata": "named sources, reconciled with the graph: bench/open_records.py",
    "kb shell (interactive)": "only a query given as an argument can be timed",
    "kb fetch wikidata": "asks the Wikidata Query Service, which no machine here reaches; bench/wikidata.py "
                         "times reading and loading its results",
    "kb extract": "reads articles, not the graph: bench/extract.py times it on a 2 MB article",
    "kb review list": "review items come from kb extract --queue on articles, not from the synthetic graph; "
                      "tests/test_review.py runs every review command",
    "kb review show": "see kb review list",
    "kb review accept": "see kb review list",
    "kb review reject": "see kb review list",
    "kb review export": "see kb review list",
    "kb fact add": "one tie by hand, through the same load path as kb review accept; tests/test_facts.py runs "
                   "every fact command",
    "kb fact retract": "see kb fact add",
    "kb fact retracted": "see kb fact add",
}


@dataclass
class Command:
    """One command to time: a command line per run (the first untimed when warm), what each run's
    output must hold (a miss is counted, not a failure) and the file or folder it writes (its size
    is recorded, then it is deleted)."""
    name: str
    argvs: list
    slow: bool = False
    expect_code: int = 0
    wanted: list = field(default_factory=list)
    outputs: list = field(default_factory=list)

    @property
    def warm(self) -> bool:
        return not self.slow


# --- what is timed ---------------------------------------------------------------------------------
def incremental_files(folder: Path, work: Path, count: int) -> list[Path]:
    """count folders, each a small CSV input of new firms, head offices in existing cities and owners
    among existing firms, shaped by the generated files' own first rows (so the headers are theirs)."""
    templates = {}
    for kind in ("nodes_Company", "relationships_HEADQUARTERED_IN", "relationships_OWNS"):
        with open(folder / f"{kind}.csv", newline="", encoding="utf-8") as handle:
            rows = csv.DictReader(handle)
            templates[kind] = (rows.fieldnames, next(rows))
    cities = _ids(folder / "nodes_City.csv", FIRMS_PER_FILE)
    owners = _ids(folder / "nodes_Company.csv", FIRMS_PER_FILE)
    made = []
    for k in range(count):
        place = work / f"incremental-{k}"
        place.mkdir()
        firms = [f"{PREFIX}{k}-{i}" for i in range(FIRMS_PER_FILE)]
        rows = {
            "nodes_Company": [{"id:ID": firm, "name": f"CLI Bench Firm {k} {i}", "aliases:string[]": ""}
                              for i, firm in enumerate(firms)],
            "relationships_HEADQUARTERED_IN": [{":START_ID": firm, ":END_ID": city}
                                               for firm, city in zip(firms, cities)],
            "relationships_OWNS": [{":START_ID": owner, ":END_ID": firm} for firm, owner in zip(firms, owners)],
        }
        for kind, changes in rows.items():
            columns, template = templates[kind]
            with open(place / f"{kind}.csv", "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, columns)
                writer.writeheader()
                writer.writerows({**template, **change} for change in changes)
        made.append(place)
    return made


def _ids(path: Path, count: int) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows)
        return [row[0] for row, _ in zip(rows, range(count))]


def commands(folder: Path, work: Path, quick: int, slow: int) -> list[Command]:
    """Every command timed, in the order run: reads first, then the slow ones, the load last (it writes)."""
    kb = str(Path(sys.executable).with_name("kb"))
    each = quick + 1    # the untimed first run
    rng = random.Random(harness.SEED)
    named = sample_entities(folder, each, harness.SEED)
    found = [
        Command("kb --help (start-up, no database)", [[kb, "--help"]] * each),
        Command("server status", [[kb, "server", "status"]] * each),
        Command("init (again)", [[kb, "init"]] * each),
        Command("search, exact name", [[kb, "search", name] for _, name in named], wanted=[i for i, _ in named]),
        Command("search, prefix", [[kb, "search", prefix_of(name)] for _, name in named]),
        Command("search, one typo", [[kb, "search", typo_of(name, rng)] for _, name in named],
                wanted=[i for i, _ in named]),
    ]
    for saved in SAVED_QUERIES:
        found.append(Command(f"query, saved: {saved.name}",
                             [[kb, "query", saved.name, *_params(_synthetic(saved.params))]] * each))
    found.append(Command(f"query, saved: {YEAR_QUERY} --year {YEAR}",
                         [[kb, "query", YEAR_QUERY, "--year", YEAR, *_params(_synthetic({"city": None}))]] * each))
    for name, (cypher, params) in AD_HOC.items():
        found.append(Command(name, [[kb, "query", cypher, *_params(params)]] * each))
    found.append(Command("story list", [[kb, "story", "list"]] * each))
    incremental = incremental_files(folder, work, each)
    found += [
        Command("stats", [[kb, "stats"]] * each),
        Command("shell, one query", [[kb, "shell", "--", "--format", "plain",
                                      "MATCH (n:Entity) RETURN count(n) AS entities"]] * each),
        Command(f"validate, {FIRMS_PER_FILE} firms and {2 * FIRMS_PER_FILE} ties",
                [[kb, "validate", incremental[0]]] * each),
        Command("analyse (defaults: betweenness)", [[kb, "analyse"]] * slow, slow=True),
    ]
    for fmt, name in (("jsonl", "graph.jsonl"), ("graphml", "graph.graphml"), ("csv", "csv")):
        outputs = [work / f"export-{k}-{name}" for k in range(slow)]
        found.append(Command(f"export --format {fmt}", [[kb, "export", "--format", fmt, "--out", out]
                                                       for out in outputs], slow=True, outputs=outputs))
    backups = [work / f"backup-{k}.tar" for k in range(slow)]
    found.append(Command("backup (local server: stop, dump, start)", [[kb, "backup", out] for out in backups],
                         slow=True, outputs=backups))
    found.append(Command(f"load, {FIRMS_PER_FILE} new firms and {2 * FIRMS_PER_FILE} ties",
                         [[kb, "load", place] for place in incremental]))
    return found


def _params(values: dict) -> list[str]:
    """--param options for kb query, each value as a user types it (text as it is, anything else as JSON)."""
    return [word for name, value in values.items()
            for word in ("--param", f"{name}={value if isinstance(value, str) else json.dumps(value)}")]


def _synthetic(params: dict) -> dict:
    """A saved query's parameters that name curated entities, absent from the synthetic graph, given
    the synthetic hubs instead; its other parameters keep their defaults."""
    return {name: SYNTHETIC_PARAMETERS[name] for name in params if name in SYNTHETIC_PARAMETERS}


# --- timing ----------------------------------------------------------------------------------------
def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def time_command(command: Command, work: Path) -> dict:
    """Run each of the command's lines; milliseconds of the runs that exited as expected."""
    timed, cpu, failures, sizes, misses = [], [], [], [], 0
    load_before = os.getloadavg()[0]
    for k, argv in enumerate(command.argvs):
        # The child's own CPU seconds (user + system), which a busy machine inflates far less than the wall clock.
        cpu_before = _children_cpu()
        started = time.perf_counter()
        try:
            done = subprocess.run([str(a) for a in argv], cwd=work, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            failures.append(f"no answer within {TIMEOUT_S} s")
            continue
        took = (time.perf_counter() - started) * 1000
        took_cpu = (_children_cpu() - cpu_before) * 1000
        # A backup restarts the server: this process's pooled connections are stale.
        db.close()
        if done.returncode != command.expect_code:
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()
            failures.append(f"exit code {done.returncode}: {said[-1] if said else '(nothing said)'}")
            _restart_if_down(failures)
            continue
        if command.outputs:
            sizes.append(size_of(command.outputs[k]))
            remove(command.outputs[k])
        if command.warm and k == 0:
            continue
        timed.append(took)
        cpu.append(took_cpu)
        if command.wanted and command.wanted[k] not in done.stdout:
            misses += 1
    result = {"argv": _shown(command.argvs[-1], work), "timed": harness.percentiles(timed) if timed else None,
              "cpu": harness.percentiles(cpu) if cpu else None,
              "failed": len(failures), "failures": failures[:3],
              "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    if sizes:
        result["size_mb"] = round(max(sizes) / 1e6, 1)
    if command.wanted:
        result["misses"] = misses
    return result


def _restart_if_down(failures: list) -> None:
    """After a failed run (a backup whose restart failed, say), the server for the next commands."""
    try:
        harness.start_server()      # a no-op when it runs
    except KBError as error:
        failures.append(f"server not started again: {str(error).splitlines()[0]}")


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _shown(argv: list, work: Path) -> str:
    """The command line as a user would type it: `kb`, not the venv's path; the work folder as <tmp>."""
    words = ["kb"] + [str(a).replace(str(work), "<tmp>") for a in argv[1:]]
    return " ".join(json.dumps(w, ensure_ascii=False) if (" " in w or not w) else w for w in words)


def patient_start() -> None:
    """Server starts may take minutes (at 1M, on a busy machine): those of this process and of the `kb
    backup` runs wait up to 10 minutes, unless KB_NEO4J_STARTUP_TIMEOUT says otherwise."""
    os.environ.setdefault("KB_NEO4J_STARTUP_TIMEOUT", "600")


def run(size: str, folder: Path, runs: int | None = None, slow_runs: int | None = None) -> dict:
    """Time every command against the database this process is set up for (loaded with folder's graph)."""
    quick, slow = RUNS[size]
    quick, slow = runs or quick, slow_runs or slow
    patient_start()
    started, load = time.monotonic(), os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="kb-cli-bench-"))
    results = {}
    try:
        db.autocommit(DELETE_LOADED, prefix=PREFIX)     # what an interrupted earlier run left
        plan = commands(folder, work, quick, slow)
        for command in plan:
            results[command.name] = time_command(command, work)
            harness.say(f"{command.name}: {results[command.name]}")
        loaded = db.read(COUNT_LOADED, prefix=PREFIX)[0]["n"]
        db.autocommit(DELETE_LOADED, prefix=PREFIX)
    finally:
        db.close()
        shutil.rmtree(work, ignore_errors=True)
    return {"runs_quick": quick, "runs_slow": slow, "seconds": round(time.monotonic() - started),
            "load_average": [round(load[0], 2), round(os.getloadavg()[0], 2)],
            "firms_loaded": {"found": loaded, "expected": (quick + 1) * FIRMS_PER_FILE},
            "commands": results, "not_timed": NOT_TIMED, "uncovered": uncovered(plan)}


def uncovered(plan: list[Command]) -> list[str]:
    """The commands of `kb` that are neither timed nor named in NOT_TIMED (a new command shows up here)."""
    import click

    from kb.cli import main as kb_main

    known = [f"kb {name} {sub}" if isinstance(group, click.Group) else f"kb {name}"
             for name, group in kb_main.commands.items()
             for sub in (group.commands if isinstance(group, click.Group) else [None])]
    timed = {" ".join(["kb", *map(str, c.argvs[0][1:3])]) for c in plan}
    timed |= {" ".join(["kb", str(c.argvs[0][1])]) for c in plan}
    return [name for name in known if name not in timed and name not in NOT_TIMED]


def complete(payload: dict) -> bool:
    """Every command timed or explained, no run failed, and the load wrote what its files hold."""
    return (all(r["timed"] and not r["failed"] for r in payload["commands"].values())
            and payload["firms_loaded"]["found"] == payload["firms_loaded"]["expected"] and not payload["uncovered"])


def report(payload: dict) -> str:
    rows = []
    for name, r in payload["commands"].items():
        timed, cpu = r["timed"] or {}, r["cpu"] or {}
        note = []
        if "size_mb" in r:
            note.append(f"{r['size_mb']} MB")
        if "misses" in r:
            note.append(f"expected id missing {r['misses']}x")
        if r["failures"]:
            note.append(r["failures"][0][:80])
        rows.append([name, timed.get("runs", 0), r["failed"], timed.get("p50_ms"), timed.get("p95_ms"),
                     timed.get("max_ms"), cpu.get("p50_ms"), "; ".join(note),
                     "{} to {}".format(*r["load_average"])])
    loaded = payload["firms_loaded"]
    lines = [harness.table("`kb` commands, each a process of its own (start-up included)",
                           ["command", "runs", "failed", "p50 ms", "p95 ms", "max ms", "kb's CPU p50 ms", "note",
                            "load avg"], rows),
             f"\nfirms the load runs wrote: {loaded['found']} of {loaded['expected']} (deleted afterwards)",
             "\nNot timed:"]
    lines += [f"- {name}: {why}" for name, why in payload["not_timed"].items()]
    if payload["uncovered"]:
        lines.append("Neither timed nor explained: " + ", ".join(payload["uncovered"]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(harness.SIZES), default="small")
    parser.add_argument("--runs", type=int, help="timed runs of each quick command (default: 2 small, 20 1m)")
    parser.add_argument("--slow-runs", type=int, help="timed runs of export, backup, analyse (default: 1 small, 3 1m)")
    parser.add_argument("--home", type=Path, help="keep the loaded database here and reuse it next time")
    args = parser.parse_args()
    patient_start()
    with harness.loaded_server(args.size, args.home) as (folder, _):
        payload = run(args.size, folder, args.runs, args.slow_runs)
    print(report(payload))
    harness.save("cli", args.size, payload)
    return 0 if complete(payload) else 1


if __name__ == "__main__":
    sys.exit(main())
