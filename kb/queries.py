"""Named read queries of the knowledge base: entities, neighbourhoods, paths, counts and sources."""
from __future__ import annotations

from dataclasses import dataclass

from kb import config, db
from kb.errors import KBError
from kb.in_force import in_force
from kb.schema import ENTITY_LABEL, schema
from kb.subgraph import Edge, Node, Subgraph

TYPE_OF = f"[l IN labels(%s) WHERE l <> '{ENTITY_LABEL}'][0]"

ENTITY_QUERY = (f"MATCH (n:{ENTITY_LABEL} {{id: $id}}) "
                f"RETURN properties(n) AS props, {TYPE_OF % 'n'} AS type")

# One page of an entity's ties: sorted on the few properties the order needs, and only the page's
# rows fetch their properties (a hub has tens of thousands of ties). The degree comes from the store.
ENTITY_RELATIONS_QUERY = (
    f"MATCH (n:{ENTITY_LABEL} {{id: $id}})-[r]-(m) "
    "WITH n, r, m ORDER BY type(r), coalesce(r.since, ''), m.name, elementId(r) SKIP $skip LIMIT $limit "
    "RETURN elementId(r) AS rid, type(r) AS rtype, startNode(r) = n AS outgoing, properties(r) AS rprops, "
    f"properties(m) AS mprops, {TYPE_OF % 'm'} AS mtype"
)
DEGREE_QUERY = f"MATCH (n:{ENTITY_LABEL} {{id: $id}}) RETURN COUNT {{ (n)--() }} AS degree"

IN_FORCE = in_force("r")

# What every query returning ties gives of each, as the Subgraph reads it.
TIE_FIELDS = ("elementId(r) AS rid, type(r) AS rtype, startNode(r).id AS start, endNode(r).id AS end, "
              "properties(r) AS rprops")
NEIGHBOURS_QUERY = (
    "UNWIND $frontier AS fid "
    f"MATCH (a:{ENTITY_LABEL} {{id: fid}})-[r]-(b:{ENTITY_LABEL}) "
    "WHERE ($relation_types IS NULL OR type(r) IN $relation_types) "
    "AND ($entity_types IS NULL OR any(l IN labels(b) WHERE l IN $entity_types)) "
    f"AND {IN_FORCE} "
    f"RETURN {TIE_FIELDS}, properties(b) AS bprops, {TYPE_OF % 'b'} AS btype "
    "LIMIT $limit"
)

# How many distinct neighbours pass the same filters as NEIGHBOURS_QUERY: what a capped expansion left out.
NEIGHBOUR_COUNT_QUERY = (
    f"MATCH (a:{ENTITY_LABEL} {{id: $id}})-[r]-(b:{ENTITY_LABEL}) "
    "WHERE ($relation_types IS NULL OR type(r) IN $relation_types) "
    "AND ($entity_types IS NULL OR any(l IN labels(b) WHERE l IN $entity_types)) "
    f"AND {IN_FORCE} "
    "RETURN count(DISTINCT b) AS neighbours"
)


def _ties_walked_from(walked: str, others: str) -> str:
    """The ties in force (of $relation_types, if given) from each entity listed in the parameter walked (a
    seek on the id index each, then its own ties) to those listed in others. A hub's ties are not walked
    (its degree alone could cost more than the whole view); ties between two hubs may then be missing."""
    return (f"UNWIND ${walked} AS walked_id MATCH (a:{ENTITY_LABEL} {{id: walked_id}}) "
            "WHERE COUNT { (a)--() } <= $max_degree "
            f"MATCH (a)-[r]-(b:{ENTITY_LABEL}) WHERE b.id IN ${others} "
            "AND ($relation_types IS NULL OR type(r) IN $relation_types) "
            f"AND {IN_FORCE} ")


# Ties among the outer ring, which the expansion never looked at.
EDGES_AMONG_QUERY = _ties_walked_from("ring", "ids") + f"RETURN {TIE_FIELDS} LIMIT $limit"
# Ties between the entities an expansion adds and those drawn before it. All are counted, the first $limit
# returned, so a caption can say how many the cap left out.
TIES_TO_DRAWN_QUERY = (
    _ties_walked_from("added", "drawn") +
    "WITH r, b ORDER BY elementId(r) "
    "WITH count(r) AS found, collect([r, b])[..$limit] AS kept "
    "UNWIND kept AS tie WITH found, tie[0] AS r, tie[1] AS b "
    f"RETURN found, {TIE_FIELDS}, properties(b) AS bprops, {TYPE_OF % 'b'} AS btype"
)

