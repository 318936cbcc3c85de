"""Every failure of the kb command, against the real test server, is one line on stderr and a non-zero
exit code; the rough edges around it are gone. The cases about a message and an exit code run the
command through click's runner in this process (an interpreter start per case costs seconds); those
that need a process of their own (another user's file rights, debug logging, a command's own exit
status, bench's generator) run it as a user does."""
from __future__ import annotations

import filecmp
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from bench import synthetic
from kb import config, db, ddl
from kb.cli import DRIVER_EXTRAS, main
from loaders import by_path, pipeline
from tests.conftest import free_port, wipe

KB = str(Path(sys.executable).with_name("kb"))
# As root every file is readable; without the two capabilities that allow it, root obeys the file's mode.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                    "--inh-caps=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
LOCAL_ONLY = pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="needs the project's local test server")


def kb(*args, env: dict | None = None, unprivileged: bool = False) -> subprocess.CompletedProcess:
    prefix = WITHOUT_OVERRIDE if unprivileged else []
    return subprocess.run([*prefix, KB, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


class _Records(logging.Handler):
    def __init__(self, records: list):
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def kb_here(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command through click's runner in this process, shown as its process would show it: exit code,
    stdout, and on stderr its messages followed by every log record of warning level or above (what
    Python writes to stderr when nothing configures logging, as in `kb`)."""
    absent = [name for name in DRIVER_EXTRAS if name not in sys.modules]
    records = []
    handler = _Records(records)
    logging.getLogger().addHandler(handler)
    db.close()  # the case's settings make their own driver, and leave none behind
    try:
        result = CliRunner().invoke(main, [str(arg) for arg in args], env=env)
    finally:
        db.close()
        logging.getLogger().removeHandler(handler)
        # A quick command hides the driver's optional imports (kb.cli); this process needs them later.
        for name in absent:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    logged = "".join(f"{record.levelname} {record.name}: {record.getMessage()}\n" for record in records)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr + logged)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: "), \
        (result.returncode, result.stderr)
    return lines[0]


@pytest.fixture(scope="module")
def graph(neo4j_server, tmp_path_factory) -> Path:
    """A small generated graph in the database; returns the folder of its CSV files."""
    folder = tmp_path_factory.mktemp("graph")
    synthetic.generate(entities=300, relations=900, seed=4, out=folder)
    wipe()
    ddl.init()
    pipeline.load(by_path.reader_for([folder]), show_progress=False)
    return folder


@pytest.fixture(scope="module")
def place(graph, tmp_path_factory) -> dict:
    """What the cases below name: the test server's port and password, a closed port, files."""
    folder = tmp_path_factory.mktemp("errors")
    for name, text in [("unreadable.yaml", "entities: []\n"), ("unreadable.cypher", "RETURN 1\n")]:
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0)
    (folder / "latin1.cypher").write_bytes("RETURN 'Göttingen'".encode("latin-1"))
    conn = config.connection()
    return {"port": conn.uri.rsplit(":", 1)[1], "password": config.password(conn), "closed": free_port(),
            "tmp": folder}


# (case, environment, arguments, what the one line says); {names} come from the `place` fixture.
CASES = [
    ("URI without a scheme", {"NEO4J_URI": "localhost:{port}", "NEO4J_PASSWORD": "{password}"}, ["stats"],
     "NEO4J_URI='localhost:{port}' cannot be used: URI scheme 'localhost' is not supported"),
    ("URI with a bad port", {"NEO4J_URI": "bolt://127.0.0.1:port", "NEO4J_PASSWORD": "{password}"}, ["stats"],
     "NEO4J_URI='bolt://127.0.0.1:port' cannot be used"),
    # Another user name, so that no failed attempt counts against the user the other tests log in as.
    ("wrong credentials", {"NEO4J_URI": "bolt://127.0.0.1:{port}", "NEO4J_USERNAME": "nobody",
                           "NEO4J_PASSWORD": "not-the-password"}, ["stats"],
     "Neo4j at bolt://127.0.0.1:{port} refused the credentials"),
    ("password missing", {"NEO4J_URI": "bolt://127.0.0.1:{port}", "NEO4J_PASSWORD": ""}, ["stats"],
     "NEO4J_URI is set but NEO4J_PASSWORD is not"),
    ("wrong database name", {"NEO4J_DATABASE": "nosuch"}, ["stats"], "has no database 'nosuch': check NEO4J_DATABASE"),
    ("wrong database name, query", {"NEO4J_DATABASE": "nosuch"}, ["query", "RETURN 1"], "nosuch"),
    ("server down", {"NEO4J_URI": "bolt://127.0.0.1:{closed}", "NEO4J_PASSWORD": "some-password"}, ["init"],
     "The Neo4j database at bolt://127.0.0.1:{closed} (NEO4J_URI) is not reachable"),
    ("bad setting", {"KB_MAX_ROWS": "many"}, ["stats"], "KB_MAX_ROWS='many': max_rows must be a int"),
    ("full disk", {}, ["export", "--format", "jsonl", "--out", "/dev/full"], "/dev/full: No space left on device"),
    ("full disk, graphml", {}, ["export", "--format", "graphml", "--out", "/dev/full"],
     "/dev/full: No space left on device"),
    ("export folder that is a file", {}, ["export", "--format", "csv", "--out", "/dev/full"], "/dev/full"),
    ("folder given as export file", {}, ["export", "--format", "jsonl", "--out", "{tmp}"], "{tmp}: Is a directory"),
    ("folder given as query file", {}, ["query", "--file", "{tmp}"], "{tmp}: Is a directory"),
    ("query file not UTF-8", {}, ["query", "--file", "{tmp}/latin1.cypher"], "latin1.cypher: not UTF-8 text"),
    ("missing query file", {}, ["query", "--file", "{tmp}/none.cypher"], "none.cypher: No such file or directory"),
    ("unreadable query file", {}, ["query", "--file", "{tmp}/unreadable.cypher"],
     "unreadable.cypher: Permission denied"),
    ("unreadable seed file", {}, ["load", "{tmp}/unreadable.yaml"], "unreadable.yaml: Permission denied"),
    ("unreadable seed file, validate", {}, ["validate", "{tmp}/unreadable.yaml"],
     "unreadable.yaml: Permission denied"),
]


@LOCAL_ONLY
@pytest.mark.parametrize("env, args, says", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_failure_is_one_line_and_a_non_zero_exit(place, env, args, says):
    unreadable = "Permission denied" in says
    if unreadable and WITHOUT_OVERRIDE and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: every file is readable")
    env = {name: value.format(**place) for name, value in env.items()}
    args = [arg.format(**place) for arg in args]
    result = kb(*args, env=env, unprivileged=True) if unreadable else kb_here(*args, env=env)
    line = one_line_error(result)
    assert says.format(**place) in line, line
    assert "retried" not in result.stderr and "Traceback" not in result.stderr


@LOCAL_ONLY
def test_retries_show_at_debug_level_with_verbose(place):
    env = {"NEO4J_URI": f"bolt://127.0.0.1:{place['closed']}", "NEO4J_PASSWORD": "some-password"}
    result = kb("--verbose", "init", env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines[-1].startswith("Error: ") and "not reachable" in lines[-1], result.stderr
    assert any(line.startswith("DEBUG neo4j.session: Transaction failed and will be retried") for line in lines), \
        result.stderr


def test_search_without_a_match_says_so_in_one_sentence(graph):
    result = kb("search", "Qqzxv Wwyjk")
    assert (result.returncode, result.stdout, result.stderr) == (0, "No entity matches 'Qqzxv Wwyjk'.\n", "")
    found = kb("search", "Foshan")
    assert found.returncode == 0 and len(found.stdout.splitlines()) > 2 and "Foshan" in found.stdout, found.stdout


@LOCAL_ONLY
def test_server_status_exit_code_says_whether_it_runs(neo4j_server, tmp_path):
    running = kb("server", "status")
    assert running.returncode == 0 and running.stdout.startswith("running: Neo4j 5."), running
    stopped = kb("server", "status", env={"KB_HOME": str(tmp_path), "KB_NEO4J_PORT": str(free_port())})
    assert stopped.returncode == 3 and stopped.stdout.startswith("not running"), stopped


def generate(*args) -> subprocess.CompletedProcess:
    """bench's generator, run as a user runs it."""
    return subprocess.run([sys.executable, "-m", "bench.generate", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=config.PROJECT_ROOT)


def test_generate_keeps_what_export_wrote(graph, tmp_path):
    exported = tmp_path / "out"
    assert kb("export", "--format", "csv", "--out", exported).returncode == 0
    names = sorted(p.name for p in exported.iterdir())
    assert any(n.startswith("nodes_") for n in names) and any(n.startswith("relationships_") for n in names), names
    kept = tmp_path / "kept"
    shutil.copytree(exported, kept)
    line = one_line_error(generate("--entities", 100, "--relations", 100, "--out", exported))
    assert f"{exported} holds files that bench.generate did not write" in line, line
    assert sorted(p.name for p in exported.iterdir()) == names
    assert filecmp.cmpfiles(exported, kept, names, shallow=False)[0] == names, "export's files are unchanged"


def test_generate_replaces_its_own_earlier_output_only(tmp_path):
    out = tmp_path / "synthetic"
    assert generate("--entities", 300, "--relations", 900, "--seed", 1, "--out", out).returncode == 0
    first = sorted(p.name for p in out.glob("*.csv"))
    again = generate("--entities", 200, "--relations", 400, "--seed", 2, "--out", out)
    assert again.returncode == 0 and "200 entities and 400 relations" in again.stdout, again
    second = sorted(p.name for p in out.glob("*.csv"))
    assert set(second) <= set(first) and second, (first, second)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    line = one_line_error(generate("--entities", 200, "--relations", 400, "--out", out))
    assert "(notes.txt)" in line and (out / "notes.txt").read_text(encoding="utf-8") == "mine", line
    assert sorted(p.name for p in out.glob("*.csv")) == second


def test_cypher_page_reads_url_parameters_as_json_like_the_cli(graph):
    st.cache_data.clear()
    query = "MATCH (c:City) RETURN c.id AS id ORDER BY id LIMIT $n"
    at = AppTest.from_file(str(config.PROJECT_ROOT / "app.py"), default_timeout=90)
    at.query_params.update({"q": query, "n": "3"})
    at.run()
    at.switch_page("app_pages/cypher.py").run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    page_ids = list(at.dataframe[0].value["id"])
    cli = kb("query", query, "--param", "n=3", "--format", "csv")
    assert cli.returncode == 0 and page_ids == cli.stdout.splitlines()[1:] and len(page_ids) == 3, (page_ids, cli)
