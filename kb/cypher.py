"""Cypher typed in by a user, run read-only behind four layers: EXPLAIN gate, read transaction,
server-side timeout (watched), row cap."""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field

import neo4j
from neo4j.exceptions import ClientError, CypherSyntaxError, Neo4jError
from neo4j.graph import Node as GraphNode
from neo4j.graph import Path as GraphPath
from neo4j.graph import Relationship as GraphRelationship

from kb import config, db
from kb.errors import QueryRefused, QueryTimeout, RunawayQuery
from kb.schema import ENTITY_LABEL
from kb.subgraph import Edge, Node, Subgraph

QUERY_TYPES = {"r": "only read", "rw": "read and write", "w": "write", "s": "change the schema"}
PLAN_PREFIX = re.compile(r"^\s*(EXPLAIN|PROFILE)\b", re.IGNORECASE)

# The gate reads the plan, not the text: the planner has already seen through comments, string
# literals, backticks and parameters. Neo4j calls SHOW TRANSACTIONS, TERMINATE TRANSACTIONS and
# SHOW SETTINGS reads (query type r), so the query type alone lets them through.
READ_PROCEDURES = ("db.labels", "db.relationshipTypes", "db.propertyKeys", "db.schema.visualization",
                   "db.schema.nodeTypeProperties", "db.schema.relTypeProperties", "db.index.fulltext.queryNodes")
# These two describe only the graph's own schema (and name the index db.index.fulltext.queryNodes
# needs); every other SHOW, and TERMINATE, is about the server, its users or other people's work.
SCHEMA_COMMANDS = ("ShowIndexes", "ShowConstraints")
COMMAND_OPERATOR = re.compile(r"^(Show|Terminate)[A-Z]|^AdministrationCommand$")
PROCEDURE_CALL = re.compile(r"^\s*`?([\w.]+)`?\(")
# Administration commands that Community cannot plan at all are refused by Neo4j with these codes.
ADMINISTRATION_ERRORS = ("Neo.ClientError.Statement.UnsupportedAdministrationCommand",
                         "Neo.ClientError.Statement.NotSystemDatabaseError")
ALLOWED = (f"Allowed here: read queries (MATCH, OPTIONAL MATCH, WITH, UNWIND, RETURN, CALL {{...}}, UNION), "
           f"SHOW INDEXES, SHOW CONSTRAINTS and the procedures {', '.join(READ_PROCEDURES)}. Nothing was run.")
ADMINISTRATION_REFUSED = ("Refused: administration commands (SHOW or TERMINATE TRANSACTIONS, SHOW SETTINGS, users, "
                          "roles, privileges, databases, servers, procedures, functions) are not allowed here. " + ALLOWED)
CONSOLE_TAG = "kb_console"     # transaction metadata that names a console query in SHOW TRANSACTIONS
TRANSACTIONS_OF_TAG = ("SHOW TRANSACTIONS YIELD transactionId, metaData "
                       "WHERE metaData." + CONSOLE_TAG + " = $tag RETURN transactionId")


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
    try:
        with db.driver().session(database=db.database(), default_access_mode=neo4j.READ_ACCESS) as session:
            summary = session.run("EXPLAIN " + text, params).consume()
    except CypherSyntaxError as error:
        raise QueryRefused(f"Not valid Cypher: {error.message}") from None
    except ClientError as error:
        if error.code in ADMINISTRATION_ERRORS:
            raise QueryRefused(ADMINISTRATION_REFUSED) from None
        raise QueryRefused(f"Neo4j refused the query: {error.message}") from None
    except db.UNREACHABLE_ERRORS as error:
        raise db.unavailable(error) from error
    if summary.plan is None:
        raise QueryRefused("Refused: Neo4j gave no plan for the query, so it cannot be checked. " + ALLOWED)
    for operator, details, database in _operators(summary.plan):
        _check_operator(operator, details, database)
    if summary.query_type != "r":
        what = QUERY_TYPES.get(summary.query_type, summary.query_type)
        raise QueryRefused(f"Refused: only read-only queries may run here, and this one would {what} "
                           f"(Neo4j query type '{summary.query_type}'). Nothing was run.")


