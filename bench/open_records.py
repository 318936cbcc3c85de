"""Time and peak memory of `kb load document` on a long text and `kb load gleif` on a large
generated golden copy, each in a child process of its own (so its peak RSS is its own), on a fresh
server holding the seeds. Also the name matcher against a hand-written one on the same text.

    .venv/bin/python -m bench.open_records --lei-rows 1000000 --rr-rows 200000 --text-mb 2
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench import harness
from kb import config, ddl, keys
from loaders import pipeline, seed

FIXTURES = config.PROJECT_ROOT / "tests" / "data"
OTHER_COUNTRIES = ["US", "GB", "FR", "NL", "JP", "IT", "ES", "CH", "LU", "IN"]
CITIES = {"DE": ["Berlin", "HAMBURG", "München", "Hannover", "Augsburg", "Stuttgart"],
          "CN": ["Shanghai", "Beijing", "Foshan", "Shenzhen", "Taicang"], "OTHER": ["Springfield", "Metropolis"]}


def lei(number: int) -> str:
    """A LEI with valid check digits (ISO 7064 mod 97-10) made from a running number."""
    base = f"BNCH00{number:012d}"
    remainder = int("".join(str(int(ch, 36)) for ch in base + "00")) % 97
    return f"{base}{98 - remainder:02d}"


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def write_gleif(folder: Path, lei_rows: int, rr_rows: int, share_tied: float = 0.07) -> tuple[Path, Path]:
    """Level 1 and Level 2 files with the fixtures' (real) headers: share_tied of the firms in CN or DE."""
    rng = random.Random(harness.SEED)
    folder.mkdir(parents=True, exist_ok=True)
    level1, level2 = folder / "lei-records.csv", folder / "relationship-records.csv"
    if level1.exists() and level2.exists():
        return level1, level2       # generated before with the same sizes and seed
    header = _header(FIXTURES / "gleif" / "lei-records.csv")
    column = {name: index for index, name in enumerate(header)}
    with open(level1, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for number in range(lei_rows):
            country = rng.choice(["DE", "CN"]) if rng.random() < share_tied else rng.choice(OTHER_COUNTRIES)
            city = rng.choice(CITIES.get(country, CITIES["OTHER"]))
            row = [""] * len(header)
            for name, value in (("LEI", lei(number)), ("Entity.LegalName", f"Benchmark Firm {number} Ltd"),
                                ("Entity.LegalAddress.City", city), ("Entity.LegalAddress.Country", country),
                                ("Entity.HeadquartersAddress.City", city), ("Entity.HeadquartersAddress.Country", country),
                                ("Entity.EntityStatus", "ACTIVE"), ("Registration.RegistrationStatus", "ISSUED")):
                row[column[name]] = value
            writer.writerow(row)
    header = _header(FIXTURES / "gleif" / "relationship-records.csv")
    column = {name: index for index, name in enumerate(header)}
    kinds = ["IS_DIRECTLY_CONSOLIDATED_BY", "IS_ULTIMATELY_CONSOLIDATED_BY", "IS_INTERNATIONAL_BRANCH_OF"]
    with open(level2, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for _ in range(rr_rows):
            child, parent = rng.randrange(lei_rows), rng.randrange(lei_rows)
            row = [""] * len(header)
            for name, value in (("Relationship.StartNode.NodeID", lei(child)), ("Relationship.StartNode.NodeIDType", "LEI"),
                                ("Relationship.EndNode.NodeID", lei(parent)), ("Relationship.EndNode.NodeIDType", "LEI"),
                                ("Relationship.RelationshipType", rng.choice(kinds)),
                                ("Relationship.RelationshipStatus", "ACTIVE"),
                                ("Relationship.Period.1.startDate", f"{rng.randint(2000, 2024)}-01-01T00:00:00Z"),
                                ("Relationship.Period.1.periodType", "RELATIONSHIP_PERIOD")):
                row[column[name]] = value
            writer.writerow(row)
    return level1, level2


def write_text(folder: Path, megabytes: float) -> Path:
    """A long article: the English fixture's paragraphs again and again, front matter once."""
    article = (FIXTURES / "documents" / "foshan-alliance-2019.md").read_text(encoding="utf-8")
    front, body = article.split("---\n", 2)[1], article.split("---\n", 2)[2]
    repeats = max(1, int(megabytes * 1_000_000 / len(body.encode("utf-8"))))
    path = folder / "long-article.md"
    path.write_text(f"---\n{front}---\n" + body * repeats, encoding="utf-8")
    return path


def _child(kind: str, paths: list[str]) -> dict:
    """Run in a child process: one load (or, for KIND-read, the reader's records through the
    validator alone, nothing written), its time and this process's peak RSS."""
    from kb.schema import schema
    from loaders import document, gleif
    from loaders.records import Validator
    source, read_only = kind.removesuffix("-read"), kind.endswith("-read")
    reader = {"document": document.reader, "gleif": gleif.reader}[source]
    started = time.perf_counter()
    if read_only:
        records = reader(paths)
        counted = sum(1 for _ in records(Validator(schema())))
        figures = {"records": counted}
    else:
        report = pipeline.load(reader(paths), show_progress=False)
        figures = {"entities": report.entities, "relations": report.relations, "review_lines": len(report.review)}
    seconds = time.perf_counter() - started
    return {"kind": kind, "seconds": round(seconds, 2), "peak_rss_mb": _peak_rss_mb(), **figures}


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM): getrusage's ru_maxrss keeps the parent's peak across
    fork and exec, so a child would report the benchmark's own memory as well."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _measure(kind: str, paths: list[Path]) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.open_records", "--child", kind, *map(str, paths)],
                         check=True, capture_output=True, text=True, cwd=config.PROJECT_ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare_matchers(text: str, names: list[tuple]) -> dict:
    """Aho-Corasick (loaders/mentions.py) against a hand-written matcher: one regular expression
    of every folded name, longest first, over the same folded text."""
    from loaders import mentions
    started = time.perf_counter()
    found = mentions.Matcher(names).find(text)
    automaton = time.perf_counter() - started
    started = time.perf_counter()
    folded, _ = mentions.fold(text)
    variants = sorted({key for _, name, aliases in names for key in keys.keys_for(name, *(aliases or []))},
                      key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, variants)) + r")(?!\w)")
    hand = sum(1 for _ in pattern.finditer(folded))
    regex = time.perf_counter() - started
    return {"names": len(variants), "text_chars": len(text), "aho_corasick_s": round(automaton, 2),
            "regex_s": round(regex, 2), "aho_corasick_mentions": sum(m.count for m in found.values()),
            "regex_matches": hand}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lei-rows", type=int, default=1_000_000)
    parser.add_argument("--rr-rows", type=int, default=200_000)
    parser.add_argument("--text-mb", type=float, default=2.0)
    parser.add_argument("--share-tied", type=float, default=0.01, help="Share of firms with a CN or DE address.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1:])))
        return 0
    folder = harness.DATA_ROOT / f"open-records-{args.lei_rows}-{args.share_tied}"
    started = time.perf_counter()
    level1, level2 = write_gleif(folder, args.lei_rows, args.rr_rows, args.share_tied)
    text = write_text(folder, args.text_mb)
    figures = {"generate_s": round(time.perf_counter() - started, 1),
               "lei_file_mb": round(level1.stat().st_size / 1e6, 1), "rr_file_mb": round(level2.stat().st_size / 1e6, 1),
               "text_mb": round(text.stat().st_size / 1e6, 2)}
    with harness.fresh_server():
        harness.start_server()
        ddl.init()
        pipeline.load(seed.reader([config.PROJECT_ROOT / "seeds"]), show_progress=False)
        from kb import db
        from loaders.document import known_names_query
        names = [(r["id"], r["name"], r["aliases"]) for r in db.read(known_names_query())]
        figures["matchers"] = compare_matchers(text.read_text(encoding="utf-8"), names)
        figures["baseline"] = _measure("gleif-read", [FIXTURES / "gleif" / "lei-records.csv"])
        figures["document_read"] = _measure("document-read", [text])
        figures["document"] = _measure("document", [text])
        figures["gleif_read"] = _measure("gleif-read", [level1, level2])
        figures["gleif"] = _measure("gleif", [level1, level2])
    print(json.dumps(figures, indent=1))
    harness.save("open_records", f"{args.lei_rows}", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
