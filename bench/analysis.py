"""Structure analysis on the generated graph: first the two candidate libraries on its edge list read
from the generated files (igraph and rustworkx: building the graph, communities, k-core, betweenness),
then kb.analysis on the loaded graph (projection read from Neo4j, communities, sampled betweenness and
brokerage, degree, k-core, the cache).

Usage: python bench/analysis.py --size small|1m [--home KB_HOME --port PORT]
With --home and --port it reads a database already loaded with the size's files (read only);
otherwise it loads them into a fresh server of its own, as the other benchmarks do.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import igraph
import rustworkx

from bench import harness
from kb import analysis, db
from loaders import csv as csv_loader
from loaders import pipeline

SAMPLE = 100
SEED = 1
YEAR = 2016
# rustworkx computes betweenness exactly only (one search per entity, on both cores): timed on a
# subgraph of this many entities, as is igraph's exact betweenness beside it.
EXACT_SUBGRAPH = 2000


def clocked(work, *args, **kwargs) -> tuple[dict, object]:
    """Wall seconds and this process's CPU seconds (all its threads) of one call; on a machine shared
    with other work the CPU figure moves less than the wall figure."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work(*args, **kwargs)
    return {"s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}, result


def edge_list(folder: Path) -> tuple[int, list]:
    """The generated ties as (int, int) pairs of distinct entities, once per pair, and the entity count."""
    index, pairs = {}, set()
    for path in sorted(folder.glob("relationships_*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            next(rows)
            for row in rows:
                a, b = index.setdefault(row[0], len(index)), index.setdefault(row[1], len(index))
                if a != b:
                    pairs.add((a, b) if a < b else (b, a))
    return len(index), sorted(pairs)


def libraries(folder: Path) -> dict:
    """Each candidate library on the same edge list: time per step, and what it cannot do."""
    count, pairs = edge_list(folder)
    found = {"entities": count, "tied_pairs": len(pairs), "igraph": {}, "rustworkx": {}}
    ig, rx = found["igraph"], found["rustworkx"]
    ig["build"], graph = clocked(igraph.Graph, n=count, edges=pairs, directed=False)

    def leiden():
        igraph.set_random_number_generator(random.Random(SEED))
        try:
            return graph.community_leiden(objective_function="modularity", n_iterations=analysis.LEIDEN_ITERATIONS)
        finally:
            igraph.set_random_number_generator(random)
    ig["leiden"], communities = clocked(leiden)
    ig["leiden"]["modularity"] = round(graph.modularity(communities.membership), 4)
    ig["louvain"], communities = clocked(graph.community_multilevel)
    ig["louvain"]["modularity"] = round(graph.modularity(communities.membership), 4)
    ig["kcore"], _ = clocked(graph.coreness)
    sources = random.Random(SEED).sample(range(count), SAMPLE)
    ig["betweenness_sampled"], _ = clocked(graph.betweenness, directed=False, sources=sources)

    rx["build"], other = clocked(as_rustworkx, count, pairs)
    rx["kcore"], _ = clocked(rustworkx.core_number, other)
    rx["leiden"] = rx["louvain"] = "none in rustworkx"
    rx["betweenness_sampled"] = "none in rustworkx (exact only)"
    # Exact betweenness of both on the same induced subgraph of the first entities.
    small = graph.induced_subgraph(range(min(EXACT_SUBGRAPH, count)))
    found["exact_subgraph"] = {"entities": small.vcount(), "tied_pairs": small.ecount()}
    ig["betweenness_exact_subgraph"], _ = clocked(small.betweenness, directed=False)
    rx["betweenness_exact_subgraph"], _ = clocked(rustworkx.betweenness_centrality,
                                                   as_rustworkx(small.vcount(), small.get_edgelist()))
    return found


def as_rustworkx(count: int, pairs: list):
    built = rustworkx.PyGraph(multigraph=False)
    built.add_nodes_from(range(count))
    built.add_edges_from_no_data(pairs)
    return built


def knowledge_base() -> dict:
    """kb.analysis on the loaded graph, cold (cache cleared), then the cached call."""
    analysis.clear_cache()
    found = {}
    found["graph_version"], _ = clocked(db.graph_version)
    found["projection"], projection = clocked(analysis.project)
    found["projection"].update(entities=len(projection.ids), tied_pairs=projection.graph.ecount(),
                               ties=projection.ties)
    for measure, options in MEASURE_STEPS:
        found[measure], result = clocked(analysis.scores, measure, **options)
        found[measure].update(algorithm=result.algorithm, top=analysis.table(result, 5))
    found["projection_and_communities_s"] = round(found["projection"]["s"] + found["communities"]["s"], 2)
    found["cached_call"], _ = clocked(analysis.scores, "communities")
    found["projection_year"], dated = clocked(analysis.project, analysis.Filters(year=YEAR))
    found["projection_year"].update(year=YEAR, entities=len(dated.ids), ties=dated.ties)
    return found


MEASURE_STEPS = (("communities", {}), ("betweenness", {"sample": SAMPLE}), ("brokerage", {"sample": SAMPLE}),
                 ("degree", {}), ("kcore", {}))


def run(size: str, folder: Path) -> dict:
    load_average = os.getloadavg()[0]
    harness.say("analysis: the libraries on the generated edge list ...")
    payload = {"libraries": libraries(folder)}
    harness.save("analysis", size, payload)     # kept if the database part fails
    harness.say("analysis: kb.analysis on the loaded graph ...")
    payload["kb"] = knowledge_base()
    payload["load_average"] = {"start": round(load_average, 1), "end": round(os.getloadavg()[0], 1)}
    return payload


def _cell(step) -> str:
    return step if isinstance(step, str) else f"{step['s']} ({step['cpu_s']} CPU)"


def report(payload: dict) -> str:
    libs, kb = payload["libraries"], payload["kb"]
    ig, rx = libs["igraph"], libs["rustworkx"]
    steps = [("build the graph", "build"), ("communities, Leiden (modularity)", "leiden"),
             ("communities, Louvain", "louvain"), ("k-core", "kcore"),
             (f"betweenness, {SAMPLE} sampled sources", "betweenness_sampled"),
             (f"exact betweenness, {libs['exact_subgraph']['entities']} entities", "betweenness_exact_subgraph")]
    rows = [[label, _cell(ig[key]) + (f", Q {ig[key]['modularity']}" if "modularity" in ig[key] else ""),
             _cell(rx[key])] for label, key in steps]
    lines = [harness.table(f"Libraries on the generated edge list ({libs['entities']} entities, "
                           f"{libs['tied_pairs']} tied pairs); seconds (CPU seconds)",
                           ["step", "igraph", "rustworkx"], rows)]
    rows = [["graph version (bookmark)", _cell(kb["graph_version"])],
            [f"projection: {kb['projection']['entities']} entities, {kb['projection']['tied_pairs']} pairs",
             _cell(kb["projection"])]]
    rows += [[measure, _cell(kb[measure])] for measure, _ in MEASURE_STEPS]
    rows += [["projection + communities", f"{kb['projection_and_communities_s']}"],
             ["the same call again (cached)", _cell(kb["cached_call"])],
             [f"projection of ties in force in {YEAR}", _cell(kb["projection_year"])]]
    lines.append(harness.table("kb.analysis on the loaded graph (cold cache); seconds (CPU seconds of Python)",
                               ["step", "time"], rows))
    average = payload["load_average"]
    lines.append(f"\nload average {average['start']} at the start, {average['end']} at the end (2 cores)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(harness.SIZES), default="small")
    parser.add_argument("--home", help="KB_HOME of a running local server already loaded with the size's files")
    parser.add_argument("--port", type=int, help="its Bolt port")
    args = parser.parse_args()
    folder, _ = harness.dataset(args.size)
    if args.home and args.port:
        os.environ.update({"KB_HOME": args.home, "KB_NEO4J_PORT": str(args.port)})
        os.environ.pop("NEO4J_URI", None)
        db.close()
        payload = run(args.size, folder)
    else:
        with harness.fresh_server():
            harness.start_server()
            pipeline.load(csv_loader.reader([folder]), show_progress=False)
            payload = run(args.size, folder)
    print(report(payload))
    harness.save("analysis", args.size, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
