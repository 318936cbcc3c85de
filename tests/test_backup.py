"""`kb backup` and `kb restore`, run as a user runs them against the real test server: the local
server's neo4j-admin dump (the session's server is stopped and started again around it) and the
logical backup of a database named by NEO4J_URI (the same server, reached as a remote one)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from bench import synthetic
from kb import config, db, ddl
from kb.ops import backup, server
from kb.export import export
from loaders import by_path, pipeline
from tests.conftest import seed_counts, wipe

KB = str(Path(sys.executable).with_name("kb"))
LOCAL_ONLY = pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="needs the project's local test server")


def kb(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    # This process's driver is kept: it must read on after the command restarted the server or replaced its
    # database, as a served app's does.
    return subprocess.run([KB, *map(str, args)], capture_output=True, text=True, timeout=900,
                          env={**os.environ, **(env or {})})


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: "), \
        (result.returncode, result.stderr)
    return lines[0]


def graph_lines(path: Path) -> list[str]:
    """The whole graph as sorted JSON lines (relations of one start, type and end come in any order)."""
    export("jsonl", path)
    return sorted(path.read_text(encoding="utf-8").splitlines())


def remote() -> dict:
    """The variables a user of another Neo4j sets, naming the test server."""
    return {"NEO4J_URI": config.connection().uri, "NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": config.password()}


def manifest_of(path: Path) -> dict:
    with tarfile.open(path) as archive:
        return json.load(archive.extractfile(backup.MANIFEST))


def load_folder(folder: Path) -> None:
    wipe()
    ddl.init()
    pipeline.load(by_path.reader_for([folder]), show_progress=False)


def load_other_graph(tmp_path: Path) -> None:
    """A database that holds something other than the seeds."""
    folder = tmp_path / "other"
    synthetic.generate(entities=200, relations=300, seed=7, out=folder)
    load_folder(folder)


@pytest.fixture(scope="module")
def seeds_dump(tmp_path_factory, seeded_readonly) -> tuple[Path, list[str]]:
    """A dump backup of the seeds, and the seeds' graph as exported before it was taken."""
    folder = tmp_path_factory.mktemp("dump")
    before = graph_lines(folder / "before.jsonl")
    command = server.running_command()
    result = kb("backup", folder / "seeds.tar")
    assert result.returncode == 0, result.stderr
    assert "Stopping the local Neo4j server" in result.stdout and "Starting the local Neo4j server again" in result.stdout
    assert server.running_command() == command, "the server runs again, with the same settings"
    return folder / "seeds.tar", before


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
def test_the_manifest_counts_the_seed_files(seeds_dump):
    entities, relations = seed_counts()
    manifest = manifest_of(seeds_dump[0])
    assert manifest["kind"] == "dump"
    assert {label: manifest["nodes"][label] for label in entities} == entities
    assert manifest["nodes"]["Entity"] == sum(entities.values()) == manifest["ids"]["count"]
    assert manifest["relations"] == relations


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
def test_backup_wipe_restore_gives_the_same_graph(seeds_dump, tmp_path):
    path, before = seeds_dump
    wipe()
    assert db.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0
    result = kb("restore", path)
    assert result.returncode == 0, result.stderr
    assert "counts and ids match the backup" in result.stdout
    assert graph_lines(tmp_path / "after.jsonl") == before
    # Read on by this process, which read the wiped database just before the dump replaced it.
    assert db.read("MATCH (n:Entity) RETURN count(n) AS n")[0]["n"] == sum(seed_counts()[0].values())


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
def test_restore_over_a_database_that_is_not_empty_needs_force(seeds_dump, tmp_path):
    path, seeds = seeds_dump
    load_other_graph(tmp_path)
    other = graph_lines(tmp_path / "other.jsonl")
    pid = server.running_command()
    refused = kb("restore", path)
    assert "--force" in one_line_error(refused)
    assert refused.stdout == "" and server.running_command() == pid, "the server was not touched"
    assert graph_lines(tmp_path / "unchanged.jsonl") == other
    forced = kb("restore", "--force", path)
    assert forced.returncode == 0, forced.stderr
    assert graph_lines(tmp_path / "forced.jsonl") == seeds


