"""Wikidata results files of any size in bounded memory: time and peak RSS of reading and validating
(a dry run) sister-city results files of 100k and 1M bindings, and of a real load at 100k.

Usage: python -m bench.wikidata [--sizes 100000,1000000] [--load-at 100000] [--old]

Files are generated in a temporary folder, shaped as the Wikidata Query Service answers
loaders/wikidata/sister-cities.rq (every label in three languages, typed dates with their
precision; about 1.1 KB a binding): N distinct ties between N/20 Chinese and N/20 German cities.
Each measurement runs in a child process of its own, so its peak RSS (VmHWM) is its own, against
a fresh local server. --old also measures the reader this replaced (the file parsed whole), read
from git, at the smallest size. Prints a table and writes bench/results/wikidata.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness

QUERY = "sister-cities"
RETRIEVED = "2026-12-06"
OLD_COMMIT = "a8db35a"          # the last commit whose loaders/wikidata.py parsed a file whole


def _label(value: str, lang: str) -> dict:
    return {"xml:lang": lang, "type": "literal", "value": value}


def _date(year: int, month: int, precision: int) -> tuple[dict, dict]:
    return ({"datatype": "http://www.w3.org/2001/XMLSchema#dateTime", "type": "literal",
             "value": f"+{year}-{month:02d}-01T00:00:00Z"},
            {"datatype": "http://www.w3.org/2001/XMLSchema#integer", "type": "literal", "value": str(precision)})


def generate(bindings: int, path: Path) -> dict:
    """A results file of `bindings` distinct ties, written a binding at a time."""
    cities = max(100, bindings // 20)
    variables = ["cn", "cn_country", "cn_en", "cn_de", "cn_zh", "de", "de_country", "de_en", "de_de", "de_zh",
                 "start", "start_precision", "end", "end_precision"]
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "head": {\n  "vars": ' + json.dumps(variables) + '\n },\n "results": {\n  "bindings": [\n')
        for number in range(bindings):
            # Distinct pairs: the k-th tie of a Chinese city goes to a different German city for k < 20.
            cn, k = number % cities, number // cities
            de = (k + 7 * cn) % cities
            binding = {
                "cn": {"type": "uri", "value": f"http://www.wikidata.org/entity/Q{1_000_000 + cn}"},
                "cn_country": {"type": "literal", "value": "CN"},
                "cn_en": _label(f"Chinese City {cn}", "en"), "cn_de": _label(f"Chinesische Stadt {cn}", "de"),
                "cn_zh": _label(f"中国城市{cn}号", "zh"),
                "de": {"type": "uri", "value": f"http://www.wikidata.org/entity/Q{5_000_000 + de}"},
                "de_country": {"type": "literal", "value": "DE"},
                "de_en": _label(f"German Town {de}", "en"), "de_de": _label(f"Deutsche Stadt {de}", "de"),
                "de_zh": _label(f"德国城市{de}号", "zh"),
            }
            binding["start"], binding["start_precision"] = _date(1980 + number % 40, 1 + number % 12, 9 + number % 3)
            if number % 5 == 0:
                binding["end"], binding["end_precision"] = _date(2021 + number % 4, 1 + number % 12, 11)
            text = json.dumps(binding, indent=1, ensure_ascii=False)
            out.write(("" if number == 0 else ",\n") + text)
        out.write("\n  ]\n }\n}\n")
    return {"bindings": bindings, "cities": 2 * cities, "mb": round(path.stat().st_size / 1e6, 1)}


def child(mode: str, path: str, result: str) -> None:
    """One measurement in this process: dry (read and validate), load (a real, incremental load), or
    old-dry (the reader that parsed the file whole, from git)."""
    from bench.ours_child import peak_rss_mb
    from loaders import pipeline

    started = time.monotonic()
    if mode == "old-dry":
        import importlib.util
        spec = importlib.util.spec_from_file_location("old_wikidata", os.environ["KB_BENCH_OLD_READER"])
        module = importlib.util.module_from_spec(spec)
        sys.modules["old_wikidata"] = module        # its dataclasses look themselves up there
        spec.loader.exec_module(module)
        reader = module.reader
    else:
        from loaders.wikidata import reader
    report = pipeline.load(reader([path], query=QUERY, retrieved=RETRIEVED), dry_run=mode != "load",
                           show_progress=False)
    Path(result).write_text(json.dumps({
        "entities": report.entities, "relations": report.relations, "written": sum(report.written.values()),
        "seconds": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak_rss_mb(), 1)}))


def measure(mode: str, path: Path, folder: Path) -> dict:
    result = folder / f"{mode}-{path.stem}.json"
    load_before = os.getloadavg()[0]
    run = subprocess.run([sys.executable, "-m", "bench.wikidata", "--child", mode, str(path), str(result)],
                         cwd=harness.BENCH_DIR.parent, stderr=subprocess.PIPE, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{mode} of {path} failed:\n{run.stderr[-3000:]}")
    figures = json.loads(result.read_text())
    figures["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return figures


def _old_reader(folder: Path) -> Path:
    path = folder / "old_wikidata.py"
    shown = subprocess.run(["git", "show", f"{OLD_COMMIT}:loaders/wikidata.py"], cwd=harness.BENCH_DIR.parent,
                           capture_output=True, text=True, check=True)
    # It finds its queries beside itself: point it at the shipped ones.
    path.write_text(shown.stdout.replace('QUERIES = Path(__file__).with_name("wikidata")',
                                         f"QUERIES = Path({str(harness.BENCH_DIR.parent / 'loaders' / 'wikidata')!r})"))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="Binding counts, comma-separated.")
    parser.add_argument("--load-at", type=int, default=100_000, help="Also load this size for real (0: none).")
    parser.add_argument("--old", action="store_true", help="Also measure the old reader at the smallest size.")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(*options.child)
        return 0
    from kb import ddl
    from kb.ops import backup

    sizes = [int(size) for size in options.sizes.split(",")]
    rows, payload = [], {"query": QUERY, "runs": []}
    with tempfile.TemporaryDirectory(prefix="kb-bench-wikidata-") as temp, harness.fresh_server():
        folder = Path(temp)
        if options.old:
            os.environ["KB_BENCH_OLD_READER"] = str(_old_reader(folder))
        harness.start_server()
        ddl.init()
        for size in sizes:
            path = folder / f"sister-cities-{size}.json"
            started = time.monotonic()
            shape = generate(size, path)
            harness.say(f"{size} bindings: {shape['mb']} MB generated in {time.monotonic() - started:.0f} s")
            modes = ["dry"] + (["old-dry"] if options.old and size == min(sizes) else []) + \
                    (["load"] if size == options.load_at else [])
            for mode in modes:
                if mode == "load":
                    backup.wipe()
                    ddl.init()
                figures = {"bindings": size, "file_mb": shape["mb"], "cities": shape["cities"], "mode": mode,
                           **measure(mode, path, folder)}
                harness.say(json.dumps(figures))
                payload["runs"].append(figures)
                rows.append([size, shape["mb"], mode, figures["entities"], figures["relations"], figures["seconds"],
                             figures["peak_rss_mb"], "→".join(map(str, figures["load_average"]))])
            path.unlink()
    print(harness.table("Wikidata results files: read and validate (dry), or load (incremental), "
                        "each in a process of its own",
                        ["bindings", "file MB", "run", "entities", "relations", "seconds", "peak RSS MB",
                         "load average"], rows))
    print(f"\nSaved to {harness.save('wikidata', options.sizes, payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