SHORTEST_PATHS_QUERY = (
    f"MATCH (a:{ENTITY_LABEL} {{id: $start}}), (b:{ENTITY_LABEL} {{id: $end}}) "
    "MATCH p = allShortestPaths((a)-[*..%d]-(b)) %s"
    f"RETURN [n IN nodes(p) | {{props: properties(n), type: {TYPE_OF % 'n'}}}] AS nodes, "
    "[r IN relationships(p) | {rid: elementId(r), rtype: type(r), start: startNode(r).id, end: endNode(r).id, "
    "rprops: properties(r)}] AS rels "
    "LIMIT $limit"
)

# One count per schema type, each answered by Neo4j's count store instead of a scan of the graph.
ENTITY_COUNT_QUERY = "MATCH (n:`{name}`) RETURN '{name}' AS type, count(n) AS count"
RELATION_COUNT_QUERY = "MATCH ()-[r:`{name}`]->() RETURN '{name}' AS type, count(r) AS count"


def _counts_query(template: str, names) -> str:
    """One UNION ALL of template for every name (names come from the schema's allow-list)."""
    return " UNION ALL ".join(template.format(name=name) for name in sorted(names))

SOURCE_FIELDS = ("s.id AS id, s.name AS name, s.title AS title, s.kind AS kind, s.publisher AS publisher, "
                 "s.date AS date, s.url AS url, s.accessed AS accessed")
# Only the sources a view cites: an index seek per id, whatever the size of the graph.
CITED_SOURCES_QUERY = f"MATCH (s:`{schema().source_type}`) WHERE s.id IN $ids RETURN {SOURCE_FIELDS}"
SOURCES_QUERY = f"MATCH (s:`{schema().source_type}`) RETURN {SOURCE_FIELDS}"
# Citations counted in one pass over the relations (and one over the entities), not one per source.
FACTS_PER_SOURCE_QUERY = "MATCH ()-[r]->() UNWIND r.sources AS id RETURN id, count(*) AS n"
ENTITIES_PER_SOURCE_QUERY = f"MATCH (e:{ENTITY_LABEL}) UNWIND e.sources AS id RETURN id, count(*) AS n"

# Ties in force in a year, by type: the Overview's figure for a year reads every tie once (a whole-graph
# count has no neighbourhood to start from), so it runs only when a year is asked for.
TIES_IN_FORCE_QUERY = f"MATCH ()-[r]->() WHERE {IN_FORCE} RETURN type(r) AS type, count(*) AS count"

DATED_FACTS_QUERY = (
    "MATCH ()-[r]->() WHERE r.since IS NOT NULL "
    "RETURN toInteger(left(r.since, 4)) AS year, count(*) AS facts ORDER BY year"
)

MAX_PATH_HOPS = 6
HUB_DEGREE = 1000
ENTITY_PAGE_SIZE = 250


class NotFound(KBError):
    """No entity has the requested id."""


@dataclass
class EntityView:
    node: Node
    outgoing: list   # (Edge, Node) pairs of this page of ties
    incoming: list
    total: int       # ties in all
    offset: int      # ties before this page, in the order of ENTITY_RELATIONS_QUERY

    @property
    def shown(self) -> int:
        return len(self.outgoing) + len(self.incoming)

    @property
    def truncated(self) -> bool:
        return self.shown < self.total

    def source_ids(self) -> list[str]:
        """The sources the entity and the shown ties cite."""
        cited = list(self.node.properties.get("sources") or [])
        for edge, _ in self.outgoing + self.incoming:
            cited += edge.sources
        return list(dict.fromkeys(cited))


def entity_node(entity_id: str) -> Node:
    """The entity itself, without its relations."""
    found = db.read(ENTITY_QUERY, id=entity_id)
    if not found:
        raise NotFound(f"No entity has the id {entity_id!r}.")
    return Node.from_record(found[0]["props"], found[0]["type"])


def entity(entity_id: str, limit: int = ENTITY_PAGE_SIZE, offset: int = 0) -> EntityView:
    """An entity with one page of its relations in and out (limit of them, after offset), each with
    its other end, and how many relations it has in all."""
    node = entity_node(entity_id)
    outgoing, incoming = [], []
    total = db.read(DEGREE_QUERY, id=entity_id)[0]["degree"]
    for r in db.read(ENTITY_RELATIONS_QUERY, id=entity_id, skip=offset, limit=limit):
        other = Node.from_record(r["mprops"], r["mtype"])
        start, end = (node.id, other.id) if r["outgoing"] else (other.id, node.id)
        edge = Edge(r["rid"], start, end, r["rtype"], dict(r["rprops"]))
        (outgoing if r["outgoing"] else incoming).append((edge, other))
    return EntityView(node, outgoing, incoming, total, offset)


def _checked_types(names, kind: str):
    if not names:
        return None
    lookup = schema().entity if kind == "entity" else schema().relation
    return [lookup(name).name for name in names]


