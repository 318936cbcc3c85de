"""The server's part of a load that needs no checked record, done while the input is validated.

Validation leaves the server idle, and on a large input one core too, until the other half of
the relations is checked. Meanwhile this makes sure of the constraints (kb/ddl.py), finds out
whether the load is the database's first and, if so, drops the search index for the writer to
build once the entities are in. For a large first load it then has the server plan the entity
statements the writer will send: a fresh server spends 0.15 to 0.4 s planning each.
"""
from __future__ import annotations

import contextlib
import math
import threading

from kb import db, ddl
from kb.schema import schema
from loaders import turns
from loaders.writer import Batch, entity_statement, holds_entities


class Preparation:
    """Runs on a thread of its own from start() until finish() or stop(); does nothing unless
    touch_database (a dry run leaves the database alone)."""

    def __init__(self, plan_statements: bool, batch_size: int, touch_database: bool = True):
        self.touch_database = touch_database
        self.plan_statements = plan_statements
        self.batch_size = batch_size
        self.first_load = False
        self._error: BaseException | None = None
        self._stopping = False
        # Held whenever the thread talks to the server, so that a fork never copies it mid-call.
        self._talking = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="kb-load-preparation", daemon=True)

    def start(self) -> "Preparation":
        self._thread.start()
        return self

    @contextlib.contextmanager
    def quiet(self):
        """Keep the thread between two calls to the server (for a fork: the child must not
        inherit a driver lock some call holds)."""
        with self._talking:
            yield

    def finish(self) -> None:
        """Wait until the preparation is done; raise its error, if any."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """End the thread after its current call (the load will not write)."""
        self._stopping = True
        self._thread.join()

    def _run(self) -> None:
        if not self.touch_database:
            return
        try:
            with self._talking:
                ddl.init()
                self.first_load = not holds_entities()
                if self.first_load:
                    # Before any planning: a change of schema clears the server's plan cache.
                    ddl.drop_search_index()
            if self.first_load and self.plan_statements:
                self._plan_entity_statements()
        except BaseException as error:  # raised again by finish(), in the loading thread
            self._error = error

    def _plan_entity_statements(self) -> None:
        rows = Batch([{}] * _rows_planned_alike(self.batch_size))
        for type_name in schema().entities:
            with self._talking:
                if self._stopping:
                    return
                db.write_tx(turns.plan, entity_statement(type_name, create=True), rows)


def _rows_planned_alike(batch_size: int) -> int:
    """The fewest rows the server plans for as it plans for a full batch.

    Neo4j caches a plan by statement and the size of each list parameter rounded up to a power
    of ten (a batch of 10,000 rows shares its plan with any of 1,001 to 10,000). Were that to
    change, the plan made here would go unused, costing time, never correctness."""
    if batch_size <= 1:
        return batch_size
    return 10 ** (math.ceil(math.log10(batch_size)) - 1) + 1
