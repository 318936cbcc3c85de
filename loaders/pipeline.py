"""The load pipeline every source shares: validate the whole input, then write it in batches."""
from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tqdm import tqdm

from kb import config, db, ddl
from kb.schema import ENTITY_LABEL, schema
from loaders.new_records import NewRecords
from loaders.records import RelationRecord, Validator
from loaders.spool import Spool
from loaders.writer import BatchWriter, prepared, stored_types


@dataclass(frozen=True)
class RecordSource:
    """An input read in two phases, entities then relations, so relations always find their ends.

    Each phase yields records as it reads them, so that large files stream instead of sitting in
    memory.
    """
    entities: Callable[[Validator], Iterable]
    relations: Callable[[Validator], Iterable]

    def __call__(self, validator: Validator) -> Iterable:
        yield from self.entities(validator)
        yield from self.relations(validator)


def combine(sources: list[RecordSource]) -> RecordSource:
    """One source reading the entities of every source before any relation."""
    def entities(validator):
        for source in sources:
            yield from source.entities(validator)

    def relations(validator):
        for source in sources:
            yield from source.relations(validator)

    return RecordSource(entities, relations)


@dataclass
class LoadReport:
    entities: int
    relations: int
    written: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    dry_run: bool = False

    def describe(self) -> str:
        verb = "validated (dry run, nothing written)" if self.dry_run else "loaded"
        return f"{self.entities} entities and {self.relations} relations {verb} in {self.seconds:.1f} s"


def _progress(total: int, description: str, show: bool | None):
    # delay: a bar appears only for loads that take more than a moment.
    return tqdm(total=total, desc=description, unit=" records", file=sys.stderr, delay=1.0,
                disable=not sys.stderr.isatty() if show is None else not show, dynamic_ncols=True)


@contextlib.contextmanager
def _rare_garbage_collection():
    """Collect young objects every 100,000 allocations instead of every 700 during a load.

    A load keeps thousands of rows alive in its current chunk and batch, so each default young
    collection walks them again (about a quarter of the validation pass at 1M relations). Rows
    form no reference cycles themselves; the driver's objects that do hold them, the writer
    empties once a batch is written."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


@contextlib.contextmanager
def _search_index_built_after_a_first_load():
    """Into a database without entities, build the search index once the load has written.

    Lucene indexes a finished graph in one pass faster than it follows every batch (200,000
    entities: 3.6 s afterwards, against 8 s more during the load). A search made meanwhile says
    that the index is being built (kb/search.py) rather than find part of the load. Into any
    other database, the index stays and follows every batch."""
    first_load = db.read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) = 0 AS empty")[0]["empty"]
    if first_load:
        ddl.drop_search_index()
    try:
        yield
    finally:
        if first_load:
            ddl.init()


def load(records: RecordSource, dry_run: bool = False, batch_size: int | None = None,
         show_progress: bool | None = None) -> LoadReport:
    """Validate every record (raising InvalidRecord, with nothing written), then write them all.

    The input is read once: the checked rows wait in a spool on disk until the whole input has
    passed, then go to the database in batches. Records that cannot be stored yet are created
    rather than merged (loaders/new_records.py).
    """
    started = time.monotonic()
    validator, new_records = Validator(schema()), NewRecords()
    with _rare_garbage_collection(), Spool() as spool:
        for record in records(validator):
            if not dry_run:
                item = prepared(record)
                spool.add(item)
                if isinstance(record, RelationRecord):
                    new_records.count_relation(item)
        validator.finish(stored_types)
        report = LoadReport(validator.entity_count, validator.relation_count, dry_run=dry_run)
        if not dry_run:
            ddl.init()
            new_records.know_entities(validator.types, validator.stored_ids)
            total = validator.entity_count + validator.relation_count
            with _search_index_built_after_a_first_load(), _progress(total, "Loading", show_progress) as bar:
                with BatchWriter(batch_size or config.setting("batch_size"), new_records, bar.update) as writer:
                    for item in spool:
                        writer.add(item)
                report.written = writer.written
            ddl.await_search_index()
    report.seconds = time.monotonic() - started
    return report
