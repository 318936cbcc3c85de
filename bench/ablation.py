"""Each mechanism of the incremental loader against its removal, in one run.

An incremental load: the size's generated files (1m: 200,000 entities, 1,000,000 relations) into
a database that already holds about half as many other entities (1m: 100,000, the same files'
first rows under other ids). Our loader with every mechanism, then with each one switched off in
turn, and LOAD CSV ... IN TRANSACTIONS on the same input and the same database state: one server,
loaded with the existing entities once, from which each run's records are deleted again. Rounds
run the variants interleaved, in alternating order, with our loader's every-mechanism baseline
first and last in each; the load average is recorded with every run.

A mechanism is switched off by replacing its part of the loader in the child process that runs
the load (SWITCHES below), so the product code carries no switch of the benchmark's.

With --mode bulk, each variant instead loads the same files into an empty server of its own in bulk
mode (loaders/bulk.py), for the mechanisms bulk mode shares (the validation worker, rare young
collections); with --mode dry-run, each only reads and checks them (`kb load --dry-run`). LOAD CSV
has no place in either.

Usage: python bench/ablation.py [--entities N --relations M] [--rounds N] [--variants ...] [--mode bulk|dry-run]
(default: the 1m size, incremental, every variant)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb import db
from kb.ops import server
from kb.schema import ENTITY_LABEL

# A mechanism earns its place when the load without it takes at least this much longer.
KEEP_FROM_GAIN = 0.10
EXISTING_PREFIX = "old-"


# --- switching a mechanism off (in the child process only) -------------------------------------
def _no_creating() -> None:
    """Every record MERGEd; the relation identities are not counted."""
    from loaders.new_records import NewRecords

    NewRecords.count_relation = lambda self, item: None
    NewRecords.know_entities = lambda self, input_types, stored_ids: None
    NewRecords.is_new = lambda self, item: False


def _no_rare_collections() -> None:
    """Python's default young garbage collections (every 700 allocations) for the whole load."""
    import contextlib

    from loaders import validation

    validation.rare_garbage_collection = contextlib.nullcontext


def _no_worker() -> None:
    """Every relation checked in the loading process, however large the input."""
    from loaders import validation

    validation.PARALLEL_FROM_BYTES = float("inf")


def _no_concurrent_creates() -> None:
    """Every relation batch written on the loading thread, one after the other."""
    from loaders import writer

    writer.BatchWriter._flush_relations = lambda self, batch: self._flush(
        writer.relation_statement(*batch), batch[0], self.relations.pop(batch, writer.Batch()))


SWITCHES = {
    "creating known-new records": _no_creating,
    "rare young collections": _no_rare_collections,
    "the validation worker": _no_worker,
    "concurrent new ties": _no_concurrent_creates,
}
# Measured and removed (docs/BENCHMARKS.md; their switches are in this file's history): statement
# planning ahead (preparation), commit 6f4f8bd; ends by element id, pipelined batches and batches made
# while one is sent (a sender thread), the commits that removed them from loaders/writer.py.
BASELINE = "all mechanisms"
VARIANTS = [BASELINE, *SWITCHES, "LOAD CSV"]


def child(variant: str, folder: str, mode: str = "incremental") -> None:
    """Our loader with one mechanism switched off (or none), on the running server."""
    if variant in SWITCHES:
        SWITCHES[variant]()
    from loaders import csv as csv_loader
    from loaders import pipeline

    dry_run = mode == "dry-run"
    report = pipeline.load(csv_loader.reader([folder]), show_progress=False, dry_run=dry_run,
                           mode="auto" if dry_run else mode)
    print(json.dumps({"checked_seconds": round(report.checked_seconds, 2)}))


