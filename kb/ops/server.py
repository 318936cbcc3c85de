"""The project's local Neo4j Community server: build, start in the background, stop, status."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from kb import config
from kb.errors import ServerError

SERVER_DIR = config.PROJECT_ROOT / "server"
LAUNCHER_CLASS = "kb.server.Launcher"
READY_LINE = b"kb-neo4j ready"
VERSION_QUERY = "CALL dbms.components() YIELD versions RETURN versions[0] AS v"


@dataclass(frozen=True)
class Status:
    running: bool
    uri: str
    pid: int | None = None
    version: str | None = None
    detail: str = ""

    def describe(self) -> str:
        if not self.running:
            return f"not running ({self.uri}, {browser_url()}){': ' + self.detail if self.detail else ''}"
        return (f"running: Neo4j {self.version or '?'} Community at {self.uri}, Neo4j Browser at {browser_url()}, "
                f"pid {self.pid}, data in {data_dir()}")


def browser_url() -> str:
    """Where Neo4j Browser of the local server opens (served by its HTTP connector)."""
    return f"http://localhost:{http_port()}/browser/"


def http_port() -> int:
    """The HTTP port: KB_NEO4J_HTTP_PORT when set; 7474 beside the default Bolt port; beside another
    Bolt port (a second local server), a free port chosen on the folder's first start and kept in it,
    so that a second server needs only KB_HOME and KB_NEO4J_PORT."""
    given = next(s for s in config.SETTINGS if s.name == "http_port")
    if os.environ.get(given.env) or config.setting("port") == next(s for s in config.SETTINGS if s.name == "port").default:
        return config.setting("http_port")
    kept = config.home() / "http.port"
    if kept.exists():
        return int(kept.read_text())
    port = _free_port()
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(f"{port}\n")
    return port


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pid_file() -> Path:
    return config.home() / "server.pid"


def log_file() -> Path:
    return config.home() / "server.log"


def data_dir() -> Path:
    return config.home() / "neo4j"


def import_dir() -> Path:
    """The one folder LOAD CSV may read file URLs from (file:///x.csv is import_dir()/x.csv)."""
    return config.home() / "import"


def _require_local() -> config.Connection:
    conn = config.connection()
    if not conn.local:
        raise ServerError(f"NEO4J_URI is set ({conn.uri}): the knowledge base uses that database, "
                          "so no local server is managed. Unset NEO4J_URI to use the local server.")
    return conn


def launcher_jar() -> Path:
    return SERVER_DIR / "target" / "kb-neo4j-server.jar"


def class_archive() -> Path:
    """Java's archive of the classes a start loads, made once per build: a start maps it instead of
    loading and verifying thousands of classes (a quarter of a start: docs/DECISIONS.md)."""
    return SERVER_DIR / "target" / "kb-neo4j-server.jsa"


def is_built() -> bool:
    if not launcher_jar().exists() or not (SERVER_DIR / "target" / "lib").is_dir():
        return False
    # A launcher compiled from an older source would ignore the options it does not know yet.
    newest_source = max(path.stat().st_mtime for path in (SERVER_DIR / "src").rglob("*.java"))
    return launcher_jar().stat().st_mtime >= newest_source


def build(echo=print) -> None:
    """Compile the launcher and fetch Neo4j's jars with Maven (once; about a minute on a fresh machine),
    then archive the classes a start loads."""
    echo("Building the local Neo4j server with Maven (first run only)...")
    class_archive().unlink(missing_ok=True)     # made from the jars being replaced
    result = subprocess.run(["mvn", "-B", "-q", "package"], cwd=SERVER_DIR, capture_output=True, text=True)
    if result.returncode != 0 or not is_built():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise ServerError(f"Building the Neo4j launcher failed (mvn package in {SERVER_DIR}):\n{tail}")
    _archive_classes()


def _archive_classes() -> None:
    """Start a server on an empty scratch folder and stop it, Java writing the classes it loaded to
    class_archive() as it exits. Without the archive a start only takes longer, so a failure is let be."""
    with tempfile.TemporaryDirectory(prefix="kb-classes-") as scratch:
        folder = Path(scratch)
        command = _java(f"-XX:ArchiveClassesAtExit={class_archive()}") + _launcher_arguments(
            folder / "neo4j", _free_port(), _free_port(), folder / "import")
        process = _spawn(secrets.token_hex(8), command, folder / "server.log")
        deadline = time.monotonic() + config.setting("startup_timeout")
        while process.poll() is None and not _launcher_ready(folder / "server.log", 0):
            if time.monotonic() > deadline:
                process.kill()
                break
            time.sleep(0.3)
        process.terminate()
        process.wait()


def _read_pid() -> int | None:
    try:
        return int(pid_file().read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_our_server(pid: int) -> bool:
    """True when pid is alive and is our launcher (a stale pid may belong to another process now)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return LAUNCHER_CLASS.encode() in cmdline and str(data_dir()).encode() in cmdline


def _bolt_answers(conn: config.Connection, password: str) -> str | None:
    """The server's version if Bolt answers with our credentials, else None."""
    try:
        with GraphDatabase.driver(conn.uri, auth=(conn.username, password), connection_timeout=2) as drv:
            # A plain session.run: no retries, so a closed port answers at once.
            with drv.session(database="system") as session:
                return session.run(VERSION_QUERY).single()["v"]
    except (ServiceUnavailable, OSError):
        return None


def status() -> Status:
    conn = _require_local()
    pid = _read_pid()
    if pid is None:
        return Status(False, conn.uri)
    if not _is_our_server(pid):
        return Status(False, conn.uri, detail=f"stale pid file {pid_file()} (process {pid} is gone)")
    try:
        version = _bolt_answers(conn, config.password(conn))
    except AuthError:
        return Status(True, conn.uri, pid, detail="running, but refuses the current NEO4J_PASSWORD")
    return Status(True, conn.uri, pid, version, "" if version else "process alive, Bolt not answering yet")


def _log_tail(lines: int = 25) -> str:
    try:
        return "\n".join(log_file().read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no server log)"


def start(echo=print, command: list[str] | None = None) -> Status:
    """Start the local server in the background and wait until Bolt answers (with `command`: the
    command line of an earlier run, so that a restart keeps its settings)."""
    conn = _require_local()
    current = status()
    if current.running:
        return current
    pid_file().unlink(missing_ok=True)
    if not is_built():
        build(echo)
    password = config.password(conn)
    if len(password) < 8:
        raise ServerError("NEO4J_PASSWORD must have at least 8 characters for the local Neo4j server.")
    _require_free_ports()
    data_dir().mkdir(parents=True, exist_ok=True)
    import_dir().mkdir(parents=True, exist_ok=True)
    log_offset = log_file().stat().st_size if log_file().exists() else 0
    process = _spawn(password, command or _command())
    pid_file().write_text(f"{process.pid}\n")
    echo(f"Starting Neo4j at {conn.uri} (data in {data_dir()})...")
    try:
        return _wait_until_ready(conn, password, process, log_offset)
    except BaseException:
        # A start that fails for any reason (even Ctrl-C) leaves no server behind.
        _terminate(process.pid)
        pid_file().unlink(missing_ok=True)
        raise


# A server killed a moment ago (restart) leaves its ports to the kernel for a few seconds more.
PORT_RELEASE_SECONDS = 15


def _require_free_ports() -> None:
    """Refuse to start when another program listens on the Bolt or HTTP port (another Neo4j on 7474
    and 7687, say): Neo4j would only fail later, deep in its log."""
    for setting in config.SETTINGS:
        if setting.name not in ("port", "http_port"):
            continue
        port = config.setting("port") if setting.name == "port" else http_port()
        deadline = time.monotonic() + PORT_RELEASE_SECONDS
        while not _is_free(port):
            if time.monotonic() > deadline:
                raise ServerError(f"Port {port} on 127.0.0.1 is in use by another program: "
                                  f"set {setting.env} to a free port.")
            time.sleep(0.2)


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the server's own sockets do: a port whose last connection is still closing is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _command() -> list[str]:
    shared = [f"-XX:SharedArchiveFile={class_archive()}"] if class_archive().exists() else []
    return _java(*shared) + _launcher_arguments(data_dir(), config.setting("port"), http_port(), import_dir())


def _java(*options: str) -> list[str]:
    classpath = f"{launcher_jar()}:{SERVER_DIR / 'target' / 'lib'}/*"
    return ["java", f"-Xmx{config.setting('heap')}", "-XX:+UseG1GC", *config.java_options(),
            *options, "-cp", classpath, LAUNCHER_CLASS]


def _launcher_arguments(home: Path, port: int, http: int, imports: Path) -> list[str]:
    return ["--home", str(home), "--port", str(port), "--http-port", str(http), "--import", str(imports),
            "--pagecache", config.setting("pagecache"), "--transaction-max", config.setting("transaction_max"),
            "--transaction-total-max", config.setting("transaction_total_max")]


def _spawn(password: str, command: list[str], log_path: Path | None = None) -> subprocess.Popen:
    log = open(log_path or log_file(), "ab")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log.close()
    # The password travels on stdin: never on a command line, never in the log.
    process.stdin.write((password + "\n").encode())
    process.stdin.close()
    return process


def _launcher_ready(log_path: Path, log_offset: int) -> bool:
    """The launcher logs a ready line once the password is set; asking Bolt earlier would fail
    authentication and, repeated, trip Neo4j's rate limit."""
    with open(log_path, "rb") as log:
        log.seek(log_offset)
        return READY_LINE in log.read()


def _wait_until_ready(conn, password, process, log_offset: int) -> Status:
    deadline = time.monotonic() + config.setting("startup_timeout")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file().unlink(missing_ok=True)
            raise ServerError(f"Neo4j exited during start-up (code {process.returncode}). "
                              f"Last lines of {log_file()}:\n{_log_tail()}")
        version = _bolt_answers(conn, password) if _launcher_ready(log_file(), log_offset) else None
        if version:
            return Status(True, conn.uri, process.pid, version)
        time.sleep(0.3)
    raise ServerError(f"Neo4j did not answer on {conn.uri} within {config.setting('startup_timeout')} s. "
                      f"Last lines of {log_file()}:\n{_log_tail()}")


def _terminate(pid: int, grace: float = 60.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _is_our_server(pid) or _is_zombie(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def stop() -> str:
    """Stop the local server cleanly; a stale pid file is removed, not obeyed."""
    _require_local()
    pid = _read_pid()
    if pid is None:
        return "not running"
    if not _is_our_server(pid):
        pid_file().unlink(missing_ok=True)
        return f"not running (removed stale pid file for process {pid})"
    _terminate(pid)
    pid_file().unlink(missing_ok=True)
    return f"stopped (pid {pid})"


def running_command() -> list[str] | None:
    """The command line of the running local server (for `start`, to run it again with the same
    settings), or None when it does not run."""
    pid = _read_pid()
    if pid is None or not _is_our_server(pid):
        return None
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def restart(echo=print) -> Status:
    """Kill the local server and start it again with the same command line. The way to end a query
    that ignores its termination: a clean stop waits for that query to finish."""
    _require_local()
    command = running_command()
    kill()
    return start(echo, command)


def kill() -> None:
    """Kill the local server at once, as a crash would (used to test recovery)."""
    pid = _read_pid()
    if pid is not None and _is_our_server(pid):
        os.kill(pid, signal.SIGKILL)
        while _is_our_server(pid) and not _is_zombie(pid):
            time.sleep(0.1)
    pid_file().unlink(missing_ok=True)
