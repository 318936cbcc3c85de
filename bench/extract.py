"""`kb extract` measured: precision, recall and the year's accuracy on the test articles
(tests/data/articles, each beside a hand-made list of the facts it states), per language and over all,
and the speed on a ~2 MB article per language made by repeating the test articles with their years
and numbers varied. Writes bench/results/extract.json.

Usage: python bench/extract.py [--megabytes 2]
The names come from the seed files (what a database loaded with the seeds holds), so no server is
needed; `tests/test_extract.py` measures the same figures against the real database.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders import extract
from tests import articles

RESULTS = Path(__file__).parent / "results" / "extract.json"
TARGET_KB_PER_S = 200


def large_article(code: str, megabytes: float, folder: Path) -> Path:
    """An article of about that size in one language: the bodies of the language's test articles again
    and again, each copy with its years and percentages shifted, so that no two copies are alike."""
    bodies = []
    for path in articles.articles():
        article = extract.read(path)
        if article.meta.get("language") == code:
            bodies.append(article.body)
    text, copy = [], 0
    size = 0
    while size < megabytes * 1_000_000:
        copy += 1
        for body in bodies:
            varied = re.sub(r"(?<!\d)(19|20)(\d{2})(?!\d)", lambda m: str(1950 + (int(m.group(0)) + copy) % 75), body)
            varied = re.sub(r"(?<![\d.])(\d{1,2})(?= ?(%|percent|Prozent))", lambda m: str((int(m.group(1)) + copy) % 99 + 1),
                            varied)
            text.append(varied)
            size += len(varied.encode("utf-8"))
    path = folder / f"large-{code}.md"
    path.write_text(f"---\ntitle: Large {code} article\nlanguage: {code}\n---\n" + "\n\n".join(text), encoding="utf-8")
    return path


def speed(extractor: extract.Extractor, path: Path) -> dict:
    """Wall and CPU seconds of one extraction: on a machine shared with other work (its load average is
    recorded) the wall clock counts the waits for a core too; the CPU time is the work itself."""
    size = path.stat().st_size
    started, cpu = time.perf_counter(), time.process_time()
    _, _, candidates = extractor.article(path)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {"bytes": size, "seconds": round(seconds, 2), "kb_per_s": round(size / 1000 / seconds, 1),
            "cpu_seconds": round(cpu_seconds, 2), "kb_per_cpu_s": round(size / 1000 / cpu_seconds, 1),
            "candidates": len(candidates), "load_average": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=2.0, help="Size of each large article.")
    options = parser.parse_args()
    started = time.perf_counter()
    extractor = extract.Extractor(articles.seed_linker())
    linker_seconds = time.perf_counter() - started
    quality = {code: score.figures() for code, score in sorted(articles.scores(extractor).items())}
    speeds = {}
    with tempfile.TemporaryDirectory() as folder:
        for code in ("en", "de", "zh"):
            speeds[code] = speed(extractor, large_article(code, options.megabytes, Path(folder)))
    results = {"quality": quality, "speed": speeds, "linker_seconds": round(linker_seconds, 2),
               "target_kb_per_s": TARGET_KB_PER_S, "articles": [p.name for p in articles.articles()]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{'language':8} {'precision':>9} {'recall':>6} {'year':>5} {'found':>5} {'facts':>5}")
    for code, figures in quality.items():
        print(f"{code:8} {figures['precision']:9.3f} {figures['recall']:6.3f} {figures['year_right']:5.3f} "
              f"{figures['candidates']:5d} {figures['facts']:5d}")
    for code, figures in speeds.items():
        verdict = "ok" if figures["kb_per_s"] >= TARGET_KB_PER_S else f"below {TARGET_KB_PER_S} KB/s"
        print(f"speed {code}: {figures['bytes'] / 1e6:.1f} MB in {figures['seconds']:.1f} s = {figures['kb_per_s']:.0f} KB/s "
              f"wall ({verdict}), {figures['kb_per_cpu_s']:.0f} KB per CPU second; {figures['candidates']} candidates; "
              f"load average {figures['load_average']} on {os.cpu_count()} cores")
    print(f"names of the graph read in {linker_seconds:.2f} s; written {RESULTS}")


if __name__ == "__main__":
    main()
