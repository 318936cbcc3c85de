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

from kb import config, ddl
from kb.schema import schema
from loaders import reconcile, worker
from loaders.new_records import NewRecords
from loaders.preparation import Preparation
from loaders.records import RelationRecord, Validator
from loaders.spool import Spool
from loaders.writer import BatchWriter, prepared, stored_types


@dataclass(frozen=True)
class RecordSource:
    """An input read in two phases, entities then relations, so relations always find their ends.

    Each phase yields records as it reads them, so that large files stream instead of sitting in
    memory. A source whose relations come in independent parts (files) lists them as
    (size in bytes, phase), in order; a large input's later parts are then checked on another core.
    """
    entities: Callable[[Validator], Iterable]
    relations: Callable[[Validator], Iterable]
    relation_parts: tuple = ()
    # A named source (wikidata, gleif, ...) proposes ids, which reconciliation decides
    # (loaders/reconcile.py); seed and CSV records carry their final ids and skip that step.
    source_name: str | None = None
    # What the reader found for a researcher to look at (e.g. names no entity has), once read.
    review: Callable[[], list] | None = None

    def __call__(self, validator: Validator) -> Iterable:
        yield from self.entities(validator)
        yield from self.relations(validator)

    def parts(self) -> tuple:
        """The relation phase in parts, (size, phase); one part of unknown size if not split."""
        return self.relation_parts or ((0, self.relations),)

    @classmethod
    def of_parts(cls, entities: Callable[[Validator], Iterable], parts: tuple) -> "RecordSource":
        """A source whose relation phase is its parts, (size, phase), read in order."""
        def relations(validator: Validator):
            for _, phase in parts:
                yield from phase(validator)

        return cls(entities, relations, parts)


def combine(sources: list[RecordSource]) -> RecordSource:
    """One source reading the entities of every source before any relation."""
    def entities(validator):
        for source in sources:
            yield from source.entities(validator)

    return RecordSource.of_parts(entities, tuple(part for source in sources for part in source.parts()))


@dataclass
class LoadReport:
    entities: int
    relations: int
    written: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    dry_run: bool = False
    reconciliation: list = field(default_factory=list)     # reconcile.Outcome of each record decided
    review: list = field(default_factory=list)

    def describe(self) -> str:
        verb = "validated (dry run, nothing written)" if self.dry_run else "loaded"
        lines = [f"{self.entities} entities and {self.relations} relations {verb} in {self.seconds:.1f} s"]
        lines += [f"To review: {item}" for item in self.review]
        return "\n".join(lines)


def _progress(total: int, description: str, show: bool | None):
    # delay: a bar appears only for loads that take more than a moment.
    return tqdm(total=total, desc=description, unit=" records", file=sys.stderr, delay=1.0,
                disable=not sys.stderr.isatty() if show is None else not show, dynamic_ncols=True)


@dataclass
class _Checked:
    """Where the validation pass leaves what it checked: the validator's findings, the spooled
    rows and the counted relation identities."""
    validator: Validator
    spool: Spool
    new_records: NewRecords
    dry_run: bool

    def take(self, records: Iterable) -> None:
        for record in records:
            if not self.dry_run:
                item = prepared(record)
                self.spool.add(item)
                if isinstance(record, RelationRecord):
                    self.new_records.count_relation(item)

    def absorb(self, other: "_Checked") -> None:
        self.validator.absorb(other.validator)
        self.new_records.absorb(other.new_records)
        self.spool.extend(other.spool)


# Below this many bytes of relation files, a worker process would save less than it costs.
PARALLEL_FROM_BYTES = 16 * 1024 * 1024


def _is_large(parts: tuple) -> bool:
    return sum(size for size, _ in parts) >= PARALLEL_FROM_BYTES


