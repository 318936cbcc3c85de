"""Named read queries of the knowledge base: entities, neighbourhoods, paths, counts and sources."""
from __future__ import annotations

from dataclasses import dataclass

from kb import config, db
from kb.errors import KBError
from kb.schema import ENTITY_LABEL, schema
from kb.subgraph import Edge, Node, Subgraph

TYPE_OF = f"[l IN labels(%s) WHERE l <> '{ENTITY_LABEL}'][0]"

ENTITY_QUERY = (f"MATCH (n:{ENTITY_LABEL} {{id: $id}}) "
                f"RETURN properties(n) AS props, {TYPE_OF % 'n'} AS type")

ENTITY_RELATIONS_QUERY = (
    f"MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m) "
    "RETURN elementId(r) AS rid, type(r) AS rtype, startNode(r) = n AS outgoing, properties(r) AS rprops, "
    f"properties(m) AS mprops, {TYPE_OF % 'm'} AS mtype "
    "ORDER BY rtype, coalesce(r.since, ''), m.name LIMIT $limit"
)

NEIGHBOURS_QUERY = (
    "UNWIND $frontier AS fid "
    f"MATCH (a:{ENTITY_LABEL} {{id: fid}})-[r]-(b:{ENTITY_LABEL}) "
    "WHERE ($relation_types IS NULL OR type(r) IN $relation_types) "
    "AND ($entity_types IS NULL OR any(l IN labels(b) WHERE l IN $entity_types)) "
    "RETURN elementId(r) AS rid, type(r) AS rtype, startNode(r).id AS start, endNode(r).id AS end, "
    f"properties(r) AS rprops, properties(b) AS bprops, {TYPE_OF % 'b'} AS btype "
    "LIMIT $limit"
)

# Ties among the outer ring, which the expansion never looked at. A hub's ties are not walked here
# (its degree alone could cost more than the whole view); ties between two hubs may then be missing.
EDGES_AMONG_QUERY = (
    f"UNWIND $ring AS ring_id MATCH (a:{ENTITY_LABEL} {{id: ring_id}}) "
    "WHERE COUNT { (a)--() } <= $max_degree "
    f"MATCH (a)-[r]-(b:{ENTITY_LABEL}) WHERE b.id IN $ids "
    "AND ($relation_types IS NULL OR type(r) IN $relation_types) "
    "RETURN elementId(r) AS rid, type(r) AS rtype, startNode(r).id AS start, endNode(r).id AS end, "
    "properties(r) AS rprops "
    "LIMIT $limit"
)

SHORTEST_PATHS_QUERY = (
    f"MATCH (a:{ENTITY_LABEL} {{id: $start}}), (b:{ENTITY_LABEL} {{id: $end}}) "
    "MATCH p = allShortestPaths((a)-[*..%d]-(b)) "
    f"RETURN [n IN nodes(p) | {{props: properties(n), type: {TYPE_OF % 'n'}}}] AS nodes, "
    "[r IN relationships(p) | {rid: elementId(r), rtype: type(r), start: startNode(r).id, end: endNode(r).id, "
    "rprops: properties(r)}] AS rels "
    "LIMIT $limit"
)

ENTITY_COUNTS_QUERY = (f"MATCH (n:{ENTITY_LABEL}) RETURN {TYPE_OF % 'n'} AS type, count(*) AS count "
                       "ORDER BY count DESC, type")
RELATION_COUNTS_QUERY = "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS count ORDER BY count DESC, type"

SOURCES_QUERY = (
    "MATCH (s:Source) "
    "OPTIONAL CALL (s) { MATCH ()-[r]->() WHERE s.id IN r.sources RETURN count(r) AS relations } "
    "OPTIONAL CALL (s) { MATCH (e:Entity) WHERE s.id IN e.sources RETURN count(e) AS entities } "
    "RETURN s.id AS id, s.name AS name, s.title AS title, s.kind AS kind, s.publisher AS publisher, "
    "s.date AS date, s.url AS url, relations, entities ORDER BY relations + entities DESC, id"
)

DATED_FACTS_QUERY = (
    "MATCH ()-[r]->() WHERE r.since IS NOT NULL "
    "RETURN toInteger(left(r.since, 4)) AS year, count(*) AS facts ORDER BY year"
)

MAX_PATH_HOPS = 6
HUB_DEGREE = 1000


class NotFound(KBError):
    """No entity has the requested id."""


@dataclass
class EntityView:
    node: Node
    outgoing: list   # (Edge, Node) pairs
    incoming: list
    truncated: bool


def entity_node(entity_id: str) -> Node:
    """The entity itself, without its relations."""
    found = db.read(ENTITY_QUERY, id=entity_id)
    if not found:
        raise NotFound(f"No entity has the id {entity_id!r}.")
    return Node.from_record(found[0]["props"], found[0]["type"])


def entity(entity_id: str, limit: int = 1000) -> EntityView:
    """An entity with every relation in and out (up to limit), each with its other end."""
    node = entity_node(entity_id)
    outgoing, incoming = [], []
    records = db.read(ENTITY_RELATIONS_QUERY, id=entity_id, limit=limit + 1)
    for r in records[:limit]:
        other = Node.from_record(r["mprops"], r["mtype"])
        start, end = (node.id, other.id) if r["outgoing"] else (other.id, node.id)
        edge = Edge(r["rid"], start, end, r["rtype"], dict(r["rprops"]))
        (outgoing if r["outgoing"] else incoming).append((edge, other))
    return EntityView(node, outgoing, incoming, len(records) > limit)


