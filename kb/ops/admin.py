"""neo4j-admin against the local server's store. Neo4j Community imports, dumps and loads only a
database that no server holds, so this is the one routine that stops the local server, runs the
step, reports it and starts the server again, even when the step fails (bulk loads and backups)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import contextmanager

from kb import config, db
from kb.errors import BulkLoadError, KBError, ServerError
from kb.ops import server, tools

# Where Neo4j keeps a database under its home, and the name a full import writes under first.
STORE_FOLDERS = ("data/databases", "data/transactions")
STAGING = "kb-bulk-import"


@contextmanager
def server_offline(echo, error: type[KBError]):
    """The local server stopped for the block and started again after it. A failure to start again
    is raised as error, unless the block failed itself (its error is the one to report)."""
    tools.ensure_built("neo4j-admin", echo)     # not while the server is down
    echo("Stopping the local Neo4j server: neo4j-admin needs the database offline (Neo4j Community); "
         "it starts again afterwards.")
    command = server.running_command()
    db.close()
    started = time.monotonic()
    server.stop()
    echo(f"Local Neo4j server stopped in {time.monotonic() - started:.1f} s.")
    step_failed = True
    try:
        yield
        step_failed = False
    finally:
        echo("Starting the local Neo4j server again.")
        started = time.monotonic()
        try:
            start_local(echo, error, command)
            echo(f"Local Neo4j server started again in {time.monotonic() - started:.1f} s.")
        except KBError as failure:
            if not step_failed:
                raise error(f"neo4j-admin is done, but {failure}") from None


def start_local(echo, error: type[KBError], command: list[str] | None = None) -> None:
    """Start the local server if it does not run; its failure in one line (the log says more)."""
    try:
        server.start(echo, command)
    except ServerError as failure:
        raise error(f"the local Neo4j server did not start ({str(failure).splitlines()[0]}); "
                    f"`kb server start` tries again, {server.log_file()} tells more.") from None


def run(arguments: list[str], heap: str, echo, error: type[KBError]) -> None:
    """Run neo4j-admin with the arguments against the local store (offline); its failure as error."""
    command = tools.command("neo4j-admin", arguments, heap=heap, echo=echo)
    started = time.monotonic()
    result = subprocess.run(command, env={**os.environ, **tools.admin_environment(server.data_dir())},
                            capture_output=True, text=True)
    step = f"neo4j-admin {' '.join(arguments[:2])}"
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        raise error(f"{step} failed (exit {result.returncode}): {lines[-1] if lines else 'no message'}")
    echo(f"{step}: {time.monotonic() - started:.1f} s.")


def import_full(arguments: list[str], echo, error: type[KBError]) -> None:
    """A full import (arguments after `database import full STAGING`) into the empty local database.
    It writes into a staging database, which replaces the empty one only once it has succeeded: a
    failed or killed import leaves the database as it was."""
    home, database = server.data_dir(), config.connection().database
    # The import is given the heap the server frees while it is down.
    with server_offline(echo, error):
        try:
            run(["database", "import", "full", STAGING, "--overwrite-destination=true", *arguments],
                config.setting("heap"), echo, error)
            for folder in STORE_FOLDERS:
                target = home / folder / database
                shutil.rmtree(target, ignore_errors=True)
                (home / folder / STAGING).rename(target)
        finally:
            for folder in STORE_FOLDERS:
                shutil.rmtree(home / folder / STAGING, ignore_errors=True)


def bulk_import(arguments: list[str], echo) -> None:
    """The offline import that bulk loads hand to the pipeline (loaders/bulk.py writes the files)."""
    try:
        import_full(arguments, echo, BulkLoadError)
    except BulkLoadError as error:
        raise BulkLoadError(f"{error}; the database is left empty.") from None