def neighbourhood(entity_id: str, depth: int = 1, entity_types=None, relation_types=None,
                  node_cap: int | None = None, year: int | None = None, undated: bool = True) -> Subgraph:
    """The entity and everything within depth hops (1 to 3), filtered by type, at most node_cap nodes;
    with a year, only over ties in force that year (undated ties too unless undated is false)."""
    if not 1 <= depth <= 3:
        raise ValueError("depth must be 1, 2 or 3")
    node_cap = node_cap or config.setting("node_cap")
    entity_types = _checked_types(entity_types, "entity")
    relation_types = _checked_types(relation_types, "relation")
    centre = db.read(ENTITY_QUERY, id=entity_id)
    if not centre:
        raise NotFound(f"No entity has the id {entity_id!r}.")
    when = {"year": year, "undated": undated}
    graph = Subgraph()
    graph.add_node(Node.from_record(centre[0]["props"], centre[0]["type"]))
    frontier = [entity_id]
    for _ in range(depth):
        ring = _expand(graph, frontier, entity_types, relation_types, node_cap, when)
        if not ring:
            break
        frontier = ring
        if graph.truncated:
            break
    if frontier != [entity_id]:
        _add_edges_among(graph, frontier, relation_types, when)
    if graph.truncated:
        graph.note = f"Showing the first {node_cap} entities; the neighbourhood has more (raise the cap or filter)."
    return graph


def neighbours(entity_id: str, entity_types=None, relation_types=None, node_cap: int | None = None,
               year: int | None = None, undated: bool = True) -> tuple[Subgraph, int]:
    """The entity and its neighbours (neighbourhood at depth 1, same filters and cap), and how many
    neighbours the cap left out (0 when it did not bite)."""
    graph = neighbourhood(entity_id, 1, entity_types, relation_types, node_cap, year, undated)
    if not graph.truncated:
        return graph, 0
    found = db.read(NEIGHBOUR_COUNT_QUERY, id=entity_id, entity_types=_checked_types(entity_types, "entity"),
                    relation_types=_checked_types(relation_types, "relation"), year=year, undated=undated)
    return graph, found[0]["neighbours"] - (len(graph.nodes) - 1)


@dataclass
class Expansion:
    graph: Subgraph        # the entity, its neighbours, and the drawn entities the added ones are tied to
    added: list            # ids of the entities not drawn before, in the order found
    left_out: int          # neighbours the node cap left out
    ties_to_drawn: int     # ties between the added entities and the drawn ones not among the neighbours
    ties_left_out: int     # such ties the cap left out


def expansion(entity_id: str, drawn, entity_types=None, relation_types=None, node_cap: int | None = None,
              year: int | None = None, undated: bool = True) -> Expansion:
    """What a double-click on a drawn entity adds to a drawing of the drawn ids: its neighbours (as
    neighbours() finds them, same filters, cap and year) and the ties between those not yet drawn and the
    drawn entities that are not among its neighbours (whose ties the neighbours' query already has); at
    most node_cap such ties."""
    node_cap = node_cap or config.setting("node_cap")
    graph, left_out = neighbours(entity_id, entity_types, relation_types, node_cap, year, undated)
    drawn = set(drawn)
    added = [node for node in graph.nodes if node not in drawn]
    ties, ties_left_out = _add_ties_to_drawn(graph, added, sorted(drawn - set(graph.nodes)),
                                             _checked_types(relation_types, "relation"), node_cap,
                                             {"year": year, "undated": undated})
    return Expansion(graph, added, left_out, ties, ties_left_out)


def _add_ties_to_drawn(graph: Subgraph, added: list, drawn: list, relation_types, cap: int,
                       when: dict) -> tuple[int, int]:
    """Add to graph the ties (in force when says) between its added entities and the drawn ones, with
    those drawn entities; returns how many ties it added and how many the cap left out."""
    if not added or not drawn:
        return 0, 0
    records = db.read(TIES_TO_DRAWN_QUERY, added=added, drawn=drawn, relation_types=relation_types,
                      max_degree=HUB_DEGREE, limit=cap, **when)
    for r in records:
        graph.add_node(Node.from_record(r["bprops"], r["btype"]))
        graph.add_edge(Edge(r["rid"], r["start"], r["end"], r["rtype"], dict(r["rprops"])))
    return len(records), (records[0]["found"] - len(records) if records else 0)


def _expand(graph: Subgraph, frontier, entity_types, relation_types, node_cap, when: dict) -> list[str]:
    """Add the next ring of neighbours (over the ties in force when says); returns the ids added."""
    limit = max(node_cap - len(graph.nodes), 0) * 4 + 50
    records = db.read(NEIGHBOURS_QUERY, frontier=frontier, entity_types=entity_types,
                      relation_types=relation_types, limit=limit, **when)
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


