"""The project's local Neo4j server: status, secrets, stale pid files, start-up failures."""
import os
from pathlib import Path

import pytest

from kb import config, server
from kb.errors import ServerError
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="NEO4J_URI names another database")


def test_status_reports_version_and_place(neo4j_server):
    status = server.status()
    assert status.running and status.version.startswith("5.26")
    assert "running: Neo4j 5.26" in status.describe() and neo4j_server.uri in status.describe()


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
    return tmp_path


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


def test_neo4j_uri_means_no_local_server(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    with pytest.raises(ServerError, match="NEO4J_URI is set"):
        server.start()


def test_short_password_is_refused_before_start(other_home, monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "short")
    with pytest.raises(ServerError, match="at least 8 characters"):
        server.start(echo=lambda message: None)