def test_logical_backup_of_neo4j_uri_round_trips(seeded_readonly, tmp_path):
    before = graph_lines(tmp_path / "before.jsonl")
    entities, relations = seed_counts()
    result = kb("backup", tmp_path / "remote.tar", env=remote())
    assert result.returncode == 0, result.stderr
    assert "Stopping" not in result.stdout, "a remote database is not stopped"
    manifest = manifest_of(tmp_path / "remote.tar")
    assert manifest["kind"] == "csv" and manifest["relations"] == relations
    assert manifest["ids"]["count"] == sum(entities.values())
    wipe()
    restored = kb("restore", tmp_path / "remote.tar", env=remote())
    assert restored.returncode == 0, restored.stderr
    assert graph_lines(tmp_path / "after.jsonl") == before
    refused = kb("restore", tmp_path / "remote.tar", env=remote())
    assert "--force" in one_line_error(refused)


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
def test_a_restored_graph_written_to_never_takes_the_version_of_the_graph_it_replaced(seeds_dump):
    """The app's caches hold a whole-graph figure per db.graph_version: a graph rolled back to a dump
    and then edited must not meet the figures of the edit it replaced."""
    path, _ = seeds_dump
    edit = "MERGE (n:RolledBack {edit: $edit}) RETURN n.edit"
    db.write(edit, edit="before the restore")
    replaced = db.graph_version()
    assert kb("restore", "--force", path).returncode == 0
    db.write(edit, edit="after the restore")
    assert db.read("MATCH (n:RolledBack) RETURN collect(n.edit) AS edits")[0]["edits"] == ["after the restore"]
    assert db.graph_version() != replaced


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
def test_a_dump_does_not_restore_into_neo4j_uri(seeds_dump):
    assert "local server" in one_line_error(kb("restore", seeds_dump[0], env=remote()))


@pytest.mark.parametrize("content", [b"", b"not a tar archive", None], ids=["empty", "text", "tar-without-manifest"])
def test_a_file_that_is_not_a_backup_is_one_line(neo4j_server, tmp_path, content):
    path = tmp_path / "file.tar"
    if content is None:
        (tmp_path / "x.txt").write_text("x")
        with tarfile.open(path, "w") as archive:
            archive.add(tmp_path / "x.txt", arcname="x.txt")
    else:
        path.write_bytes(content)
    assert "not a kb backup" in one_line_error(kb("restore", path))


def test_backup_does_not_overwrite_a_file(neo4j_server, tmp_path):
    path = tmp_path / "kept.tar"
    path.write_text("keep me")
    assert "exists" in one_line_error(kb("backup", path))
    assert path.read_text() == "keep me"


@pytest.fixture(scope="module")
def large_graph(neo4j_server, graph_100k, tmp_path_factory) -> tuple[Path, dict, list[str]]:
    """The issue's size (the run's generated graph of 100,000 relations), loaded once for the module (a
    minute or more): its folder, what the generator wrote, and the graph as exported once loaded."""
    folder, written = graph_100k
    load_folder(folder)
    return folder, written, graph_lines(tmp_path_factory.mktemp("large") / "loaded.jsonl")


@pytest.fixture
def large_graph_in_db(large_graph, tmp_path) -> tuple[dict, list[str]]:
    """Exactly the generated graph in the database: loaded again only if the graph differs from it (a
    restore that reproduced it leaves it for the next test); returns what the generator wrote and the
    graph as exported."""
    folder, written, loaded = large_graph
    if graph_lines(tmp_path / "found.jsonl") != loaded:
        load_folder(folder)
    return written, loaded


@LOCAL_ONLY
@pytest.mark.restarts  # a dump stops the local server and starts it again
@pytest.mark.scale
@pytest.mark.parametrize("kind", ["dump", "csv"])
def test_a_100k_relation_graph_round_trips_exactly(large_graph_in_db, tmp_path, kind):
    """The issue's size: a generated graph of 100,000 relations, backed up, wiped and restored,
    exported the same before and after (dump: the local server's; csv: the logical backup of NEO4J_URI)."""
    written, before = large_graph_in_db
    assert len(before) == written["entities"] + written["relations"]
    env = remote() if kind == "csv" else None
    result = kb("backup", tmp_path / "large.tar", env=env)
    assert result.returncode == 0, result.stderr
    assert manifest_of(tmp_path / "large.tar")["relations"] == {
        name: count for name, count in written["relation_counts"].items() if count}
    wipe()
    restored = kb("restore", tmp_path / "large.tar", env=env)
    assert restored.returncode == 0, restored.stderr
    assert graph_lines(tmp_path / "after.jsonl") == before
