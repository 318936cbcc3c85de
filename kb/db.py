"""The one Neo4j driver of the process and the managed transactions every module goes through."""
from __future__ import annotations

import threading

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired

from kb import config
from kb.errors import DatabaseUnavailable

_lock = threading.Lock()
_driver: neo4j.Driver | None = None

UNREACHABLE_ERRORS = (ServiceUnavailable, SessionExpired, ConnectionError)


def unavailable_message(conn: config.Connection) -> str:
    if conn.local:
        return (f"The knowledge base database at {conn.uri} is not reachable. "
                "Start it with `kb server start`, or set NEO4J_URI to another Neo4j.")
    return (f"The Neo4j database at {conn.uri} (NEO4J_URI) is not reachable. "
            "Check NEO4J_URI, NEO4J_USERNAME and NEO4J_PASSWORD, and that the server is running.")


def driver() -> neo4j.Driver:
    """The process's driver, created on first use."""
    global _driver
    with _lock:
        if _driver is None:
            conn = config.connection()
            _driver = GraphDatabase.driver(conn.uri, auth=(conn.username, config.password(conn)),
                                           connection_acquisition_timeout=15, max_transaction_retry_time=3,
                                           notifications_min_severity="OFF")
        return _driver


def close() -> None:
    """Close the driver (tests and the server commands switch databases)."""
    global _driver
    with _lock:
        if _driver is not None:
            _driver.close()
            _driver = None


def database() -> str:
    return config.connection().database


def unavailable(error: Exception) -> DatabaseUnavailable:
    """The friendly error for a driver error that means the database cannot be used."""
    conn = config.connection()
    if isinstance(error, AuthError):
        return DatabaseUnavailable(f"Neo4j at {conn.uri} refused the credentials: check NEO4J_USERNAME and NEO4J_PASSWORD.")
    return DatabaseUnavailable(unavailable_message(conn))


def read(query, **params) -> list[neo4j.Record]:
    """Run a read query in a managed read transaction and return its records."""
    return _run(query, params, RoutingControl.READ)


def write(query, **params) -> list[neo4j.Record]:
    """Run a write query in a managed write transaction and return its records."""
    return _run(query, params, RoutingControl.WRITE)


def _run(query, params, routing) -> list[neo4j.Record]:
    try:
        records, _, _ = driver().execute_query(query, params, routing_=routing, database_=database())
    except (AuthError, *UNREACHABLE_ERRORS) as error:
        raise unavailable(error) from error
    return records


def read_tx(work, *args, **kwargs):
    """Run `work(tx, ...)` in a managed read transaction (results consumed inside `work`)."""
    return _session_call("execute_read", work, args, kwargs)


def write_tx(work, *args, **kwargs):
    """Run `work(tx, ...)` in a managed write transaction."""
    return _session_call("execute_write", work, args, kwargs)


def _session_call(method, work, args, kwargs):
    try:
        with driver().session(database=database()) as session:
            return getattr(session, method)(work, *args, **kwargs)
    except (AuthError, *UNREACHABLE_ERRORS) as error:
        raise unavailable(error) from error


def autocommit(query, **params) -> None:
    """Run a query that manages its own transactions (CALL ... IN TRANSACTIONS, LOAD CSV batches)."""
    try:
        with driver().session(database=database()) as session:
            session.run(query, params).consume()
    except (AuthError, *UNREACHABLE_ERRORS) as error:
        raise unavailable(error) from error


def ping() -> None:
    """Raise DatabaseUnavailable unless the database answers."""
    read("RETURN 1")
