"""User Cypher: read-only behind the EXPLAIN gate, a read transaction, a timeout and a row cap."""
import os
import threading
import time

import neo4j
import pytest
from click.testing import CliRunner
from neo4j.exceptions import Neo4jError

from kb import db
from kb.ops import runaway, server
from kb.cli import main
from kb.cypher import READ_PROCEDURES, run_read_only
from kb.errors import QueryRefused, QueryTimeout, RunawayQuery
from kb.saved_queries import SAVED_QUERIES
from tests.conftest import graph_counts, seed_entities

ALLOWED = None
ADMINISTRATION = "administration commands"
PROCEDURE = "may not be called here"

# Every clause of the Cypher manual's clause list and every administration command it lists (users,
# roles, privileges, databases, aliases, servers, settings, transactions), and attempts to slip one
# past the gate: comments, string literals, backticks, subqueries, USE. (query, None if allowed, else
# part of the refusal).
GATE = [
    # reading, projecting and subquery clauses
    ("MATCH (c:City) WHERE c.country = 'DE' RETURN c.name ORDER BY c.name SKIP 1 LIMIT 2", ALLOWED),
    ("OPTIONAL MATCH (c:City {id: 'no-such-id'}) RETURN c", ALLOWED),
    ("UNWIND [3, 1, 2] AS x WITH x WHERE x > 1 RETURN collect(x) AS xs", ALLOWED),
    ("MATCH (c:City) RETURN c.id AS id UNION MATCH (f:Company) RETURN f.id AS id", ALLOWED),
    ("MATCH (c:City) CALL (c) { MATCH (c)<-[:LOCATED_IN]-(o) RETURN count(o) AS n } RETURN c.id, n", ALLOWED),
    ("MATCH (c:City) WHERE EXISTS { MATCH (c)-[:LOCATED_IN]->() } RETURN count(c)", ALLOWED),
    ("MATCH (c:City) FINISH", ALLOWED),
    ("USE neo4j MATCH (n:Entity) RETURN count(n)", ALLOWED),
    ("MATCH p = shortestPath((a:City {id: 'city-foshan'})-[*..6]-(b:Company {id: 'firm-kuka'})) RETURN length(p)", ALLOWED),
    ("SHOW INDEXES", ALLOWED),
    ("SHOW FULLTEXT INDEXES YIELD name RETURN name", ALLOWED),
    ("SHOW CONSTRAINTS", ALLOWED),
    # a text that names forbidden things in comments and strings is still just a read
    ("MATCH (c:City) RETURN c.name /* SHOW TRANSACTIONS */ AS name, 'TERMINATE TRANSACTIONS' AS t // LOAD CSV", ALLOWED),
    ("MATCH (n:Entity) WHERE n.note CONTAINS 'LOAD CSV' OR n.note CONTAINS 'CALL dbms.listConfig()' RETURN n.id",
     ALLOWED),
    # the allow-listed procedures, backticks or not
    *[(f"CALL {name}()", ALLOWED) for name in READ_PROCEDURES if "fulltext" not in name],
    ("CALL `db`.`labels`() YIELD label RETURN label", ALLOWED),
    ("CALL db.index.fulltext.queryNodes('entity_search', 'foshan') YIELD node RETURN node.id", ALLOWED),
    # writing clauses and schema commands
    ("CREATE (n) RETURN n", "read and write"),
    ("MERGE (n:City {id: 'x'})", "would write"),
    ("MATCH (c:City) SET c.name = 'x'", "would write"),
    ("MATCH (c:City) REMOVE c.note", "would write"),
    ("MATCH (n) DETACH DELETE n", "would write"),
    ("MATCH (c:City) FOREACH (x IN [1] | SET c.x = x)", "would write"),
    ("CREATE INDEX idx FOR (n:City) ON (n.name)", "change the schema"),
    ("DROP CONSTRAINT entity_id IF EXISTS", "change the schema"),
    ("UNWIND [1] AS x CALL (x) { RETURN x AS y } IN TRANSACTIONS RETURN y", "could not run"),
    ("EXPLAIN MATCH (n) RETURN n", "Leave out EXPLAIN"),
    ("PROFILE MATCH (n) RETURN n", "Leave out EXPLAIN"),
    ("MATCH (n RETURN n", "Not valid Cypher"),
    ("   ", "empty"),
    # files on the server
    ("LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line", "LOAD CSV reads files"),
    ("LOAD /* a comment */ CSV FROM 'file:///etc/passwd' AS line RETURN line", "LOAD CSV reads files"),
    # transactions, settings, procedures and functions
    ("SHOW TRANSACTIONS", ADMINISTRATION),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", ADMINISTRATION),
    ("SHOW TRANSACTIONS YIELD transactionId AS id TERMINATE TRANSACTIONS id YIELD message RETURN id, message",
     ADMINISTRATION),
    ("/* just a comment */ show /* and another */ transactions", ADMINISTRATION),
    ("SHOW SETTINGS", ADMINISTRATION),
    ("SHOW SETTING 'server.directories.import' YIELD value RETURN value", ADMINISTRATION),
    ("SHOW PROCEDURES", ADMINISTRATION),
    ("SHOW FUNCTIONS", ADMINISTRATION),
    ("USE system SHOW TRANSACTIONS", ADMINISTRATION),
    # users, roles, privileges
    ("SHOW USERS", ADMINISTRATION),
    ("SHOW CURRENT USER", ADMINISTRATION),
    ("CREATE USER mallory SET PASSWORD 'mallory-secret'", ADMINISTRATION),
    ("ALTER USER neo4j SET PASSWORD 'changed-by-console'", ADMINISTRATION),
    ("ALTER CURRENT USER SET PASSWORD FROM 'old-password' TO 'new-password'", ADMINISTRATION),
    ("DROP USER neo4j", ADMINISTRATION),
    ("SHOW ROLES", ADMINISTRATION),
    ("CREATE ROLE researcher", ADMINISTRATION),
    ("GRANT ROLE admin TO mallory", ADMINISTRATION),
    ("DENY MATCH {*} ON GRAPH * TO reader", ADMINISTRATION),
    ("REVOKE ROLE admin FROM neo4j", ADMINISTRATION),
    ("SHOW PRIVILEGES", ADMINISTRATION),
    # databases, aliases, servers
    ("SHOW DATABASES", ADMINISTRATION),
    ("SHOW DEFAULT DATABASE", ADMINISTRATION),
    ("CREATE DATABASE other", ADMINISTRATION),
    ("ALTER DATABASE neo4j SET ACCESS READ ONLY", ADMINISTRATION),
    ("STOP DATABASE neo4j", ADMINISTRATION),
    ("START DATABASE neo4j", ADMINISTRATION),
    ("DROP DATABASE neo4j", ADMINISTRATION),
    ("CREATE ALIAS other FOR DATABASE neo4j", ADMINISTRATION),
    ("SHOW ALIASES FOR DATABASE", ADMINISTRATION),
    ("SHOW SERVERS", ADMINISTRATION),
    ("USE system SHOW USERS", "not required for Administration Commands"),
    ("USE system MATCH (n) RETURN n", "unsupported clauses"),
    # procedures off the allow-list, however they are called
    ("CALL dbms.listConfig()", PROCEDURE),
    ("CALL dbms.components()", PROCEDURE),
    ("CALL db.info()", PROCEDURE),
    ("CALL db.createLabel('Mallory')", PROCEDURE),
    ("CALL dbms.killConnections(['bolt-1'])", PROCEDURE),
    ("CALL `dbms`.`listConfig`()", PROCEDURE),
    ("MATCH (c:City) CALL { CALL dbms.listConfig() YIELD name RETURN name } RETURN c.id, name", PROCEDURE),
    ("MATCH (c:City) WHERE EXISTS { CALL dbms.components() YIELD name RETURN name } RETURN c.id", PROCEDURE),
    ("RETURN COUNT { CALL dbms.listConfig() YIELD name RETURN name } AS settings", PROCEDURE),
    ("MATCH (c:City) RETURN [x IN COLLECT { CALL dbms.listConfig() YIELD name RETURN name } | x] AS names", PROCEDURE),
    ("CALL db.labels() YIELD label CALL dbms.components() YIELD name RETURN label, name", PROCEDURE),
    ("CALL db.labels() YIELD label RETURN label UNION CALL dbms.listConfig() YIELD name RETURN name AS label",
     PROCEDURE),
    # query options and a hidden EXPLAIN change nothing
    ("CYPHER runtime=slotted SHOW TRANSACTIONS", ADMINISTRATION),
    ("/* first a comment */ EXPLAIN SHOW TRANSACTIONS", ADMINISTRATION),
]


