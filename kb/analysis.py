"""Structure of the graph: degree, betweenness, brokerage between Chinese and German entities,
communities and k-core, on the whole graph or a filtered part of it.

The graph is projected once (one streaming read of its ties) into igraph, chosen over rustworkx on
measured speed and because rustworkx has neither community detection nor sampled betweenness
(bench/analysis.py, docs/BENCHMARKS.md). The projection is undirected and simple: a tie's direction
is ignored, several ties between the same two entities count as one, and entities without a tie in
the projection are left out. Projections and scores are cached in the process until the database
commits anything (see kb.db.graph_version).
"""
from __future__ import annotations

import math
import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import igraph

from kb import db
from kb.errors import AnalysisError
from kb.queries import IN_FORCE, TYPE_OF
from kb.schema import ENTITY_LABEL, schema
from kb.subgraph import Edge, Node, Subgraph

MEASURES = ("degree", "betweenness", "brokerage", "communities", "kcore")
SEED = 1
# Exact betweenness costs one breadth-first search per entity; above this many entities the
# default is the sampled estimate.
EXACT_BETWEENNESS_LIMIT = 5000
DEFAULT_SAMPLE = 100
LEIDEN_ITERATIONS = 2
LEIDEN_RESOLUTION = 1.0
# The two sides of brokerage, by the entities' `country`.
SIDES = ("CN", "DE")
# Drawing: colour-blind-safe fills for the largest communities (the rest share a light grey), and
# the range of node sizes a measure is mapped to.
COMMUNITY_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                     "#9c755f")
OTHER_COMMUNITY = "#d9d9d9"
SIZE_RANGE = (10, 46)

# The chosen types, and a tie in force in $year as Explore and Paths read it (kb.in_force).
TIE_FILTER = (
    "($relation_types IS NULL OR type(r) IN $relation_types) "
    "AND ($entity_types IS NULL OR (any(l IN labels(a) WHERE l IN $entity_types) "
    "AND any(l IN labels(b) WHERE l IN $entity_types))) "
    f"AND {IN_FORCE}"
)
PROJECTION_QUERY = (f"MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL}) WHERE {TIE_FILTER} "
                    "RETURN a.id AS start, b.id AS end, type(r) AS type")
SIDES_QUERY = f"MATCH (n:{ENTITY_LABEL}) WHERE n.country IN $sides RETURN n.id AS id, n.country AS country"
NODES_QUERY = (f"MATCH (n:{ENTITY_LABEL}) WHERE n.id IN $ids "
               f"RETURN properties(n) AS props, {TYPE_OF % 'n'} AS type")
TIES_AMONG_QUERY = (f"MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL}) WHERE a.id IN $ids AND b.id IN $ids "
                    f"AND {TIE_FILTER} "
                    "RETURN elementId(r) AS rid, type(r) AS type, a.id AS start, b.id AS end, properties(r) AS props")


@dataclass(frozen=True)
class Filters:
    """Which part of the graph is analysed; empty tuples mean every type."""
    entity_types: tuple = ()
    relation_types: tuple = ()
    year: int | None = None
    undated: bool = True

    def __post_init__(self):
        for name in self.entity_types:
            if name not in schema().entities:
                raise AnalysisError(f"unknown entity type {name!r}; known: {', '.join(sorted(schema().entities))}")
        for name in self.relation_types:
            if name not in schema().relations:
                raise AnalysisError(f"unknown relation type {name!r}; known: {', '.join(sorted(schema().relations))}")
        # Sorted, so that the same filter is the same cache key whatever order it was given in.
        object.__setattr__(self, "entity_types", tuple(sorted(set(self.entity_types))))
        object.__setattr__(self, "relation_types", tuple(sorted(set(self.relation_types))))

    def parameters(self) -> dict:
        return {"entity_types": list(self.entity_types) or None, "relation_types": list(self.relation_types) or None,
                "year": self.year, "undated": self.undated}

    def describe(self) -> str:
        parts = [f"entity types {', '.join(self.entity_types)}" if self.entity_types else "every entity type",
                 f"relation types {', '.join(self.relation_types)}" if self.relation_types else "every relation type"]
        if self.year is not None:
            parts.append(f"ties in force in {self.year}" + ("" if self.undated else ", undated ties left out"))
        return "; ".join(parts)


