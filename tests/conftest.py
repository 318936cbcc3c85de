"""Fixtures: a real Neo4j for the whole run (the project's local server on a free port with a
temporary data folder, or the database named by NEO4J_URI), cleaned between tests; one Streamlit app
and one headless Chromium for the whole run, shared by the browser tests (each test gets a fresh
browser context: its own cookies, storage and request routing). Under pytest-xdist (`make test`) each
worker process has its own of each; the test files are shared out whole among the workers."""
from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from playwright import sync_api as playwright_api

from bench import synthetic
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
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            pytest.exit("NEO4J_URI is set: the test workers would share one database. Run with TEST_WORKERS=0.")
        yield config.connection()
        return
    home = Path(tempfile.mkdtemp(prefix="kb-test-"))
    os.environ["KB_HOME"] = str(home)
    os.environ["KB_NEO4J_PORT"] = str(free_port())
    os.environ["KB_NEO4J_HTTP_PORT"] = str(free_port())
    # The suite is short runs on two cores: the JVM's quick compiler alone halves the servers' CPU.
    os.environ.setdefault("KB_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1")
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


# The database's version (kb.db.graph_version: it changes with every commit, schema included) and
# counts right after the seeds were last loaded.
_seeds_loaded_at: list = []
# The graph the run's first load of the seeds wrote, as copy_graph() took it.
_seed_graph: dict = {}


def load_seeds() -> None:
    """Exactly the curated seeds with the schema's constraints and indexes; loaded again only when the
    database has committed anything since the last load (most tests only read). The seed files go
    through the loader once per process; later the graph that load wrote is put back as it was (a
    load costs 7 to 15 s, putting its graph back about one)."""
    if _seeds_loaded_at == [db.graph_version(), graph_counts()]:
        return
    wipe()
    ddl.init()
    if _seed_graph:
        put_back(_seed_graph)
    else:
        pipeline.load(seed.reader([SEEDS]), show_progress=False)
        _seed_graph.update(copy_graph())
    _seeds_loaded_at[:] = [db.graph_version(), graph_counts()]


def copy_graph() -> dict:
    """Every node (its labels and properties) and relation (its ends, type and properties) of the database."""
    nodes = db.read("MATCH (n) RETURN elementId(n) AS key, labels(n) AS labels, properties(n) AS properties")
    relations = db.read("MATCH (a)-[r]->(b) RETURN elementId(a) AS start, elementId(b) AS end, type(r) AS type, "
                        "properties(r) AS properties")
    return {"nodes": [node.data() for node in nodes], "relations": [relation.data() for relation in relations]}


def put_back(graph: dict) -> None:
    """Write a copy_graph() copy into an empty database, in one transaction, and wait for the search index."""
    def work(tx):
        new_key = {record["old"]: record["new"] for record in tx.run(
            "UNWIND $nodes AS node CREATE (n:$(node.labels)) SET n = node.properties "
            "RETURN node.key AS old, elementId(n) AS new", nodes=graph["nodes"])}
        relations = [{**relation, "start": new_key[relation["start"]], "end": new_key[relation["end"]]}
                     for relation in graph["relations"]]
        tx.run("UNWIND $relations AS relation MATCH (a) WHERE elementId(a) = relation.start "
               "MATCH (b) WHERE elementId(b) = relation.end "
               "CREATE (a)-[r:$(relation.type)]->(b) SET r = relation.properties", relations=relations).consume()
    db.write_tx(work)
    ddl.await_search_index()  # eventually consistent: searchable once this returns, as after a load


@pytest.fixture
def seeded_db(neo4j_server):
    """The database holding exactly the curated seeds."""
    load_seeds()
    return neo4j_server


@pytest.fixture(scope="module")
def seeded_readonly(neo4j_server):
    """The seeds, for a module's tests that only read."""
    load_seeds()
    return neo4j_server


# The size for the tests of scale: the backup round trips and the load under eight sessions.
GRAPH_100K = {"entities": 20_000, "relations": 100_000, "seed": 5}


@pytest.fixture(scope="session")
def graph_100k(tmp_path_factory) -> tuple[Path, dict]:
    """A generated graph of 100,000 relations, written once for the run (several seconds) and only read
    by the tests that load it: its folder and what the generator wrote."""
    folder = tmp_path_factory.mktemp("graph-100k")
    return folder, synthetic.generate(out=folder, **GRAPH_100K)