def users() -> list[str]:
    records, _, _ = db.driver().execute_query("SHOW USERS YIELD user RETURN user", database_="system")
    return sorted(record["user"] for record in records)


@pytest.mark.parametrize("text, refusal", GATE)
def test_the_gate_allows_reads_and_refuses_the_rest(seeded_readonly, text, refusal):
    before = graph_counts(), users()
    if refusal is ALLOWED:
        result = run_read_only(text)
        # What the console shows is what the driver reads: the same columns, rows and plain values.
        direct = db.driver().execute_query(text, database_=db.database(), routing_="r")
        assert result.columns == list(direct.keys), text
        assert len(result.rows) == len(direct.records), text
        scalar = (str, int, float, bool, type(None))
        # SHOW commands report live counters (an index's reads), which change from one call to the next.
        for shown, record in zip(result.rows, direct.records) if not text.startswith("SHOW") else ():
            assert [value for value in shown if isinstance(value, scalar)] == \
                [value for value in record.values() if isinstance(value, scalar)], text
    else:
        with pytest.raises(QueryRefused, match=refusal) as refused:
            run_read_only(text)
        if refusal in (ADMINISTRATION, PROCEDURE):
            assert "Allowed here:" in str(refused.value) and "db.labels" in str(refused.value)
    assert (graph_counts(), users()) == before