@dataclass
class Projection:
    """The filtered graph as igraph holds it: vertex i is the entity ids[i]."""
    ids: list
    graph: igraph.Graph
    ties_by_type: dict
    filters: Filters
    seconds: float

    @property
    def ties(self) -> int:
        return sum(self.ties_by_type.values())

    def describe(self) -> str:
        return (f"{len(self.ids)} entities and {self.graph.ecount()} tied pairs ({self.ties} ties) of "
                f"{self.filters.describe()}")


@dataclass
class Scores:
    """One measure for every entity of a projection, and how it was computed."""
    measure: str
    values: list                 # by vertex; for communities, the community number (0 = largest)
    algorithm: str
    parameters: dict
    projection: Projection
    seconds: float
    extra: dict = field(default_factory=dict)

    def ranked(self) -> list[int]:
        """Vertices from the highest value down; ties broken by entity id, so the order is stable."""
        ids = self.projection.ids
        return sorted(range(len(ids)), key=lambda v: (-self.values[v], ids[v]))


# --- cache ---------------------------------------------------------------------------------------
_lock = threading.Lock()
_projections: OrderedDict = OrderedDict()
_scores: OrderedDict = OrderedDict()
MAX_PROJECTIONS = 3
MAX_SCORES = 32


def _cached(store: OrderedDict, limit: int, key, compute):
    with _lock:
        if key in store:
            store.move_to_end(key)
            return store[key]
    value = compute()
    with _lock:
        store[key] = value
        while len(store) > limit:
            store.popitem(last=False)
    return value


def clear_cache() -> None:
    with _lock:
        _projections.clear()
        _scores.clear()


# --- projection ----------------------------------------------------------------------------------
def project(filters: Filters = Filters(), version: str | None = None) -> Projection:
    """The filtered graph, read in one streaming pass of (start id, end id, type); cached per version."""
    version = version or db.graph_version()
    return _cached(_projections, MAX_PROJECTIONS, (version, filters), lambda: _read_projection(filters))


def _read_projection(filters: Filters) -> Projection:
    started = time.perf_counter()

    def work(tx):
        index, pairs, by_type = {}, set(), {}
        for start, end, type_name in tx.run(PROJECTION_QUERY, filters.parameters()):
            by_type[type_name] = by_type.get(type_name, 0) + 1
            a = index.setdefault(start, len(index))
            b = index.setdefault(end, len(index))
            if a != b:
                pairs.add((a, b) if a < b else (b, a))
        return index, pairs, by_type

    index, pairs, by_type = db.read_tx(work)
    graph = igraph.Graph(n=len(index), edges=sorted(pairs), directed=False)
    return Projection(list(index), graph, dict(sorted(by_type.items())), filters, time.perf_counter() - started)


# --- measures ------------------------------------------------------------------------------------
def scores(measure: str, filters: Filters = Filters(), sample: int | None = None, seed: int = SEED) -> Scores:
    """One measure on the filtered graph. sample: sources of the betweenness estimate (None: exact up to
    EXACT_BETWEENNESS_LIMIT entities, DEFAULT_SAMPLE above; 0: exact)."""
    if measure not in MEASURES:
        raise AnalysisError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    version = db.graph_version()
    projection = project(filters, version)
    key = (version, filters, measure, sample, seed)
    return _cached(_scores, MAX_SCORES, key, lambda: _compute(measure, projection, sample, seed))


def _compute(measure: str, projection: Projection, sample: int | None, seed: int) -> Scores:
    started = time.perf_counter()
    values, algorithm, parameters, extra = MEASURE_FUNCTIONS[measure](projection, sample, seed)
    return Scores(measure, values, algorithm, parameters, projection, time.perf_counter() - started, extra)


def _library() -> str:
    return f"python-igraph {igraph.__version__}"


def _degree(projection: Projection, sample, seed):
    return (projection.graph.degree(),
            f"Degree: the number of distinct entities tied to each one, direction ignored ({_library()}).",
            {}, {})


def _sources(projection: Projection, candidates: list[int], sample: int | None, seed: int) -> list[int] | None:
    """The sampled sources of a betweenness estimate, or None for all of them (exact)."""
    if sample is None:
        sample = DEFAULT_SAMPLE if len(projection.ids) > EXACT_BETWEENNESS_LIMIT else 0
    if sample <= 0 or sample >= len(candidates):
        return None
    return sorted(random.Random(seed).sample(candidates, sample))