def _operators(plan: dict):
    """(operator, details, database) of every operator in a plan, nested subqueries included."""
    operator, _, database = plan["operatorType"].partition("@")
    yield operator, plan.get("args", {}).get("Details") or "", database
    for child in plan.get("children", []):
        yield from _operators(child)


def _check_operator(operator: str, details: str, database: str) -> None:
    if COMMAND_OPERATOR.match(operator) and operator not in SCHEMA_COMMANDS:
        raise QueryRefused(ADMINISTRATION_REFUSED)
    if database and database.lower() != db.database().lower():
        raise QueryRefused(f"Refused: the query would run on the database {database!r}; only "
                           f"{db.database()!r} may be queried here. " + ALLOWED)
    if operator == "LoadCSV":
        raise QueryRefused("Refused: LOAD CSV reads files on the database server. " + ALLOWED)
    if operator == "ProcedureCall":
        called = PROCEDURE_CALL.match(details)
        name = called.group(1) if called else details
        if name not in READ_PROCEDURES:
            raise QueryRefused(f"Refused: the procedure {name} may not be called here. " + ALLOWED)


def run_read_only(text: str, params: dict | None = None, timeout: float | None = None,
                  max_rows: int | None = None) -> QueryResult:
    """Run a user's query read-only, within the timeout, returning at most max_rows rows."""
    params = dict(params or {})
    timeout = timeout or config.setting("query_timeout")
    max_rows = max_rows or config.setting("max_rows")
    check_read_only(text, params)
    columns, records = _run_watched(text, params, timeout, max_rows)
    graph = Subgraph()
    rows = [[_plain(value, graph) for value in record.values()] for record in records[:max_rows]]
    return QueryResult(list(columns), rows, len(records) > max_rows, max_rows, graph)


def _timed_out(timeout: float, how: str = "was stopped") -> QueryTimeout:
    return QueryTimeout(f"The query timed out after {timeout:g} s and {how}. "
                        "Narrow it (add a LIMIT or a more selective MATCH) or raise KB_QUERY_TIMEOUT.")


def _run_watched(text: str, params: dict, timeout: float, max_rows: int):
    """Layers 2 and 3: a managed read transaction whose timeout the server enforces, watched from
    here. Neo4j checks for termination between the steps of a plan, not inside one expression
    (a reduce() over millions of values runs on for minutes after its timeout): a query still
    running a grace period past its timeout raises RunawayQuery, which only an operation on the
    server can end (kb/ops/runaway.py; the interfaces decide)."""
    tag = secrets.token_hex(8)
    given_up = threading.Event()
    outcome = {}

    @neo4j.unit_of_work(timeout=timeout, metadata={CONSOLE_TAG: tag})
    def work(tx):
        # The driver retries a transaction whose server went away: never run a runaway query again.
        if given_up.is_set():
            raise _timed_out(timeout)
        result = tx.run(text, params)
        records = []
        for record in result:
            records.append(record)
            if len(records) > max_rows:
                break
        return result.keys(), records

    def call():
        try:
            outcome["value"] = db.read_tx(work)
        except Exception as error:   # handed to the caller's thread below
            outcome["error"] = error

    # A daemon thread: a query the server never answers must not keep `kb query` from exiting.
    worker = threading.Thread(target=call, name="kb-console-query", daemon=True)
    worker.start()
    worker.join(timeout + config.setting("query_grace"))
    if worker.is_alive():
        given_up.set()
        if not db.read(TRANSACTIONS_OF_TAG, tag=tag):
            raise _timed_out(timeout)
        raise RunawayQuery(_timed_out(timeout, "was stopped, but Neo4j goes on computing it (it checks for a stop "
                                              "only between steps of a plan)").args[0])
    error = outcome.get("error")
    if isinstance(error, ClientError) and "TransactionTimedOut" in (error.code or ""):
        raise _timed_out(timeout) from None
    if isinstance(error, Neo4jError):
        raise QueryRefused(f"Neo4j could not run the query: {error.message}") from None
    if error is not None:
        raise error
    return outcome["value"]


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