def graph_counts() -> tuple[int, int]:
    nodes = db.read("MATCH (n) RETURN count(n) AS c")[0]["c"]
    relations = db.read("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
    return nodes, relations


@functools.cache
def _seed_files() -> tuple[tuple[Path, dict], ...]:
    """Each seed file and what it holds, parsed once per run (the files do not change during one)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple((path, yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {})
                 for path in sorted(SEEDS.rglob("*.yaml")))


def seed_file_records(section: str, folder: Path = SEEDS) -> list[tuple[Path, dict]]:
    """Every record of a section (entities, relations, retracted) of the seed files in folder with its file,
    read from the files themselves (not through the loader), so that tests follow the data as it grows."""
    return [(path, record) for path, document in _seed_files() if path.is_relative_to(folder)
            for record in document.get(section) or []]


def seed_records(section: str) -> list[dict]:
    return [record for _, record in seed_file_records(section)]


def seed_entities() -> list[dict]:
    return seed_records("entities")


def seed_sources() -> dict:
    """Source id -> its record in the seed files."""
    return {entity["id"]: entity for entity in seed_entities() if entity["type"] == "Source"}


def tie_identity(tie: dict) -> tuple:
    """What makes a seed file's tie one tie in the database: its type, its ends (a symmetric tie's in id
    order) and its relation's key property, if any."""
    from kb.schema import schema
    relation = schema().relation(tie["type"])
    ends = (tie["from"], tie["to"])
    if relation.symmetric:
        ends = tuple(sorted(ends))
    return (tie["type"], *ends, tie.get(relation.key) if relation.key else None)


def seed_ties() -> list[dict]:
    """Each distinct tie of the seed files once, as the database holds it (a symmetric tie once, its ends in
    id order): a tie stated in two files counts once."""
    found = {}
    for tie in seed_records("relations"):
        identity = tie_identity(tie)
        found[identity] = {**tie, "from": identity[1], "to": identity[2]}
    return list(found.values())


def seed_counts() -> tuple[dict, dict]:
    """Entities by type and distinct relations by type that the seed files hold."""
    return dict(Counter(entity["type"] for entity in seed_entities())), dict(Counter(tie["type"] for tie in seed_ties()))


# Statuses of ties that never held: plans, failed deals, lapsed records, unsigned contacts (the rule docs/querying.md states).
NEVER_HELD = {"planned", "announced", "abandoned", "pending", "blocked", "withdrawn", "inactive", "informal"}


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
WAIT_MS = 60_000


@pytest.fixture(scope="session")
def app_url(neo4j_server):
    """`streamlit run app.py` on a free loopback port with the test database's settings, started once
    for the run (a start costs seconds): the browser tests all read the seeds, so what the app caches
    for one of them holds for the next, and each test opens its own browser session. Modules in between
    restart the server and replace its database (bulk mode, restores): the app reads on, as a served
    app must (kb.db carries no bookmark of a replaced database from one read to the next)."""
    port = free_port()
    log = open(config.home() / "streamlit.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=config.PROJECT_ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/_stcore/health", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for(health_url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"streamlit exited; see {config.home() / 'streamlit.log'}"
        try:
            with urllib.request.urlopen(health_url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer at {health_url} within {seconds} s")


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the run (a launch costs seconds). Playwright's sync API allows one
    driver per thread: a test that needs a browser takes this one (or browser_page) and opens its own
    context, it never starts `sync_playwright()` itself."""
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def only_loopback(blocked: list):
    """A route handler that aborts every request to a host other than loopback and lists it in blocked."""
    def route_request(route):
        parts = urlsplit(route.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            blocked.append(route.request.url)
            route.abort()
        else:
            route.continue_()
    return route_request


@pytest.fixture
def browser_page(chromium):
    """A page in a fresh context of the shared Chromium whose requests to any non-loopback host are
    aborted; yields (page, blocked)."""
    blocked = []
    context = chromium.new_context(viewport={"width": 1400, "height": 1100})
    context.route("**/*", only_loopback(blocked))
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page, blocked
    context.close()


BROWSER_FIXTURES = {"browser_page", "app_url", "chromium"}


def pytest_configure(config):
    """Build the local server's launcher once, before any worker starts a server: workers starting
    together on a fresh clone would otherwise run Maven in the same folder at the same time."""
    if os.environ.get("NEO4J_URI") or hasattr(config, "workerinput") or server.is_built():
        return
    server.build(echo=lambda message: None)


def pytest_collection_modifyitems(items):
    """A test that drives the app in Chromium is a browser test, whether or not its module says so
    (`make test-fast` leaves them out)."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