def _checked_types(names, kind: str):
    if not names:
        return None
    lookup = schema().entity if kind == "entity" else schema().relation
    return [lookup(name).name for name in names]


def neighbourhood(entity_id: str, depth: int = 1, entity_types=None, relation_types=None,
                  node_cap: int | None = None) -> Subgraph:
    """The entity and everything within depth hops (1 to 3), filtered by type, at most node_cap nodes."""
    if not 1 <= depth <= 3:
        raise ValueError("depth must be 1, 2 or 3")
    node_cap = node_cap or config.setting("node_cap")
    entity_types = _checked_types(entity_types, "entity")
    relation_types = _checked_types(relation_types, "relation")
    centre = db.read(ENTITY_QUERY, id=entity_id)
    if not centre:
        raise NotFound(f"No entity has the id {entity_id!r}.")
    graph = Subgraph()
    graph.add_node(Node.from_record(centre[0]["props"], centre[0]["type"]))
    frontier = [entity_id]
    for _ in range(depth):
        ring = _expand(graph, frontier, entity_types, relation_types, node_cap)
        if not ring:
            break
        frontier = ring
        if graph.truncated:
            break
    if frontier != [entity_id]:
        _add_edges_among(graph, frontier, relation_types)
    if graph.truncated:
        graph.note = f"Showing the first {node_cap} entities; the neighbourhood has more (raise the cap or filter)."
    return graph


def _expand(graph: Subgraph, frontier, entity_types, relation_types, node_cap) -> list[str]:
    """Add the next ring of neighbours; returns the ids added."""
    limit = max(node_cap - len(graph.nodes), 0) * 4 + 50
    records = db.read(NEIGHBOURS_QUERY, frontier=frontier, entity_types=entity_types,
                      relation_types=relation_types, limit=limit)
    added = []
    for r in records:
        neighbour = r["bprops"]["id"]
        if neighbour not in graph.nodes:
            if len(graph.nodes) >= node_cap:
                graph.truncated = True
                continue
            graph.add_node(Node.from_record(r["bprops"], r["btype"]))
            added.append(neighbour)
        graph.add_edge(Edge(r["rid"], r["start"], r["end"], r["rtype"], dict(r["rprops"])))
    if len(records) == limit:
        graph.truncated = True  # the row limit cut the ring: more neighbours exist than were read
    return added


def _add_edges_among(graph: Subgraph, ring: list[str], relation_types) -> None:
    """Add the ties between the outer ring and the drawn nodes."""
    records = db.read(EDGES_AMONG_QUERY, ring=ring, ids=list(graph.nodes), relation_types=relation_types,
                      max_degree=HUB_DEGREE, limit=len(graph.nodes) * 20)
    for r in records:
        graph.add_edge(Edge(r["rid"], r["start"], r["end"], r["rtype"], dict(r["rprops"])))


@dataclass
class Path:
    nodes: list   # Node, in order from start to end
    edges: list   # Edge between consecutive nodes


def shortest_paths(start_id: str, end_id: str, max_hops: int = MAX_PATH_HOPS, cap: int = 10) -> list[Path]:
    """All shortest paths (up to cap) between two entities, at most max_hops long."""
    if not 1 <= max_hops <= MAX_PATH_HOPS:
        raise ValueError(f"max_hops must be between 1 and {MAX_PATH_HOPS}")
    for entity_id in (start_id, end_id):
        if not db.read(ENTITY_QUERY, id=entity_id):
            raise NotFound(f"No entity has the id {entity_id!r}.")
    if start_id == end_id:
        return []
    # max_hops is an int checked above: variable-length bounds cannot be parameters in Cypher.
    records = db.read(SHORTEST_PATHS_QUERY % int(max_hops), start=start_id, end=end_id, limit=cap)
    paths = []
    for r in records:
        nodes = [Node.from_record(n["props"], n["type"]) for n in r["nodes"]]
        edges = [Edge(e["rid"], e["start"], e["end"], e["rtype"], dict(e["rprops"])) for e in r["rels"]]
        paths.append(Path(nodes, edges))
    return paths


def paths_subgraph(paths: list[Path]) -> Subgraph:
    """The union of paths as one subgraph, for drawing."""
    graph = Subgraph()
    for path in paths:
        for node in path.nodes:
            graph.add_node(node)
        for edge in path.edges:
            graph.add_edge(edge)
    return graph


def counts() -> dict:
    """Counts by entity type and by relation type."""
    return {
        "entities": {r["type"]: r["count"] for r in db.read(ENTITY_COUNTS_QUERY)},
        "relations": {r["type"]: r["count"] for r in db.read(RELATION_COUNTS_QUERY)},
    }


def sources() -> list[dict]:
    """Every Source with how many relations and entities cite it."""
    return [dict(r) for r in db.read(SOURCES_QUERY)]


def dated_facts_per_year() -> dict:
    """How many relations began in each year."""
    return {r["year"]: r["facts"] for r in db.read(DATED_FACTS_QUERY) if r["year"] is not None}
