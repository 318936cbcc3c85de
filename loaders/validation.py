"""The validate step of a load: every record read and checked, the checked rows spooled on disk.

Nothing is written to the database here; a problem anywhere refuses the whole input
(Validator.finish raises InvalidRecord).
"""
from __future__ import annotations

import contextlib
import gc
from dataclasses import dataclass, field
from typing import Iterable

from kb.schema import schema
from loaders import worker
from loaders.new_records import NewRecords
from loaders.records import RelationRecord, Row, Validator
from loaders.source import RecordSource
from loaders.spool import Spool
from loaders.writer import stored_types


@dataclass
class Checked:
    """Where the validation pass leaves what it checked: the validator's findings, the spooled
    rows and the counted relation identities."""
    validator: Validator
    spool: Spool
    dry_run: bool
    new_records: NewRecords = field(default_factory=NewRecords)

    def take(self, records: Iterable) -> None:
        for record in records:
            if not self.dry_run:
                item = Row.of(record)
                self.spool.add(item)
                if isinstance(record, RelationRecord):
                    self.new_records.count_relation(item)


@contextlib.contextmanager
def rare_garbage_collection():
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


# Below this many bytes of relation files, checking half of them in a worker process saves less
# time than the fork and the hand-over cost (1 MB, 20,000 relations: 0.22 s checked here alone,
# 0.17 s with the worker; 0.5 MB: 0.11 s and 0.08 s).
PARALLEL_FROM_BYTES = 1024 * 1024


def check(records: RecordSource, spool: Spool, dry_run: bool) -> Checked:
    """Read and check every record of the input, leaving its Rows in spool (none in a dry run);
    raise InvalidRecord, naming each problem's origin and field, if any record is refused.

    A large input whose relations lie in several parts has the later half of them checked in a
    forked worker on the other core, with the same result as if checked here."""
    checked = Checked(Validator(schema()), spool, dry_run)
    checked.take(records.entities(checked.validator))
    own, later = _halves(records.relation_parts)
    if own and later and worker.CAN_FORK and sum(size for size, _ in records.relation_parts) >= PARALLEL_FROM_BYTES:
        _check_beside(own, later, checked)
    else:
        for _, phase in records.relation_parts:
            checked.take(phase(checked.validator))
    checked.validator.finish(stored_types)
    return checked


def _check_beside(own: tuple, later: tuple, checked: Checked) -> None:
    """Check the own parts here while a forked worker checks the later ones into a spool of its
    own; then take over what it found, its rows after these."""
    with Spool() as later_spool:
        def check_later():
            found = Checked(checked.validator.for_later_relations(), later_spool, checked.dry_run)
            for _, phase in later:
                found.take(phase(found.validator))
            # The spool's file is shared with this process; the rest goes back through the pipe.
            later_spool.flush()
            return found.validator.findings(), found.new_records

        with worker.forked(check_later) as later_worker:
            for _, phase in own:
                checked.take(phase(checked.validator))
            findings, new_records = later_worker.result()
        checked.validator.absorb(findings)
        checked.new_records.absorb(new_records)
        checked.spool.extend(later_spool)


def _halves(parts: tuple) -> tuple[tuple, tuple]:
    """The parts split in two runs of about equal size, their order kept."""
    total, running, best = sum(size for size, _ in parts), 0, (float("inf"), 0)
    for index, (size, _) in enumerate(parts[:-1], start=1):
        running += size
        best = min(best, (abs(total - 2 * running), index))
    return parts[:best[1]], parts[best[1]:]