def _check_relations(parts: tuple, checked: _Checked, quiet) -> None:
    """Check every relation part; on a large input, the later half of them in a worker process
    (forked under quiet, see worker.forked)."""
    own, later = _halves(parts)
    if not later or not _is_large(parts) or not worker.CAN_FORK:
        for _, phase in parts:
            checked.take(phase(checked.validator))
        return
    with Spool() as worker_spool:
        def check_later():
            found = _Checked(checked.validator.for_later_relations(), worker_spool, NewRecords(), checked.dry_run)
            for _, phase in later:
                found.take(phase(found.validator))
            worker_spool.flush()
            # The spool's file is shared with this process; the rest goes back through the pipe.
            return found.validator.findings(), found.new_records

        with worker.forked(check_later, quiet) as later_worker:
            for _, phase in own:
                checked.take(phase(checked.validator))
            later_validator, later_records = later_worker.result()
        checked.absorb(_Checked(later_validator, worker_spool, later_records, checked.dry_run))


def _halves(parts: tuple) -> tuple[tuple, tuple]:
    """The parts split in two runs of about equal size, order kept."""
    total, running, best = sum(size for size, _ in parts), 0, (float("inf"), 0)
    for index, (size, _) in enumerate(parts[:-1], start=1):
        running += size
        best = min(best, (abs(total - 2 * running), index))
    return parts[:best[1]], parts[best[1]:]


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
def _server_prepared(records: RecordSource, dry_run: bool, batch_size: int):
    """The server's part of the load prepared while the input is validated (loaders/preparation.py);
    yields the Preparation, which leaves the database alone in a dry run.

    Into a database without entities, the search index is then built once the load's entities
    are written (Preparation.first_load): Lucene indexes a finished set of entities in one pass
    faster than it follows every batch (200,000 entities: 3.6 s in one pass, against 8 s more
    during the load), and the server builds it on its own thread while the relations are
    written. A search made meanwhile says that the index is being built (kb/search.py) rather
    than find part of the load. Into any other database, the index stays and follows every batch."""
    preparing = Preparation(_is_large(records.parts()), batch_size, touch_database=not dry_run).start()
    try:
        yield preparing
    finally:
        preparing.stop()
        if preparing.first_load:
            ddl.init()


def _identities(records: RecordSource, spool: Spool, new_records: NewRecords, validator: Validator,
                decisions: dict | None) -> tuple:
    """(rows to write, what of them is new, reconciliation outcomes): a named source's rows as
    reconciliation decides; seed and CSV rows as they are, their ids final (no lookup: fast)."""
    if records.source_name is None:
        new_records.know_entities(validator.types, validator.stored_ids)
        return spool, new_records, []
    decided = reconcile.reconcile(spool, records.source_name, decisions)
    return decided.items, decided.new_records, decided.outcomes


def load(records: RecordSource, dry_run: bool = False, batch_size: int | None = None,
         show_progress: bool | None = None, decisions: dict | None = None) -> LoadReport:
    """Validate every record (raising InvalidRecord, with nothing written), reconcile a named
    source's (decisions: a researcher's, see loaders/reconcile.py), then write them all.

    The input is read once: the checked rows wait in a spool on disk until the whole input has
    passed, then go to the database in batches. Records that cannot be stored yet are created
    rather than merged (loaders/new_records.py).
    """
    started = time.monotonic()
    batch_size = batch_size or config.setting("batch_size")
    validator, new_records = Validator(schema()), NewRecords()
    with _rare_garbage_collection(), Spool() as spool, _server_prepared(records, dry_run, batch_size) as preparing:
        checked = _Checked(validator, spool, new_records, dry_run)
        checked.take(records.entities(validator))
        _check_relations(records.parts(), checked, preparing.quiet)
        preparing.finish()
        validator.finish(stored_types)
        report = LoadReport(validator.entity_count, validator.relation_count, dry_run=dry_run,
                            review=list(records.review()) if records.review else [])
        if not dry_run:
            items, new_records, report.reconciliation = _identities(records, spool, new_records, validator, decisions)
            total = validator.entity_count + validator.relation_count
            entities_written = ddl.create_search_index if preparing.first_load else (lambda: None)
            with _progress(total, "Loading", show_progress) as bar:
                with BatchWriter(batch_size, new_records, bar.update, entities_written) as writer:
                    for item in items:
                        writer.add(item)
                report.written = writer.written
    if not dry_run:
        ddl.await_search_index()
    report.seconds = time.monotonic() - started
    return report
