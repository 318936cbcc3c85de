"""Fixtures: a real Neo4j for the whole run (the project's local server on a free port with a
temporary data folder, or the database named by NEO4J_URI), cleaned between tests."""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from kb import config, db, ddl
from kb.ops import backup, server
from loaders import pipeline, seed

SEEDS = config.PROJECT_ROOT / "seeds"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def neo4j_server():
    """The database the tests use; a local server is started here and stopped at the end."""
    if os.environ.get("NEO4J_URI"):
        if os.environ.get("KB_TEST_ALLOW_WIPE") != "1":
            pytest.exit("NEO4J_URI is set: the tests empty that database. Set KB_TEST_ALLOW_WIPE=1 to allow it.")
        yield config.connection()
        return
    home = Path(tempfile.mkdtemp(prefix="kb-test-"))
    os.environ["KB_HOME"] = str(home)
    os.environ["KB_NEO4J_PORT"] = str(free_port())
    os.environ["KB_NEO4J_HTTP_PORT"] = str(free_port())
    os.environ.pop("NEO4J_PASSWORD", None)
    db.close()
    server.start(echo=lambda message: None)
    yield config.connection()
    db.close()
    server.stop()


def wipe() -> None:
    backup.wipe()


@pytest.fixture
def empty_db(neo4j_server):
    """An empty database with the schema's constraints and indexes."""
    wipe()
    ddl.init()
    return neo4j_server


@pytest.fixture
def seeded_db(empty_db):
    """The database holding exactly the curated seeds."""
    pipeline.load(seed.reader([SEEDS]), show_progress=False)
    return empty_db


@pytest.fixture(scope="module")
def seeded_readonly(neo4j_server):
    """The seeds, loaded once per module, for tests that only read."""
    wipe()
    ddl.init()
    pipeline.load(seed.reader([SEEDS]), show_progress=False)
    return neo4j_server


def graph_counts() -> tuple[int, int]:
    nodes = db.read("MATCH (n) RETURN count(n) AS c")[0]["c"]
    relations = db.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    return nodes, relations


def _seed_documents() -> list[dict]:
    import yaml
    return [yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in sorted(SEEDS.rglob("*.yaml"))]


def seed_entities() -> list[dict]:
    """Every entity record of the seed files, read from the files themselves."""
    return [entity for document in _seed_documents() for entity in document.get("entities") or []]


def seed_counts() -> tuple[dict, dict]:
    """Entities by type and relations by type that the seed files hold, read from the files
    themselves (not through the loader), so that tests follow the data as it grows."""
    from kb.schema import schema
    entities, relations, ties = {}, {}, set()
    for entity in seed_entities():
        entities[entity["type"]] = entities.get(entity["type"], 0) + 1
    for document in _seed_documents():
        for relation in document.get("relations") or []:
            relation_type = schema().relation(relation["type"])
            ends = (relation["from"], relation["to"])
            if relation_type.symmetric:
                ends = tuple(sorted(ends))
            key = relation.get(relation_type.key) if relation_type.key else None
            ties.add((relation["type"], *ends, key))
    for relation_type, *_ in ties:
        relations[relation_type] = relations.get(relation_type, 0) + 1
    return entities, relations


# Statuses of ties that never held: plans, failed deals, lapsed records (the rule the README states).
NEVER_HELD = {"planned", "announced", "abandoned", "pending", "blocked", "withdrawn", "inactive"}


def tie_in_force(tie: dict, when: int | None, undated: bool = True) -> bool:
    """A seed file's tie in force in the year `when`, the rule written out apart from the Cypher: begun
    that year or earlier (`since`), not ended before it (`until`), and not a plan or a failed deal;
    a tie without `since` is undated, kept unless undated ties are hidden. No year: every tie."""
    if when is None:
        return True
    since, until = (int(str(value)[:4]) if value else None for value in (tie.get("since"), tie.get("until")))
    if (since is None and not undated) or tie.get("status") in NEVER_HELD:
        return False
    return (since is None or since <= when) and (until is None or until >= when)


def seed_totals() -> tuple[int, int]:
    """How many entities and distinct relations the seed files hold."""
    entities, relations = seed_counts()
    return sum(entities.values()), sum(relations.values())


BROWSER_FIXTURES = {"browser_page", "app_url"}


def pytest_collection_modifyitems(items):
    """A test that drives the app in Chromium is a browser test, whether or not its module says so
    (`make test-fast` leaves them out)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