def _add_edges_among(graph: Subgraph, ring: list[str], relation_types, when: dict) -> None:
    """Add the ties (in force when says) between the outer ring and the drawn nodes."""
    records = db.read(EDGES_AMONG_QUERY, ring=ring, ids=list(graph.nodes), relation_types=relation_types,
                      max_degree=HUB_DEGREE, limit=len(graph.nodes) * 20, **when)
    for r in records:
        graph.add_edge(Edge(r["rid"], r["start"], r["end"], r["rtype"], dict(r["rprops"])))


@dataclass
class Path:
    nodes: list   # Node, in order from start to end
    edges: list   # Edge between consecutive nodes


def shortest_paths_query(max_hops: int, as_of_year: bool) -> str:
    """SHORTEST_PATHS_QUERY for paths of at most max_hops (an int checked by the caller: variable-length
    bounds cannot be parameters in Cypher). The year's condition holds for every tie of a path, so Neo4j
    checks it during its breadth-first search; without a year it is left out, not to change the plan
    of the plain search."""
    when = f"WHERE all(t IN relationships(p) WHERE {in_force('t')}) " if as_of_year else ""
    return SHORTEST_PATHS_QUERY % (int(max_hops), when)


def shortest_paths(start_id: str, end_id: str, max_hops: int = MAX_PATH_HOPS, cap: int = 10,
                   year: int | None = None, undated: bool = True) -> list[Path]:
    """All shortest paths (up to cap) between two entities, at most max_hops long; with a year, only
    over ties in force that year (undated ties too unless undated is false)."""
    if not 1 <= max_hops <= MAX_PATH_HOPS:
        raise ValueError(f"max_hops must be between 1 and {MAX_PATH_HOPS}")
    for entity_id in (start_id, end_id):
        if not db.read(ENTITY_QUERY, id=entity_id):
            raise NotFound(f"No entity has the id {entity_id!r}.")
    if start_id == end_id:
        return []
    records = db.read(shortest_paths_query(max_hops, year is not None), start=start_id, end=end_id, limit=cap,
                      year=year, undated=undated)
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
    """Counts by entity type and by relation type (types with none left out), largest first."""
    found = {}
    for kind, template, names in (("entities", ENTITY_COUNT_QUERY, schema().entities),
                                  ("relations", RELATION_COUNT_QUERY, schema().relations)):
        records = [r for r in db.read(_counts_query(template, names)) if r["count"]]
        found[kind] = {r["type"]: r["count"] for r in sorted(records, key=lambda r: (-r["count"], r["type"]))}
    return found


def sources() -> list[dict]:
    """Every Source with how many relations (facts) and entities cite it, most cited first."""
    facts = {r["id"]: r["n"] for r in db.read(FACTS_PER_SOURCE_QUERY)}
    entities = entities_per_source()
    found = [{**r, "facts": facts.get(r["id"], 0), "entities": entities.get(r["id"], 0)} for r in db.read(SOURCES_QUERY)]
    return sorted(found, key=lambda s: (-s["facts"] - s["entities"], s["id"]))


def citation(source: dict) -> str:
    """How a source is named where a fact cites it: 'title (publisher, date)'."""
    detail = ", ".join(str(part) for part in (source["publisher"], source["date"]) if part)
    title = source["title"] or source["name"] or source["id"]
    return f"{title} ({detail})" if detail else title


def source_titles(ids) -> dict:
    """Source id -> citation, for the given ids only (those a drawn graph or a table cites)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {r["id"]: citation(r) for r in db.read(CITED_SOURCES_QUERY, ids=ids)}


def entities_per_source() -> dict:
    """Source id -> how many entities cite it, most first."""
    rows = sorted(db.read(ENTITIES_PER_SOURCE_QUERY), key=lambda r: (-r["n"], r["id"]))
    return {r["id"]: r["n"] for r in rows}


def documents() -> list[dict]:
    """Every Document with how many entities it mentions and how many mentions in all, most first."""
    document, mentions = schema().entity("Document").name, schema().relation("MENTIONS").name
    query = (f"MATCH (d:`{document}`) OPTIONAL MATCH (d)-[m:`{mentions}`]->() "
             "RETURN d.id AS id, d.name AS name, d.date AS date, count(m) AS entities, "
             "coalesce(sum(m.count), 0) AS mentions ORDER BY mentions DESC, id")
    return [r.data() for r in db.read(query)]


def ties_in_force(year: int, undated: bool = True) -> dict:
    """Relation type -> how many of its ties are in force in year (undated ones too unless undated is
    false), largest first."""
    records = sorted(db.read(TIES_IN_FORCE_QUERY, year=year, undated=undated), key=lambda r: (-r["count"], r["type"]))
    return {r["type"]: r["count"] for r in records}


def dated_facts_per_year() -> dict:
    """How many relations began in each year."""
    return {r["year"]: r["facts"] for r in db.read(DATED_FACTS_QUERY) if r["year"] is not None}