def _betweenness(projection: Projection, sample, seed):
    graph, everyone = projection.graph, list(range(len(projection.ids)))
    sources = _sources(projection, everyone, sample, seed)
    if sources is None:
        values = graph.betweenness(directed=False)
        return (values, "Betweenness, exact (Brandes' algorithm, " + _library() + "): for every pair of entities, "
                "the share of their shortest paths through each entity; undirected, unweighted, not normalised.",
                {"sample": None}, {})
    scale = len(everyone) / len(sources)
    values = [v * scale for v in graph.betweenness(directed=False, sources=sources)]
    return (values, f"Betweenness, estimated (Brandes and Pich's source sampling, {_library()}): shortest paths "
            f"from {len(sources)} entities drawn at random (seed {seed}) to all others, scaled by "
            f"{len(everyone)}/{len(sources)}; undirected, unweighted, not normalised.",
            {"sample": len(sources), "seed": seed}, {})


def _brokerage(projection: Projection, sample, seed):
    """Betweenness counted only on shortest paths from a Chinese to a German entity."""
    position = {entity_id: v for v, entity_id in enumerate(projection.ids)}
    sides = {country: [] for country in SIDES}
    for record in db.read(SIDES_QUERY, sides=list(SIDES)):
        if record["id"] in position:
            sides[record["country"]].append(position[record["id"]])
    chinese, german = sorted(sides["CN"]), sorted(sides["DE"])
    if not chinese or not german:
        return ([0.0] * len(projection.ids), "Brokerage: no shortest path to count, the projection holds "
                f"{len(chinese)} Chinese and {len(german)} German entities.", {},
                {"sides": (len(chinese), len(german))})
    sources = _sources(projection, chinese, sample, seed)
    scale = len(chinese) / len(sources) if sources else 1.0
    values = [v * scale for v in projection.graph.betweenness(directed=False, sources=sources or chinese,
                                                                targets=german)]
    how = (f"from {len(sources)} of the {len(chinese)} Chinese entities drawn at random (seed {seed}), scaled by "
           f"{len(chinese)}/{len(sources)}" if sources else f"from each of the {len(chinese)} Chinese entities")
    return (values, f"Brokerage between China and Germany: betweenness counted only on the shortest paths {how} "
            f"to each of the {len(german)} German entities (country CN and DE); Brandes' algorithm restricted to "
            f"these sources and targets ({_library()}), undirected, unweighted, not normalised.",
            {"sample": len(sources) if sources else None, "seed": seed if sources else None},
            {"sides": (len(chinese), len(german))})


def _communities(projection: Projection, sample, seed):
    graph = projection.graph
    with _lock:
        # igraph draws from a module-wide generator: a seeded one, then igraph's own again.
        igraph.set_random_number_generator(random.Random(seed))
        try:
            found = graph.community_leiden(objective_function="modularity", resolution=LEIDEN_RESOLUTION,
                                           n_iterations=LEIDEN_ITERATIONS)
        finally:
            igraph.set_random_number_generator(random)
    # Renumbered from the largest community down (0 = largest), ties by the smallest member id.
    members = {}
    for vertex, community in enumerate(found.membership):
        members.setdefault(community, []).append(vertex)
    ids = projection.ids
    order = sorted(members, key=lambda c: (-len(members[c]), min(ids[v] for v in members[c])))
    renumber = {old: new for new, old in enumerate(order)}
    membership = [renumber[c] for c in found.membership]
    modularity = graph.modularity(membership) if graph.ecount() else 0.0
    return (membership, f"Communities: Leiden ({_library()}) optimising modularity, resolution "
            f"{LEIDEN_RESOLUTION:g}, {LEIDEN_ITERATIONS} iterations, seed {seed}; {len(order)} communities, "
            f"modularity {modularity:.3f}.",
            {"resolution": LEIDEN_RESOLUTION, "iterations": LEIDEN_ITERATIONS, "seed": seed},
            {"modularity": modularity, "sizes": [len(members[c]) for c in order]})


def _kcore(projection: Projection, sample, seed):
    values = projection.graph.coreness()
    top = max(values, default=0)
    return (values, f"k-core: each entity's coreness, the largest k such that it lies in a part of the graph where "
            f"every entity has at least k distinct neighbours (Batagelj and Zaversnik's algorithm, {_library()}); "
            f"the innermost core is the {top}-core of {values.count(top)} entities.", {}, {})


MEASURE_FUNCTIONS = {"degree": _degree, "betweenness": _betweenness, "brokerage": _brokerage,
                     "communities": _communities, "kcore": _kcore}


# --- what a reader sees --------------------------------------------------------------------------
def nodes(ids) -> dict:
    """id -> Node for these entities (one read, an index seek per id)."""
    return {r["props"]["id"]: Node.from_record(r["props"], r["type"]) for r in db.read(NODES_QUERY, ids=list(ids))}


