"""`kb shell`: cypher-shell on the knowledge base, its password passed in the environment."""
from __future__ import annotations

import os

from kb import config
from kb.ops import tools


def invocation(arguments, echo=print) -> tuple[list[str], dict]:
    """The command line and environment of cypher-shell on the knowledge base's database.

    The connection goes in the variables cypher-shell reads (NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD,
    NEO4J_DATABASE), so the password never shows on a command line, and options among `arguments`
    (such as `-d system`) still win."""
    conn = config.connection()
    environment = {**os.environ, "NEO4J_URI": conn.uri, "NEO4J_USERNAME": conn.username,
                   "NEO4J_PASSWORD": config.password(conn), "NEO4J_DATABASE": conn.database}
    # cypher-shell's other name for the address: a stale one must not point it at another server.
    environment.pop("NEO4J_ADDRESS", None)
    return tools.command("cypher-shell", list(arguments), echo=echo), environment


def run(arguments, echo=print) -> None:
    """Replace this process by cypher-shell (so that the terminal, signals and the exit code are its own)."""
    argv, environment = invocation(arguments, echo)
    os.execvpe(argv[0], argv, environment)
