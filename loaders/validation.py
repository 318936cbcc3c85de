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


def check(records: RecordSource, spool: Spool, dry_run: bool) -> Checked:
    """Read and check every record of the input, leaving its Rows in spool (none in a dry run);
    raise InvalidRecord, naming each problem's origin and field, if any record is refused."""
    checked = Checked(Validator(schema()), spool, dry_run)
    checked.take(records(checked.validator))
    checked.validator.finish(stored_types)
    return checked
