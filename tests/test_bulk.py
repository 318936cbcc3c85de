"""Bulk mode (loaders/bulk.py): neo4j-admin's offline import gives the graph an incremental load
gives; it is refused, in one line, where it cannot run; an import that fails or is killed leaves
the database empty, and a load run again then succeeds."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import neo4j
import pytest
from click.testing import CliRunner

from bench import synthetic
from kb import config, db, ddl, export, search
from kb.ops import admin, server
from kb.cli import main
from kb.errors import BulkLoadError
from loaders import bulk, by_path, pipeline
from tests.conftest import SEEDS, graph_counts, seed_totals, wipe

pytestmark = [pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="bulk mode imports into the local server"),
              pytest.mark.restarts]


@pytest.fixture(autouse=True)
def patient_restarts(monkeypatch):
    """Each bulk load restarts the server, which takes minutes on a busy shared machine."""
    monkeypatch.setenv("KB_NEO4J_STARTUP_TIMEOUT", "900")

# Values the CSV files must carry through unchanged: commas, quotes, line breaks, umlauts, Chinese,
# an int, a boolean; a symmetric tie given against id order, and one person holding two offices in
# one city (two ties told apart by their role).
TRICKY_NODES = '''id:ID,:LABEL,name,aliases:string[],sources:string[],note,member_count:int,kind
org-bulk-test,Organization,"Verein ""Brücke"", Köln",Brücke-Verein;桥协会,src-foshan-2019;src-reference,"A note
on two lines",42,association
'''
TRICKY_RELATIONS = ''':START_ID,:END_ID,:TYPE,sources:string[],note,role,founding:boolean,since
city-goettingen,city-foshan,COOPERATES_WITH,src-foshan-2019;src-reference,"with a ""quote"", a comma
and a line break",,,2019
city-goettingen,org-bulk-test,MEMBER_OF,src-reference,,,true,
org-bulk-test,city-foshan,LOCATED_IN,src-reference,,,,
city-xinbei,city-jiading,SISTER_CITY_OF,src-reference,,,,2011
person-zhu-wei,city-foshan,HOLDS_OFFICE,src-reference,,Honorary adviser,,
person-zhu-wei,city-foshan,HOLDS_OFFICE,src-foshan-2019,,Party Secretary,,
'''
# One new tie stated twice, by two sources: one tie citing both, the later values replacing the
# earlier ones (as loaders/writer.py's MERGE documents it).
TWICE = ''':START_ID,:END_ID,:TYPE,sources:string[],note,since
city-goettingen,city-foshan,COOPERATES_WITH,src-foshan-2019,first,2018
city-goettingen,city-foshan,COOPERATES_WITH,src-reference,second,
'''


def tricky_seeds(folder: Path) -> list[Path]:
    (folder / "nodes.csv").write_text(TRICKY_NODES, encoding="utf-8")
    (folder / "relationships.csv").write_text(TRICKY_RELATIONS, encoding="utf-8")
    return [SEEDS, folder]


def generated(folder: Path) -> list[Path]:
    """Every generated type; more rows than one chunk of the load's spool (loaders/spool.py), so that the
    bulk import's files are written across chunks."""
    synthetic.generate(entities=1500, relations=6000, seed=11, out=folder)
    return [folder]


def empty_database() -> None:
    wipe()
    ddl.init()


def full_graph(folder: Path) -> dict:
    """The kb export (JSON lines with their keys sorted, as a property map has no order; the lines
    sorted, as ties between the same two entities come in any order) and every node's labels and
    properties with the search keys, every relation's ends, type and properties, read from the
    database."""
    out = folder / "export.jsonl"
    export.export("jsonl", out)
    nodes = db.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    relations = db.read("MATCH (a)-[r]->(b) RETURN a.id AS start, type(r) AS type, b.id AS end, "
                        "properties(r) AS props")
    canonical = lambda values: sorted(json.dumps(value, sort_keys=True, ensure_ascii=False) for value in values)
    return {"export": canonical(json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()),
            "nodes": canonical({"labels": sorted(r["labels"]), "props": r["props"]} for r in nodes),
            "relations": canonical(r.data() for r in relations)}


