"""Interactive queries on a loaded graph: search (exact, prefix, typo), neighbourhood depth 1 and 2
with the node cap, shortest paths between random pairs, and every saved query. p50 and p95.

Usage: python bench/queries.py --size small|1m   (loads the size's files with our loader first)
"""
from __future__ import annotations

import csv
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb import cypher, queries, search
from kb.saved_queries import SAVED_QUERIES

RUNS = {"small": 20, "1m": 100}
# The saved queries' defaults name curated entities; on the synthetic graph the hubs stand in.
SYNTHETIC_PARAMETERS = {"organization": "org-0", "region": "reg-0", "city": "city-0"}
HUB_IDS = ["city-0", "co-0", "city-1", "co-1", "country-cn", "country-de"]


def sample_entities(folder: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """count (id, name) pairs drawn evenly from every node file (reservoir sampling, streamed)."""
    rng, chosen, seen = random.Random(seed), [], 0
    for path in sorted(folder.glob("nodes_*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            next(rows)
            for row in rows:
                seen += 1
                if len(chosen) < count:
                    chosen.append((row[0], row[2]))
                elif (slot := rng.randrange(seen)) < count:
                    chosen[slot] = (row[0], row[2])
    return chosen


def prefix_of(name: str) -> str:
    word = max(name.split(), key=len)
    return word[:max(3, min(5, len(word) - 1))]


def typo_of(name: str, rng: random.Random) -> str:
    """The name with two neighbouring letters of its longest word swapped (or one dropped)."""
    word = max(name.split(), key=len)
    if len(word) < 4:
        return name
    at = rng.randrange(1, len(word) - 2)
    wrong = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if wrong == word:
        wrong = word[:at] + word[at + 1:]
    return name.replace(word, wrong, 1)


def _time_each(work, arguments) -> list[float]:
    samples = []
    for args in arguments:
        started = time.perf_counter()
        work(*args)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _checked_search(text: str, expected_id: str | None, misses: list) -> None:
    hits = search.search(text)
    if expected_id and expected_id not in {h.id for h in hits}:
        misses.append(text)


def run(size: str, folder: Path) -> dict:
    runs = RUNS[size]
    rng = random.Random(harness.SEED)
    entities = sample_entities(folder, runs * 3, harness.SEED)
    named = entities[:runs]
    results, quality = {}, {}
    # Warm the driver and the query caches once, as an app that has been open a moment has.
    search.search("warm up")
    queries.neighbourhood(HUB_IDS[0], 1)

    for kind, make in (("exact", lambda name: name), ("prefix", prefix_of), ("typo", lambda n: typo_of(n, rng))):
        misses: list = []
        texts = [(make(name), entity_id if kind != "prefix" else None, misses) for entity_id, name in named]
        results[f"search ({kind})"] = harness.percentiles(_time_each(_checked_search, texts))
        quality[f"search ({kind})"] = f"{len(texts) - len(misses)}/{len(texts)} found the entity in the top 10" \
            if kind != "prefix" else "prefix: result count not checked"

    ids = [entity_id for entity_id, _ in entities]
    for depth in (1, 2):
        samples = _time_each(lambda i: queries.neighbourhood(i, depth), [(i,) for i in ids[:runs]])
        results[f"neighbourhood depth {depth} (random)"] = harness.percentiles(samples)
    hubs = [(HUB_IDS[k % len(HUB_IDS)],) for k in range(max(10, runs // 5))]
    results["neighbourhood depth 2 (hubs)"] = harness.percentiles(
        _time_each(lambda i: queries.neighbourhood(i, 2), hubs))

    pairs = [(ids[runs + k], ids[2 * runs + k]) for k in range(runs)]
    found: list = []
    results["shortest paths (random pairs)"] = harness.percentiles(
        _time_each(lambda a, b: found.append(bool(queries.shortest_paths(a, b))), pairs))
    quality["shortest paths (random pairs)"] = f"{sum(found)}/{len(found)} pairs connected within " \
                                               f"{queries.MAX_PATH_HOPS} hops"

    for saved in SAVED_QUERIES:
        params = {name: SYNTHETIC_PARAMETERS.get(name, default) for name, default in saved.params.items()}
        samples = _time_each(lambda: cypher.run_read_only(saved.cypher, params), [()] * runs)
        results[f"saved query {saved.name}"] = harness.percentiles(samples)
    return {"runs_each": runs, "node_cap": queries.config.setting("node_cap"), "timings": results,
            "quality": quality}


def report(payload: dict) -> str:
    rows = [[name, t["runs"], t["p50_ms"], t["p95_ms"], t.get("max_ms"), payload["quality"].get(name, "")]
            for name, t in payload["timings"].items()]
    return harness.table(f"Queries (node cap {payload['node_cap']})",
                         ["query", "runs", "p50 ms", "p95 ms", "max ms", "note"], rows)


def main() -> int:
    return harness.run_alone("queries", run, report, "timings")


if __name__ == "__main__":
    sys.exit(main())