def top(result: Scores, n: int) -> list[dict]:
    """The n entities with the highest value: rank, id, name, type, country and the value."""
    ids = result.projection.ids
    chosen = [ids[v] for v in result.ranked()[:n]]
    found = nodes(chosen)
    position = {entity_id: v for v, entity_id in enumerate(ids)}
    rows = []
    for rank, entity_id in enumerate(chosen, start=1):
        node = found.get(entity_id)
        value = result.values[position[entity_id]]
        rows.append({"rank": rank, "id": entity_id, "name": node.name if node else entity_id,
                     "type": node.type if node else "", "country": (node.country or "") if node else "",
                     result.measure: round(value, 3) if isinstance(value, float) else value})
    return rows


def community_table(result: Scores, n: int, members_shown: int = 5) -> list[dict]:
    """The n largest communities: size, how many Chinese and German entities, best-connected members."""
    projection = result.projection
    degree = projection.graph.degree()
    groups: dict = {}
    for vertex, community in enumerate(result.values):
        if community < n:
            groups.setdefault(community, []).append(vertex)
    leaders = {c: sorted(vs, key=lambda v: (-degree[v], projection.ids[v]))[:members_shown] for c, vs in groups.items()}
    found = nodes(projection.ids[v] for vs in leaders.values() for v in vs)
    countries = _countries(projection, groups)
    rows = []
    for community in sorted(groups):
        names = [found[projection.ids[v]].name if projection.ids[v] in found else projection.ids[v]
                 for v in leaders[community]]
        rows.append({"community": community + 1, "entities": len(groups[community]),
                     "Chinese": countries[community].get("CN", 0), "German": countries[community].get("DE", 0),
                     "best connected": ", ".join(names)})
    return rows


def _countries(projection: Projection, groups: dict) -> dict:
    """community -> {country: entities} for the given communities (one read of the two sides)."""
    community_of = {projection.ids[v]: c for c, vs in groups.items() for v in vs}
    counts = {c: {} for c in groups}
    for record in db.read(SIDES_QUERY, sides=list(SIDES)):
        community = community_of.get(record["id"])
        if community is not None:
            counts[community][record["country"]] = counts[community].get(record["country"], 0) + 1
    return counts


def community_colour(community: int) -> str:
    return COMMUNITY_COLOURS[community] if community < len(COMMUNITY_COLOURS) else OTHER_COMMUNITY


def node_style(by: Scores, communities: Scores, n: int) -> dict:
    """id -> {"color", "size"} (kb.render.graph.to_html's node_style) for the n entities highest in `by`: filled
    by their community, sized by the square root of their value against the highest."""
    community_of = dict(zip(communities.projection.ids, communities.values))
    ranked = by.ranked()[:n]
    highest = max((by.values[v] for v in ranked), default=0) or 1
    low, high = SIZE_RANGE
    ids = by.projection.ids
    return {ids[v]: {"color": community_colour(community_of.get(ids[v], len(COMMUNITY_COLOURS))),
                     "size": round(low + (high - low) * math.sqrt(max(by.values[v], 0) / highest))} for v in ranked}


def subgraph(ids, filters: Filters = Filters()) -> Subgraph:
    """These entities and the ties among them that pass the filters, with properties, for drawing."""
    graph = Subgraph()
    for node in sorted(nodes(ids).values(), key=lambda node: node.id):
        graph.add_node(node)
    for r in db.read(TIES_AMONG_QUERY, ids=list(graph.nodes), **filters.parameters()):
        graph.add_edge(Edge(r["rid"], r["start"], r["end"], r["type"], dict(r["props"])))
    return graph


def table(result: Scores, n: int) -> list[dict]:
    """The top-n table of a result: communities by size, any other measure by entity."""
    return community_table(result, n) if result.measure == "communities" else top(result, n)


def report(result: Scores, n: int) -> dict:
    """A result as plain data: the measure, the algorithm and its parameters, the projection, the table."""
    projection = result.projection
    return {"measure": result.measure, "algorithm": result.algorithm, "parameters": result.parameters,
            "projection": {"entities": len(projection.ids), "tied_pairs": projection.graph.ecount(),
                           "ties": projection.ties, "ties_by_type": projection.ties_by_type,
                           "filters": projection.filters.parameters(), "seconds": round(projection.seconds, 3)},
            "seconds": round(result.seconds, 3), "rows": table(result, n)}
