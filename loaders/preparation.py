"""The database made ready for a load's write: its constraints, and on a first load its search index.

Into a database without entities, the search index is dropped before the load and built once the
load's entities are written (loaders/writer.py): Lucene indexes a finished set of entities in one
pass faster than it follows every batch (200,000 entities: 3.6 s in one pass, against 8 s more
during the load), and the server builds it on its own thread while the relations are written. A
search made meanwhile says that the index is being built (kb/search.py) rather than find part of
the load. Into any other database, the index stays and follows every batch.
"""
from __future__ import annotations

import contextlib

from kb import ddl
from loaders.writer import holds_entities


@contextlib.contextmanager
def database_ready(dry_run: bool):
    """Make sure of the constraints (as `kb init`, even if the input is then refused: validation
    looks stored ids up through them); yields whether the load is the database's first. A dry run
    leaves the database alone. On leaving, a first load's search index is there again."""
    if dry_run:
        yield False
        return
    ddl.init()
    first_load = not holds_entities()
    if first_load:
        ddl.drop_search_index()
    try:
        yield first_load
    except BaseException:
        if first_load:
            # The load's own error is the one to report, even if the server is gone (a failed bulk
            # import may leave it down) and the index cannot be made again now: `kb init` makes it.
            with contextlib.suppress(Exception):
                ddl.init()
        raise
    if first_load:
        ddl.init()