def test_the_gate_table_covers_enough_cases():
    assert len(GATE) >= 30 and sum(refusal is ALLOWED for _, refusal in GATE) >= 10


# Long, but stopped at its timeout: each row passes between operators.
SLOW = "UNWIND range(1, 2000000000) AS x WITH x WHERE x % 1000000007 = 3 RETURN count(*)"


@pytest.fixture
def busy_transaction(seeded_readonly):
    """Someone else's transaction, running on the server meanwhile: its id."""
    def run():
        try:
            with db.driver().session(database=db.database()) as session:
                session.run(neo4j.Query(SLOW, timeout=30)).consume()
        except Neo4jError:     # terminated at the end of the test
            pass

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    found, deadline = [], time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = db.read("SHOW TRANSACTIONS YIELD transactionId, currentQuery WHERE currentQuery = $q "
                        "RETURN transactionId", q=SLOW)
    assert found, "the busy transaction did not start"
    yield found[0]["transactionId"]
    db.read("TERMINATE TRANSACTIONS $id", id=found[0]["transactionId"])
    worker.join(10)


def test_the_console_can_neither_list_nor_end_other_transactions(busy_transaction):
    with pytest.raises(QueryRefused, match=ADMINISTRATION):
        run_read_only("SHOW TRANSACTIONS")
    with pytest.raises(QueryRefused, match=ADMINISTRATION):
        run_read_only(f"TERMINATE TRANSACTIONS '{busy_transaction}'")
    status = db.read("SHOW TRANSACTIONS YIELD transactionId, status WHERE transactionId = $id RETURN status",
                     id=busy_transaction)
    assert [row["status"] for row in status] == ["Running"]


@pytest.mark.parametrize("text", ["SHOW TRANSACTIONS", "TERMINATE TRANSACTIONS 'neo4j-transaction-1'"])
def test_kb_query_refuses_administration_commands(seeded_readonly, text):
    result = CliRunner().invoke(main, ["query", text])
    assert result.exit_code == 1 and ADMINISTRATION in result.output, result.output
    assert "transactionId" not in result.output


