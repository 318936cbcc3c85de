"""The project's local Neo4j server: status, secrets, stale pid files, start-up failures, import folder,
transaction memory limits."""
import os
import socket
import urllib.request
from pathlib import Path

import pytest
from neo4j.exceptions import Neo4jError

from kb import config, db
from kb.ops import server
from kb.errors import ServerError
from tests.conftest import free_port

pytestmark = [pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="NEO4J_URI names another database"),
              pytest.mark.restarts]


def test_status_reports_version_and_place(neo4j_server):
    status = server.status()
    assert status.running and status.version.startswith("5.26")
    assert "running: Neo4j 5.26" in status.describe() and neo4j_server.uri in status.describe()
    browser = f"http://localhost:{os.environ['KB_NEO4J_HTTP_PORT']}/browser/"
    assert server.browser_url() == browser and browser in status.describe()


def test_password_is_kept_private_and_never_shown(neo4j_server):
    password_file = config.home() / "password"
    assert password_file.stat().st_mode & 0o777 == 0o600
    secret = config.password()
    assert secret not in server.log_file().read_text(errors="replace")
    pid = int(server.pid_file().read_text())
    assert secret.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert secret not in server.status().describe()


@pytest.fixture
def other_home(tmp_path, monkeypatch):
    """A second, unused local-server folder on a free port."""
    monkeypatch.setenv("KB_HOME", str(tmp_path))
    monkeypatch.setenv("KB_NEO4J_PORT", str(free_port()))
    monkeypatch.setenv("KB_NEO4J_HTTP_PORT", str(free_port()))
    return tmp_path


def test_a_second_server_needs_only_its_folder_and_bolt_port(tmp_path, monkeypatch):
    monkeypatch.setenv("KB_HOME", str(tmp_path))
    monkeypatch.setenv("KB_NEO4J_PORT", str(free_port()))
    monkeypatch.delenv("KB_NEO4J_HTTP_PORT")
    chosen = server.http_port()
    assert chosen != 7474 and server.http_port() == chosen, "chosen once, then kept"
    started = server.start(echo=lambda message: None)
    try:
        assert f"http://localhost:{chosen}/browser/" in started.describe()
        with urllib.request.urlopen(f"http://127.0.0.1:{chosen}/", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.stop()


def test_stale_pid_file_is_reported_and_removed(other_home):
    server.pid_file().write_text(f"{os.getpid()}\n")   # alive, but not our server
    assert "stale pid file" in server.status().describe()
    assert "removed stale pid file" in server.stop()
    assert not server.pid_file().exists()
    assert server.stop() == "not running"


def test_failed_start_shows_the_server_log(other_home, monkeypatch):
    monkeypatch.setenv("KB_NEO4J_HEAP", "lots")
    with pytest.raises(ServerError, match="exited during start-up") as failed:
        server.start(echo=lambda message: None)
    assert "Last lines of" in str(failed.value) and "Xmx" in str(failed.value)
    assert not server.pid_file().exists()


def test_a_port_in_use_is_refused_before_start(other_home, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("KB_NEO4J_HTTP_PORT", str(taken.getsockname()[1]))
        with pytest.raises(ServerError, match=f"Port {taken.getsockname()[1]} .* set KB_NEO4J_HTTP_PORT"):
            server.start(echo=lambda message: None)
    assert not server.pid_file().exists()


def test_neo4j_uri_means_no_local_server(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    with pytest.raises(ServerError, match="NEO4J_URI is set"):
        server.start()


def test_short_password_is_refused_before_start(other_home, monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "short")
    with pytest.raises(ServerError, match="at least 8 characters"):
        server.start(echo=lambda message: None)


def run(query, **params):
    """A query straight through the driver, no retry: what any Bolt client could send."""
    with db.driver().session(database=db.database()) as session:
        return session.run(query, params).data()


def test_load_csv_reads_the_import_folder_and_nothing_else(neo4j_server):
    assert server.import_dir().parent == config.home() and server.import_dir().is_dir()
    (server.import_dir() / "probe.csv").write_text("name\nprobe\n", encoding="utf-8")
    assert run("LOAD CSV WITH HEADERS FROM 'file:///probe.csv' AS row RETURN row.name AS name") == [{"name": "probe"}]
    secret = config.home() / "password"
    for url in (secret.as_uri(), "file:///../password"):
        with pytest.raises(Neo4jError, match="Cannot load from URL"):
            run("LOAD CSV FROM $url AS row RETURN row", url=url)


def neo4j_size(size: str) -> str:
    """A size setting as Neo4j reports it: 512m is 512.00MiB."""
    unit = {"k": "KiB", "m": "MiB", "g": "GiB"}[size[-1].lower()]
    return f"{float(size[:-1]):.2f}{unit}"


def test_transaction_memory_limits_are_the_settings(neo4j_server):
    rows = run("SHOW SETTINGS YIELD name, value WHERE name IN $names RETURN name, value",
               names=["db.memory.transaction.max", "dbms.memory.transaction.total.max"])
    assert {row["name"]: row["value"] for row in rows} == {
        "db.memory.transaction.max": neo4j_size(config.setting("transaction_max")),
        "dbms.memory.transaction.total.max": neo4j_size(config.setting("transaction_total_max"))}
    # Gigabytes of strings in one transaction: refused at the limit, not an exhausted heap.
    with pytest.raises(Neo4jError, match="db.memory.transaction.max threshold reached"):
        run("UNWIND range(1, 10000000) AS x RETURN size(collect(toString(x) + $pad)) AS n", pad="x" * 4000)
    assert run("RETURN 1 AS one") == [{"one": 1}]


def test_a_launcher_older_than_its_source_is_built_again(tmp_path, monkeypatch):
    source = tmp_path / "src" / "main" / "java" / "kb" / "server" / "Launcher.java"
    compiled = tmp_path / "target" / "kb-neo4j-server.jar"
    for path in (source, compiled):
        path.parent.mkdir(parents=True)
        path.write_text("")
    (tmp_path / "target" / "lib").mkdir()
    monkeypatch.setattr(server, "SERVER_DIR", tmp_path)
    os.utime(source, (1000, 1000))
    os.utime(compiled, (2000, 2000))
    assert server.is_built()
    os.utime(source, (3000, 3000))
    assert not server.is_built()
