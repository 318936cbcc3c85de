"""Rendering: the pyvis HTML of kb.render.graph for subgraphs of 150, 500 and 2,000 nodes.

The subgraphs are hub neighbourhoods of the loaded graph, cut at the node count; only building
the HTML is timed. Usage: python bench/render.py --size small|1m
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from kb import queries
from kb.render import graph

NODE_COUNTS = (150, 500, 2000)
RUNS = {"small": 5, "1m": 20}
HUB = "city-0"


def run(size: str, folder: Path) -> dict:
    """Build the HTML of ever larger neighbourhoods of a hub (folder is unused: every benchmark's
    run takes the size and the files, and this one needs only the loaded graph)."""
    results = {}
    for count in NODE_COUNTS:
        subgraph = queries.neighbourhood(HUB, 3, node_cap=count)
        graph.to_html(subgraph)  # the first build imports pyvis's templates
        samples = []
        for _ in range(RUNS[size]):
            started = time.perf_counter()
            html = graph.to_html(subgraph)
            samples.append((time.perf_counter() - started) * 1000)
        results[str(count)] = {"nodes": len(subgraph.nodes), "edges": len(subgraph.edges),
                               "html_kb": round(len(html) / 1024), **harness.percentiles(samples)}
    return {"hub": HUB, "renders": results}


def report(payload: dict) -> str:
    rows = [[asked, r["nodes"], r["edges"], r["html_kb"], r["runs"], r["p50_ms"], r["p95_ms"]]
            for asked, r in payload["renders"].items()]
    return harness.table("Rendering (kb.render.graph.to_html)",
                         ["nodes asked", "nodes", "edges", "HTML KB", "runs", "p50 ms", "p95 ms"], rows)


def main() -> int:
    return harness.run_alone("render", run, report, "renders")


if __name__ == "__main__":
    sys.exit(main())
