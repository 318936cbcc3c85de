"""Cypher typed in by a user, run read-only behind four layers: EXPLAIN gate, read transaction,
server-side timeout, row cap."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import neo4j
from neo4j.exceptions import ClientError, CypherSyntaxError, Neo4jError
from neo4j.graph import Node as GraphNode
from neo4j.graph import Path as GraphPath
from neo4j.graph import Relationship as GraphRelationship

from kb import config, db
from kb.errors import QueryRefused, QueryTimeout
from kb.schema import ENTITY_LABEL
from kb.subgraph import Edge, Node, Subgraph

QUERY_TYPES = {"r": "only read", "rw": "read and write", "w": "write", "s": "change the schema"}
# LOAD CSV is a read as far as Neo4j's query type goes, but it reads files on the server's disk.
FILE_ACCESS = re.compile(r"\bLOAD\s+CSV\b", re.IGNORECASE)
PLAN_PREFIX = re.compile(r"^\s*(EXPLAIN|PROFILE)\b", re.IGNORECASE)


@dataclass
class QueryResult:
    columns: list
    rows: list                      # lists of plain Python values (JSON-ready)
    truncated: bool
    max_rows: int
    graph: Subgraph = field(default_factory=Subgraph)

    def notice(self) -> str:
        return f"Truncated at {self.max_rows} rows: the query returns more." if self.truncated else ""


def check_read_only(text: str, params: dict) -> None:
    """Layer 1: refuse anything Neo4j's planner does not classify as read-only."""
    if not text.strip():
        raise QueryRefused("The query is empty.")
    if PLAN_PREFIX.match(text):
        raise QueryRefused("Leave out EXPLAIN and PROFILE: the query is planned and checked for you.")
    if FILE_ACCESS.search(text):
        raise QueryRefused("LOAD CSV is not allowed here: it reads files on the database server.")
    try:
        with db.driver().session(database=db.database(), default_access_mode=neo4j.READ_ACCESS) as session:
            summary = session.run("EXPLAIN " + text, params).consume()
    except CypherSyntaxError as error:
        raise QueryRefused(f"Not valid Cypher: {error.message}") from None
    except ClientError as error:
        raise QueryRefused(f"Neo4j refused the query: {error.message}") from None
    except db.UNREACHABLE_ERRORS as error:
        raise db.unavailable(error) from error
    if summary.query_type != "r":
        what = QUERY_TYPES.get(summary.query_type, summary.query_type)
        raise QueryRefused(f"Refused: only read-only queries may run here, and this one would {what} "
                           f"(Neo4j query type '{summary.query_type}'). Nothing was run.")


def run_read_only(text: str, params: dict | None = None, timeout: float | None = None,
                  max_rows: int | None = None) -> QueryResult:
    """Run a user's query read-only, within the timeout, returning at most max_rows rows."""
    params = dict(params or {})
    timeout = timeout or config.setting("query_timeout")
    max_rows = max_rows or config.setting("max_rows")
    check_read_only(text, params)

    # Layers 2 and 3: a managed read transaction whose timeout the server enforces.
    @neo4j.unit_of_work(timeout=timeout)
    def work(tx):
        result = tx.run(text, params)
        records = []
        for record in result:
            records.append(record)
            if len(records) > max_rows:
                break
        return result.keys(), records

    try:
        columns, records = db.read_tx(work)
    except ClientError as error:
        if "TransactionTimedOut" in (error.code or ""):
            raise QueryTimeout(f"The query timed out after {timeout:g} s and was stopped. "
                               "Narrow it (add a LIMIT or a more selective MATCH) or raise KB_QUERY_TIMEOUT.") from None
        raise QueryRefused(f"Neo4j could not run the query: {error.message}") from None
    except Neo4jError as error:
        raise QueryRefused(f"Neo4j could not run the query: {error.message}") from None
    graph = Subgraph()
    rows = [[_plain(value, graph) for value in record.values()] for record in records[:max_rows]]
    return QueryResult(list(columns), rows, len(records) > max_rows, max_rows, graph)


def _node(value: GraphNode) -> Node:
    labels = [label for label in value.labels if label != ENTITY_LABEL]
    props = dict(value)
    props.setdefault("id", value.element_id)
    return Node.from_record(props, labels[0] if labels else "")


def _plain(value, graph: Subgraph):
    """A JSON-ready copy of a result value; nodes and relationships also go into graph."""
    if isinstance(value, GraphNode):
        node = _node(value)
        graph.add_node(node)
        return {"id": node.id, "type": node.type, "properties": node.properties}
    if isinstance(value, GraphRelationship):
        start, end = _node(value.start_node), _node(value.end_node)
        graph.add_node(start)
        graph.add_node(end)
        edge = Edge(value.element_id, start.id, end.id, value.type, dict(value))
        graph.add_edge(edge)
        return {"type": edge.type, "start": start.id, "end": end.id, "properties": _plain(dict(value), graph)}
    if isinstance(value, GraphPath):
        return {"nodes": [_plain(n, graph) for n in value.nodes],
                "relationships": [_plain(r, graph) for r in value.relationships]}
    if isinstance(value, dict):
        return {k: _plain(v, graph) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, graph) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