def test_procedures_and_matches_run(seeded_readonly):
    labels = run_read_only("CALL db.labels()")
    assert ["City"] in labels.rows and labels.columns == ["label"]
    cities = run_read_only("MATCH (c:City) WHERE c.country = $country RETURN c.name ORDER BY c.name",
                           {"country": "DE"})
    seeded = seed_entities()
    assert [row[0] for row in cities.rows] == sorted(entity["name"] for entity in seeded
                                                     if entity["type"] == "City" and entity.get("country") == "DE")


def test_rows_are_capped_with_a_notice(seeded_readonly):
    result = run_read_only("MATCH (n:Entity) RETURN n.id", max_rows=5)
    assert len(result.rows) == 5 and result.truncated
    assert result.notice() == "Truncated at 5 rows: the query returns more."
    entities = graph_counts()[0]
    assert not run_read_only("MATCH (n:Entity) RETURN n.id", max_rows=entities).truncated


def test_a_long_query_is_stopped_at_the_timeout(seeded_readonly):
    pid = server.status().pid
    with pytest.raises(QueryTimeout, match="timed out after 1 s and was stopped[.]"):
        run_read_only(SLOW, timeout=1)
    assert server.status().pid == pid      # stopped between operators: no restart needed


# One expression that builds a 50 MB string by quadratic copying: Neo4j checks for termination
# between operators only, so it ran for minutes after its timeout on a server left alone.
RUNAWAY = "RETURN size(reduce(s='', x IN range(1,5000000) | s + 'abcdefghij'))"


@pytest.mark.restarts
@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="only the local server can be restarted")
def test_a_runaway_query_does_not_hold_the_server(seeded_readonly, monkeypatch):
    monkeypatch.setenv("KB_QUERY_GRACE", "2")
    count_cities = "MATCH (c:City) RETURN count(c)"
    before, cities, pid = graph_counts(), run_read_only(count_cities).rows, server.status().pid
    with pytest.raises(RunawayQuery, match="goes on computing it") as runaway_error:
        run_read_only(RUNAWAY, timeout=2)
    assert server.status().pid == pid, "the core never restarts the server: an interface asks for it"
    with pytest.raises(QueryTimeout, match="local server was restarted to end it"):
        raise runaway.end(runaway_error.value)
    assert "kb: a console query outlived its timeout" in server.log_file().read_text(encoding="utf-8")
    assert run_read_only(count_cities).rows == cities
    assert db.read("SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery = $q RETURN currentQuery", q=RUNAWAY) == []
    assert server.status().pid != pid and graph_counts() == before
    imports = db.read("SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.import' RETURN value")
    assert imports[0]["value"] == str(server.import_dir())    # restarted with the same settings


@pytest.mark.restarts
@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="needs the project's local test server")
def test_a_runaway_query_leaves_a_shared_server_running(seeded_readonly, monkeypatch):
    monkeypatch.setenv("KB_QUERY_GRACE", "2")
    monkeypatch.setenv("KB_RESTART_RUNAWAY", "0")
    pid = server.status().pid
    with pytest.raises(RunawayQuery) as caught:
        run_read_only(RUNAWAY, timeout=2)
    message = str(runaway.end(caught.value))
    try:
        assert "Restarting the local server is off here (KB_RESTART_RUNAWAY=0)" in message, message
        assert server.status().pid == pid, "restarts are off: the server keeps running"
    finally:
        server.restart(echo=lambda m: None)     # the query would hold a core for minutes


def test_nodes_and_relationships_come_back_as_a_graph(seeded_readonly):
    result = run_read_only("MATCH (a:Company {id: 'firm-midea'})-[r:OWNS]->(b) RETURN a, r, b")
    assert set(result.graph.nodes) == {"firm-midea", "firm-kuka"}
    assert [e.type for e in result.graph.edges.values()] == ["OWNS"]
    assert result.rows[0][1]["properties"]["sources"] == ["src-foshan-2019"]


@pytest.mark.parametrize("saved", SAVED_QUERIES, ids=lambda q: q.name)
def test_every_saved_query_returns_rows(seeded_readonly, saved):
    assert run_read_only(saved.cypher, saved.params).rows, saved.name