@pytest.mark.parametrize("make_input", [tricky_seeds, generated], ids=["seeds", "generated"])
def test_bulk_gives_the_graph_an_incremental_load_gives(neo4j_server, tmp_path, make_input):
    paths = make_input(_folder(tmp_path / "input"))
    empty_database()
    incremental = pipeline.load(by_path.reader_for(paths), show_progress=False, mode="incremental")
    expected = full_graph(_folder(tmp_path / "incremental"))

    empty_database()
    before = server.status().pid
    report = pipeline.load(by_path.reader_for(paths), show_progress=False, mode="bulk",
                  offline_import=admin.bulk_import)
    assert server.status().pid != before, "a bulk load runs the import with the server stopped, then starts it"
    found = full_graph(_folder(tmp_path / "bulk"))

    assert (report.entities, report.relations) == (incremental.entities, incremental.relations)
    assert report.written == incremental.written
    assert len(found["nodes"]) == incremental.entities > 0
    for part in ("export", "nodes", "relations"):
        assert found[part] == expected[part], part
    # The full-text index and the constraints are back: a search finds a loaded entity.
    indexes = {r["name"]: r["state"] for r in db.read("SHOW INDEXES YIELD name, state RETURN name, state")}
    assert set(ddl.statements()) and all(state == "ONLINE" for state in indexes.values()), indexes
    assert ddl.SEARCH_INDEX in indexes


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_bulk_is_refused_in_one_line_where_it_cannot_run(neo4j_server, tmp_path):
    empty_database()
    pipeline.load(by_path.reader_for([SEEDS]), show_progress=False, mode="incremental")
    counts = graph_counts()
    result = CliRunner().invoke(main, ["load", "--mode", "bulk", str(SEEDS)])
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert "Bulk load refused" in line and "already holds nodes" in line, line
    assert graph_counts() == counts
    # Refused before the input is read: a record validation would refuse is not reached.
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text("entities:\n  - {type: NoSuchType, id: x, name: X}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["load", "--mode", "bulk", str(invalid)])
    assert "Bulk load refused" in result.output and "NoSuchType" not in result.output, result.output
    # A named source is reconciled with the graph: never bulk, whatever the database holds.
    with pytest.raises(BulkLoadError, match="reconciled"):
        bulk.choose("bulk", "wikidata", bulk.BULK_FROM_RECORDS, admin.bulk_import)
    # auto: a small load is not worth stopping the server for; a large one into a full database
    # goes incrementally.
    assert bulk.choose("auto", None, bulk.BULK_FROM_RECORDS - 1, admin.bulk_import) == "incremental"
    assert bulk.choose("auto", None, bulk.BULK_FROM_RECORDS, admin.bulk_import) == "incremental"


def test_auto_never_stops_a_server_that_another_client_uses(neo4j_server):
    empty_database()
    large = bulk.BULK_FROM_RECORDS
    assert bulk.choose("auto", None, large, admin.bulk_import) == "bulk", "empty, and no one else connected"
    assert bulk.choose("auto", None, large, None) == "incremental", "no offline import given: never bulk"
    with pytest.raises(BulkLoadError, match="needs the local server's offline import"):
        bulk.choose("bulk", None, large, None)
    conn = config.connection()
    with neo4j.GraphDatabase.driver(conn.uri, auth=(conn.username, config.password(conn)),
                                    user_agent="another-client") as other:
        other.verify_connectivity()
        assert bulk.choose("auto", None, large, admin.bulk_import) == "incremental"
        assert "another client" in bulk.refusal(None, admin.bulk_import, asked=False)
        assert bulk.refusal(None, admin.bulk_import, asked=True) is None, "asked for: the user said so"


def _import_processes(parent: int) -> list[int]:
    """The neo4j-admin imports under a process (its children and theirs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            ancestors = _ancestors(int(entry.name))
        except (OSError, ValueError):
            continue
        if b"org.neo4j.cli.AdminTool" in cmdline and admin.STAGING.encode() in cmdline and parent in ancestors:
            found.append(int(entry.name))
    return found


def _ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


def _wait_for_import(parent: int, timeout: float = 600) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _import_processes(parent)
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no neo4j-admin import started")


def _staging_left() -> list[Path]:
    return [server.data_dir() / folder / admin.STAGING for folder in admin.STORE_FOLDERS
            if (server.data_dir() / folder / admin.STAGING).exists()]


def test_a_failed_import_leaves_the_database_empty_and_the_server_running(neo4j_server):
    empty_database()
    killed = []

    def kill_the_import():
        for pid in _wait_for_import(os.getpid()):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_the_import)
    killer.start()
    try:
        with pytest.raises(BulkLoadError, match="neo4j-admin database import failed.*left empty") as failure:
            pipeline.load(by_path.reader_for([SEEDS]), show_progress=False, mode="bulk",
                  offline_import=admin.bulk_import)
    finally:
        killer.join()
    assert killed
    assert "\n" not in str(failure.value)
    assert server.status().running
    assert graph_counts() == (0, 0)
    assert _staging_left() == []


def test_a_load_killed_during_the_import_leaves_an_empty_database_and_a_rerun_succeeds(neo4j_server, tmp_path):
    empty_database()
    loader = subprocess.Popen([sys.executable, "-c", "from kb.cli import main; main()", "load", "--mode", "bulk",
                               str(SEEDS)], start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_for_import(loader.pid)
    finally:
        # The whole process group: the loader and the neo4j-admin it runs, as a crash would end them.
        os.killpg(loader.pid, signal.SIGKILL)
        loader.wait()
    assert not server.status().running, "the import runs with the server stopped"
    db.close()
    server.start(echo=lambda message: None)
    assert graph_counts() == (0, 0)
    (tmp_path / "twice.csv").write_text(TWICE, encoding="utf-8")
    pipeline.load(by_path.reader_for([SEEDS, tmp_path]), show_progress=False, mode="bulk",
                  offline_import=admin.bulk_import)
    # Counts derived from the seed files themselves, and the one tie stated twice; a search by
    # another spelling works at once.
    entities, relations = seed_totals()
    assert graph_counts() == (entities, relations + 1)
    [tie] = db.read("MATCH (:City {id: 'city-goettingen'})-[r:COOPERATES_WITH]->(:City {id: 'city-foshan'}) "
                    "RETURN properties(r) AS props")
    assert tie["props"] == {"sources": ["src-foshan-2019", "src-reference"], "note": "second", "since": "2018"}
    assert "city-goettingen" in [hit.id for hit in search.search("Gottingen")]
    assert _staging_left() == []
