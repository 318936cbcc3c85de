"""Settings: one table of (name, default, help), read from the environment and checked at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kb.errors import SettingError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: object
    kind: type
    help: str


SETTINGS = [
    Setting("query_timeout", "KB_QUERY_TIMEOUT", 10.0, float,
            "Seconds a user's Cypher query may run on the server before it is stopped."),
    Setting("read_timeout", "KB_READ_TIMEOUT", 20.0, float,
            "Seconds one of the app's or the CLI's own reads may run on the server before it is stopped."),
    Setting("max_rows", "KB_MAX_ROWS", 1000, int,
            "Rows a user's Cypher query returns at most; more are cut with a notice."),
    Setting("node_cap", "KB_NODE_CAP", 150, int,
            "Nodes a drawn neighbourhood holds at most."),
    Setting("batch_size", "KB_BATCH_SIZE", 10000, int,
            "Rows per write transaction when loading."),
    Setting("stories", "KB_STORIES", str(PROJECT_ROOT / "stories"), str,
            "Folder of the story files (NAME.yaml) that the Story page plays and `kb story` reads."),
    Setting("home", "KB_HOME", str(PROJECT_ROOT / ".kb"), str,
            "Folder of the local Neo4j server: data, logs, pid file and generated password."),
    Setting("port", "KB_NEO4J_PORT", 7687, int,
            "Bolt port of the local Neo4j server (listens on 127.0.0.1 only)."),
    Setting("http_port", "KB_NEO4J_HTTP_PORT", 7474, int,
            "HTTP port of the local Neo4j server, which serves Neo4j Browser at /browser/ "
            "(listens on 127.0.0.1 only). Unset beside another KB_NEO4J_PORT: a free port, chosen on the "
            "first start and kept in KB_HOME; `kb server status` names it."),
    Setting("heap", "KB_NEO4J_HEAP", "1g", str,
            "Java heap of the local Neo4j server (e.g. 512m, 2g)."),
    Setting("pagecache", "KB_NEO4J_PAGECACHE", "512m", str,
            "Page cache of the local Neo4j server (e.g. 256m, 1g)."),
    Setting("java_options", "KB_JAVA_OPTIONS", "", str,
            "Further options, separated by spaces, for the Java processes started here (the local Neo4j "
            "server and neo4j-admin). The tests set -XX:TieredStopAtLevel=1: the quick compiler only, half "
            "the CPU for short runs, slower for long ones."),
    Setting("startup_timeout", "KB_NEO4J_STARTUP_TIMEOUT", 120.0, float,
            "Seconds to wait for the local Neo4j server to answer on Bolt."),
    Setting("transaction_max", "KB_NEO4J_TRANSACTION_MAX", "512m", str,
            "Heap one transaction of the local Neo4j server may use (db.memory.transaction.max); "
            "a query that needs more fails instead of starving the others."),
    Setting("transaction_total_max", "KB_NEO4J_TRANSACTION_TOTAL_MAX", "768m", str,
            "Heap all transactions of the local Neo4j server together may use "
            "(dbms.memory.transaction.total.max); keep it below KB_NEO4J_HEAP."),
    Setting("query_grace", "KB_QUERY_GRACE", 5.0, float,
            "Seconds past its timeout that a user's query may keep the local Neo4j server busy "
            "before it counts as a runaway."),
    Setting("restart_runaway", "KB_RESTART_RUNAWAY", True, bool,
            "Restart the local server started by this project to end a runaway console query (1 or 0); "
            "`kb demo --shared` turns it off, as a restart ends every visitor's work."),
    Setting("wikidata_endpoint", "KB_WIKIDATA_ENDPOINT", "", str,
            "SPARQL endpoint that `kb fetch wikidata` sends its queries to: the address of the Wikidata Query "
            "Service's SPARQL endpoint, as its own pages give it (the project names no host; `kb fetch` "
            "refuses to run without it)."),
    Setting("contact", "KB_CONTACT", "", str,
            "An e-mail address or web page where a public service's operators can reach you; sent in the "
            "User-Agent of `kb fetch`'s requests, which refuses to run without it."),
    Setting("fetch_timeout", "KB_FETCH_TIMEOUT", 120.0, float,
            "Seconds `kb fetch` waits for one complete answer (the Wikidata Query Service stops a query at 60 s)."),
    Setting("fetch_attempts", "KB_FETCH_ATTEMPTS", 4, int,
            "Attempts `kb fetch` makes when the service answers 429 (busy) or 5xx, waiting as it asks "
            "(Retry-After), else 2 s, 4 s, 8 s ..."),
]

CONNECTION_VARIABLES = {
    "NEO4J_URI": "Bolt or neo4j URI of an existing database; when set, no local server is started.",
    "NEO4J_USERNAME": "User name (default neo4j).",
    "NEO4J_PASSWORD": "Password; for the local server, generated on first start when unset.",
    "NEO4J_DATABASE": "Database name (default neo4j).",
}


def _parse(setting: Setting, raw: str):
    if setting.kind is bool:
        if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise SettingError(f"{setting.env}={raw!r}: {setting.name} must be 1 or 0")
        return raw.strip().lower() in ("1", "true", "yes")
    try:
        value = setting.kind(raw)
    except ValueError:
        raise SettingError(f"{setting.env}={raw!r}: {setting.name} must be a {setting.kind.__name__}") from None
    if setting.kind in (int, float) and value <= 0:
        raise SettingError(f"{setting.env}={raw!r}: {setting.name} must be positive")
    return value


def setting(name: str):
    """The value of one setting, from its environment variable or its default."""
    for s in SETTINGS:
        if s.name == name:
            raw = os.environ.get(s.env)
            return s.default if raw in (None, "") else _parse(s, raw)
    raise KeyError(name)


def check_settings() -> dict:
    """Every setting's value; raises SettingError naming the first bad one."""
    return {s.name: setting(s.name) for s in SETTINGS}


def home() -> Path:
    return Path(setting("home"))


def java_options() -> list[str]:
    """KB_JAVA_OPTIONS as the words of a Java command line."""
    return setting("java_options").split()


@dataclass(frozen=True)
class Connection:
    uri: str
    username: str
    database: str
    local: bool

    def describe(self) -> str:
        where = "local server" if self.local else "NEO4J_URI"
        return f"{self.uri} (database {self.database}, {where})"


def connection() -> Connection:
    """Where the knowledge base lives: NEO4J_URI if set, else the project's local server."""
    uri = os.environ.get("NEO4J_URI")
    username = os.environ.get("NEO4J_USERNAME") or "neo4j"
    database = os.environ.get("NEO4J_DATABASE") or "neo4j"
    if uri:
        return Connection(uri, username, database, local=False)
    return Connection(f"bolt://127.0.0.1:{setting('port')}", username, database, local=True)


def password(conn: Connection | None = None) -> str:
    """NEO4J_PASSWORD, or for the local server a password generated once and kept user-readable only."""
    given = os.environ.get("NEO4J_PASSWORD")
    if given:
        return given
    conn = conn or connection()
    if not conn.local:
        raise SettingError("NEO4J_URI is set but NEO4J_PASSWORD is not: set it to the database's password")
    return _kept_password()


def _kept_password() -> str:
    import secrets

    path = home() / "password"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(generated + "\n")
    return generated
