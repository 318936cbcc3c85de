"""`kb shell`: cypher-shell on the knowledge base, run as a user runs it, its password in the
environment and never on a command line."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kb import config
from kb.ops import shell
from tests.conftest import seed_totals

KB = str(Path(sys.executable).with_name("kb"))
COUNT_QUERY = "MATCH (n) RETURN count(n) AS n"


def kb_shell(*args, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KB, "shell", *args], capture_output=True, text=True, timeout=180, input=stdin,
                          env={**os.environ, **(env or {})})


def test_the_password_goes_in_the_environment_only(neo4j_server):
    password = config.password()
    argv, environment = shell.invocation(["--format", "plain"], echo=lambda message: None)
    assert not any(password in argument for argument in argv), argv
    assert environment["NEO4J_PASSWORD"] == password
    assert argv[-2:] == ["--format", "plain"], argv


def test_shell_counts_the_seeds(seeded_readonly):
    entities, _ = seed_totals()
    result = kb_shell("--", "--format", "plain", COUNT_QUERY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", str(entities)], result.stdout


def test_the_running_shell_shows_no_password(seeded_readonly):
    """While cypher-shell waits for its input, what `ps` shows of it holds no password."""
    password = config.password()
    entities, relations = seed_totals()
    process = subprocess.Popen([KB, "shell", "--", "--format", "plain"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cmdline = b""
        deadline = time.monotonic() + 120
        # kb checks the database, then replaces itself by java: wait for that command line.
        while b"org.neo4j.shell.Main" not in cmdline and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
            cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"org.neo4j.shell.Main" in cmdline, (cmdline, process.poll())
        assert password.encode() not in cmdline
        out, err = process.communicate("MATCH ()-[r]->() RETURN count(r) AS r;\n", timeout=120)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert out.split() == ["r", str(relations)], out


def test_shell_on_neo4j_uri(seeded_readonly):
    """The variables of another Neo4j (here the same test server, reached as a remote one)."""
    entities, _ = seed_totals()
    conn = config.connection()
    remote = {"NEO4J_URI": conn.uri, "NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": config.password()}
    result = kb_shell("--", "--format", "plain", COUNT_QUERY, env=remote)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", str(entities)], result.stdout


def test_a_wrong_password_is_one_line(neo4j_server):
    conn = config.connection()
    result = kb_shell("--", COUNT_QUERY, env={"NEO4J_URI": conn.uri, "NEO4J_PASSWORD": "not-the-password"})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "refused the credentials" in lines[0], result.stderr