# --- the database state before the load --------------------------------------------------------
def existing_entities(folder: Path, entities: int) -> tuple[Path, int]:
    """Files of about half as many other entities: every Source, then the first rows of each other
    type, their ids and cited sources prefixed so that none is an id of the input."""
    target = folder.parent / f"{folder.name}-existing"
    done = target / "count"
    if done.exists():
        return target, int(done.read_text())
    target.mkdir(exist_ok=True)
    files = sorted(folder.glob("nodes_*.csv"))
    sources = sum(1 for _ in open(folder / "nodes_Source.csv", encoding="utf-8")) - 1
    share = (entities // 2 - sources) / (entities - sources)
    written = 0
    for path in files:
        with open(path, newline="", encoding="utf-8") as source:
            rows = list(csv.reader(source))
        header, body = rows[0], rows[1:]
        keep = body if path.name == "nodes_Source.csv" else body[:round(len(body) * share)]
        cited = [i for i, name in enumerate(header) if name.startswith("sources")]
        with open(target / path.name, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            for row in keep:
                row[0] = EXISTING_PREFIX + row[0]
                for i in cited:
                    row[i] = ";".join(EXISTING_PREFIX + s for s in row[i].split(";") if s)
                writer.writerow(row)
        written += len(keep)
    done.write_text(str(written))
    return target, written


def _counts() -> tuple[int, int]:
    nodes = db.read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) AS c")[0]["c"]
    relations = db.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    return nodes, relations


def _settle(idle_share: float = 0.1, sample_seconds: float = 2.0, longest: float = 120.0) -> None:
    """Wait until the server uses less than idle_share of a core: the deletion leaves it merging
    its search index and flushing pages for a while, which would take the next run's second core."""
    pid, ticks = server.status().pid, os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + longest

    def cpu_seconds() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    while time.monotonic() < deadline:
        used = cpu_seconds()
        time.sleep(sample_seconds)
        if (cpu_seconds() - used) / sample_seconds < idle_share:
            return


def _child_run(variant: str, folder: Path, mode: str) -> dict:
    """Run child() in a process of its own; what it reports (the seconds it spent checking the input)."""
    done = subprocess.run([sys.executable, "-m", "bench.ablation", "--child", variant, str(folder), mode],
                          check=True, cwd=harness.BENCH_DIR.parent, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(variant: str, run) -> dict:
    """The variant's figures for one run: run() times (it returns what the run reports) and the load
    average before and after."""
    load_average = os.getloadavg()[0]
    seconds, reported = harness.timed(run)
    return {"variant": variant, "seconds": round(seconds, 2), **reported,
            "load_average_before": round(load_average, 2), "load_average_after": round(os.getloadavg()[0], 2)}


def _load_csv(folder: Path) -> dict:
    from bench import load as load_bench

    load_bench.run_load_csv(folder)
    return {"checked_seconds": None}


def measure(variant: str, folder: Path) -> dict:
    """One variant's incremental load into the running server, which holds the existing entities
    only; the load's records are deleted again afterwards."""
    before = _counts()
    figures = _timed(variant, (lambda: _load_csv(folder)) if variant == "LOAD CSV" else
                     (lambda: _child_run(variant, folder, "incremental")))
    after = _counts()
    # Relations first, in batches of their own: 5,000 entities detached at once can hold a hub's tens
    # of thousands of ties, more than the server's per-transaction memory limit allows.
    db.autocommit(f"MATCH (n:{ENTITY_LABEL})-[r]->() WHERE NOT n.id STARTS WITH $prefix "
                  "CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS", prefix=EXISTING_PREFIX)
    db.autocommit(f"MATCH (n:{ENTITY_LABEL}) WHERE NOT n.id STARTS WITH $prefix "
                  "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS", prefix=EXISTING_PREFIX)
    if _counts() != before:
        raise RuntimeError(f"the database did not return to its state before the {variant} run")
    _settle()
    return {**figures, "entities_added": after[0] - before[0], "relations_added": after[1] - before[1]}


def measure_bulk(variant: str, folder: Path, summary: dict) -> dict:
    """One variant's bulk load into an empty local server of its own; the time includes the server's
    stop and start around the import, the same in every variant."""
    with harness.fresh_server():
        harness.start_server()
        figures = _timed(variant, lambda: _child_run(variant, folder, "bulk"))
        if _counts() != (summary["entities"], summary["relations"]):
            raise RuntimeError(f"the {variant} bulk load did not load the input")
    return figures


def measure_dry_run(variant: str, folder: Path) -> dict:
    """One variant's dry run (`kb load --dry-run`: read and check only) against the running server."""
    return _timed(variant, lambda: _child_run(variant, folder, "dry-run"))


def dataset(entities: int, relations: int) -> tuple[Path, dict]:
    """The benchmark's generated files for a size (harness.dataset's when it is one of its sizes)."""
    for size, spec in harness.SIZES.items():
        if (spec["entities"], spec["relations"]) == (entities, relations):
            return harness.dataset(size)
    from bench import synthetic

    folder = harness.DATA_ROOT / f"{entities}-{relations}-seed{harness.SEED}"
    manifest = folder / "manifest.json"
    if not manifest.exists():
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(synthetic.generate(entities, relations, harness.SEED, folder)))
    return folder, json.loads(manifest.read_text())


def run(entities: int, relations: int, rounds: int, save, variants: list[str] = VARIANTS,
        mode: str = "incremental") -> dict:
    """Every variant in each round; save(payload) after every run, so that a run cut short keeps what
    it measured. Incremental: on one server holding the existing entities, after one uncounted load
    that warms the server (its JIT compiles most of the write path during the first). Bulk: each
    run into an empty server of its own. Dry run: every run against one empty server. LOAD CSV has
    a counterpart in the incremental mode only."""
    from loaders import csv as csv_loader
    from loaders import pipeline

    folder, summary = dataset(entities, relations)
    variants = [BASELINE, *(v for v in variants if v != BASELINE and (mode == "incremental" or v != "LOAD CSV"))]
    runs = {variant: [] for variant in variants}
    payload = {"input": {"entities": summary["entities"], "relations": summary["relations"]}, "mode": mode,
               "rounds": rounds, "keep_from_gain": KEEP_FROM_GAIN, "runs": runs}
    if mode == "bulk":
        payload["existing_entities"] = 0
        _rounds(variants, rounds, lambda variant: measure_bulk(variant, folder, summary), payload, save)
        return payload
    if mode == "dry-run":
        payload["existing_entities"] = 0
        with harness.fresh_server():
            harness.start_server()
            _rounds(variants, rounds, lambda variant: measure_dry_run(variant, folder), payload, save)
        return payload
    existing, payload["existing_entities"] = existing_entities(folder, summary["entities"])
    with harness.fresh_server():
        harness.start_server()
        pipeline.load(csv_loader.reader([existing]), show_progress=False)
        _settle()
        harness.say(f"ablation: warm-up: {measure(BASELINE, folder)['seconds']} s, not counted")
        _rounds(variants, rounds, lambda variant: measure(variant, folder), payload, save)
    return payload


def _rounds(variants: list[str], rounds: int, measure_one, payload: dict, save) -> None:
    runs = payload["runs"]
    for round_index in range(rounds):
        # Alternate the order, so that no variant always runs in the same part of a round; the
        # baseline runs first and last in each, as a round's first run finds the server coldest.
        order = variants if round_index % 2 == 0 else variants[::-1]
        order = [*order, BASELINE] if order[0] == BASELINE else [BASELINE, *order]
        for variant in order:
            harness.say(f"ablation: {variant} (round {round_index + 1} of {rounds}) ...")
            figures = measure_one(variant)
            harness.say(f"ablation: {variant}: {figures['seconds']} s (input checked in {figures['checked_seconds']} s), "
                        f"load average {figures['load_average_before']}")
            runs[variant].append({"round": round_index + 1, **figures})
            payload["mechanisms"] = mechanisms(runs)
            save(payload)


def mechanisms(runs: dict) -> list[dict]:
    """Per mechanism: median time with every mechanism, without this one, and the gain it brings."""
    def median(variant):
        return statistics.median(r["seconds"] for r in runs[variant]) if runs[variant] else float("nan")

    with_all = median(BASELINE)
    # A variant's run pairs with the mean of its round's baseline runs (a failed run leaves its round unpaired).
    by_round = {}
    for r in runs[BASELINE]:
        by_round.setdefault(r["round"], []).append(r["seconds"])
    base = {round_number: statistics.mean(seconds) for round_number, seconds in by_round.items()}
    table = []
    for name in (variant for variant in SWITCHES if variant in runs):
        without = median(name)
        gain = without / with_all - 1
        by_round = [round(r["seconds"] / base[r["round"]] - 1, 3) for r in runs[name] if r["round"] in base]
        table.append({"mechanism": name, "seconds_with": round(with_all, 2), "seconds_without": round(without, 2),
                      "gain": round(gain, 3), "gain_by_round": by_round,
                      "verdict": "kept" if gain >= KEEP_FROM_GAIN else "removed"})
    return table


def report(payload: dict) -> str:
    rows = [[m["mechanism"], m["seconds_with"], m["seconds_without"], f"{m['gain']:+.1%}",
             ", ".join(f"{g:+.1%}" for g in m["gain_by_round"]), m["verdict"]] for m in payload["mechanisms"]]
    text = harness.table(f"Mechanisms, {payload['mode']} ({payload['input']['entities']} entities, "
                         f"{payload['input']['relations']} relations into a database holding "
                         f"{payload['existing_entities']} others)",
                         ["mechanism", "with s", "without s", "gain", "by round", "verdict"], rows)
    if not payload["runs"].get("LOAD CSV") or not payload["runs"][BASELINE]:
        return text
    load_csv, ours = (statistics.median(r["seconds"] for r in payload["runs"][v]) for v in ("LOAD CSV", BASELINE))
    return text + f"\nLOAD CSV IN TRANSACTIONS: {load_csv:.1f} s (median); ours / LOAD CSV = {load_csv / ours:.2f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=harness.SIZES["1m"]["entities"])
    parser.add_argument("--relations", type=int, default=harness.SIZES["1m"]["relations"])
    parser.add_argument("--rounds", type=int, default=1, help="how many times each variant runs, interleaved")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS,
                        help="only these variants (our loader with every mechanism always runs)")
    parser.add_argument("--mode", choices=["incremental", "bulk", "dry-run"], default="incremental",
                        help="incremental: into a database holding existing entities; bulk: into an empty one; "
                             "dry-run: read and check only")
    parser.add_argument("--child", nargs="+", metavar="VARIANT FOLDER [MODE]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    size = f"{args.entities} entities, {args.relations} relations, {args.mode}"
    name = "ablation" if args.mode == "incremental" else f"ablation-{args.mode}"
    payload = run(args.entities, args.relations, args.rounds, lambda found: harness.save(name, size, found),
                  args.variants, args.mode)
    print(report(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
