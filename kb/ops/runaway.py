"""Ending a console query that its timeout did not stop (kb.errors.RunawayQuery): the local server
started by this project is restarted, when the restart_runaway setting allows it, and the restart is
announced to the user and in the server's log. A server that others use is never restarted here."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from kb import config
from kb.errors import QueryTimeout, RunawayQuery
from kb.ops import server

_restarting = threading.Lock()


def end(error: RunawayQuery) -> QueryTimeout:
    """Restart the local server if allowed; the one-line error to show either way."""
    conn = config.connection()
    if not conn.local:
        return QueryTimeout(f"{error} Only a restart of the server at {conn.uri} ends it.")
    if not config.setting("restart_runaway"):
        return QueryTimeout(f"{error} Restarting the local server is off here (KB_RESTART_RUNAWAY=0): "
                            "it goes on until it finishes or `kb server stop` ends it.")
    with _restarting:    # two runaway queries at once cost one restart, not two
        started = time.monotonic()
        _log("a console query outlived its timeout; restarting the server to end it")
        # The driver logs the connections the restart breaks; the message below says it all.
        driver_log = logging.getLogger("neo4j")
        level = driver_log.level
        driver_log.setLevel(logging.CRITICAL)
        try:
            server.restart(echo=lambda message: None)
        finally:
            driver_log.setLevel(level)
        return QueryTimeout(f"{error} The local server was restarted to end it "
                            f"({time.monotonic() - started:.0f} s).")


def _log(message: str) -> None:
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with open(server.log_file(), "a", encoding="utf-8") as log:
        log.write(f"{stamp} kb: {message}\n")
