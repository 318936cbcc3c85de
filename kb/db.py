"""The one Neo4j driver of the process and the managed transactions every module goes through."""
from __future__ import annotations

import logging
import os
import threading
from urllib.parse import urlsplit

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import (AuthError, ClientError, ConfigurationError, DriverError, Neo4jError,
                              ServiceUnavailable, SessionExpired)

from kb import config
from kb.errors import DatabaseRefused, DatabaseUnavailable, KBError, ReadTimedOut, SettingError

_lock = threading.Lock()
_driver: neo4j.Driver | None = None

UNREACHABLE_ERRORS = (ServiceUnavailable, SessionExpired, ConnectionError)
DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"
# Names this process's connections to the server (dbms.listConnections), so that a bulk load can
# tell another client's from its own.
USER_AGENT = f"kb/{os.getpid()}"
# Everything the driver raises: what `explain` turns into one clear error.
DRIVER_ERRORS = (Neo4jError, DriverError)


class _RetriesAtDebug(logging.Filter):
    """The driver warns on each retry of a failing transaction; to a user that is noise before the one
    clear message that follows, so the record goes on at debug level (shown by `kb --verbose`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "will be retried" in str(record.msg):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


logging.getLogger("neo4j.session").addFilter(_RetriesAtDebug())


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
            try:
                urlsplit(conn.uri).port     # a bad port: the driver would only fail on connecting, untidily
                _driver = GraphDatabase.driver(conn.uri, auth=(conn.username, config.password(conn)),
                                               connection_acquisition_timeout=15, max_transaction_retry_time=3,
                                               user_agent=USER_AGENT,
                                               notifications_min_severity="OFF")
            except (ConfigurationError, ValueError) as error:
                raise SettingError(f"NEO4J_URI={conn.uri!r} cannot be used: {error}") from None
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


def explain(error: Exception) -> KBError:
    """One clear error for a driver error that reached the command line unexplained."""
    if isinstance(error, (AuthError, *UNREACHABLE_ERRORS)):
        return unavailable(error)
    conn = config.connection()
    if isinstance(error, Neo4jError) and error.code == DATABASE_NOT_FOUND:
        return DatabaseUnavailable(f"Neo4j at {conn.uri} has no database {conn.database!r}: check NEO4J_DATABASE.")
    text = (error.message if isinstance(error, Neo4jError) and error.message else str(error)) or type(error).__name__
    return DatabaseRefused(f"Neo4j at {conn.uri} could not do it: {' '.join(text.split())}")


def read(query, **params) -> list[neo4j.Record]:
    """Run a read query in a managed read transaction, stopped by the server after KB_READ_TIMEOUT s."""
    timeout = config.setting("read_timeout")
    try:
        return _run(neo4j.Query(query, timeout=timeout), params, RoutingControl.READ)
    except ClientError as error:
        if "TransactionTimedOut" not in (error.code or ""):
            raise
        raise ReadTimedOut(f"The database took more than {timeout:g} s to answer and the read was stopped: "
                           "ask for less (a lower depth, a filter, a smaller cap) or raise KB_READ_TIMEOUT.") from None


def write(query, **params) -> list[neo4j.Record]:
    """Run a write query in a managed write transaction and return its records."""
    return _run(query, params, RoutingControl.WRITE)


def _run(query, params, routing) -> list[neo4j.Record]:
    # No bookmarks carried from one call to the next (each call is a unit of work of its own, as each
    # session of read_tx and write_tx is): a database replaced under a long-lived process (a restore
    # from a dump, a bulk import) counts its transactions from the start again, and a bookmark of the
    # old one made every later read of the app wait for a transaction that never comes, until it timed out.
    try:
        records, _, _ = driver().execute_query(query, params, routing_=routing, database_=database(),
                                               bookmark_manager_=None)
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


# When the server's Java process started: a dump restored or an offline import replaces the store and
# starts the server again, and the new store counts its transactions on from where the replaced one had
# reached, so its bookmarks can repeat those of another graph (seen: a dump restored and written to once
# gave the bookmark that the graph it replaced had after one write).
SERVER_STARTED_QUERY = ("CALL dbms.queryJmx('java.lang:type=Runtime') YIELD attributes "
                        "RETURN toString(attributes.StartTime.value) AS started")
SERVER_START_UNKNOWN_QUERY = "RETURN 'start unknown' AS started"


def graph_version() -> str:
    """What changes whenever the database commits or is replaced: the bookmark of a read transaction,
    which names the last committed transaction, and when the server last started. Any write (a load,
    an edit, a new index) makes a new one, so a result computed for one version holds until then (the
    Overview's and the analysis' caches)."""
    try:
        with driver().session(database=database()) as session:
            try:
                started = session.execute_read(_single_value, SERVER_STARTED_QUERY)
            except ClientError:     # a hosted Neo4j may keep its Java beans from its users
                started = session.execute_read(_single_value, SERVER_START_UNKNOWN_QUERY)
            bookmarks = session.last_bookmarks()
    except (AuthError, *UNREACHABLE_ERRORS) as error:
        raise unavailable(error) from error
    return f"{config.connection().uri}|{database()}|{started}|{'|'.join(sorted(bookmarks.raw_values))}"


def _single_value(tx, query: str):
    return tx.run(query).single(strict=True).value()


def ping() -> None:
    """Raise DatabaseUnavailable unless the database answers."""
    read("RETURN 1")
