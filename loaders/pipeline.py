"""A load's lifecycle in one place, every source's: read and validate, reconcile, choose the mode,
write, finish; each step one call into one module, passing Rows (loaders/records.py) on."""
from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from tqdm import tqdm

from kb import config, ddl
from loaders import bulk, preparation, reconcile, validation, writer
from loaders.source import RecordSource
from loaders.spool import Spool


@dataclass
class LoadReport:
    entities: int
    relations: int
    written: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    checked_seconds: float = 0.0     # of seconds, those spent reading and validating the input
    dry_run: bool = False
    reconciliation: list = field(default_factory=list)     # reconcile.Outcome of each record decided
    review: list = field(default_factory=list)

    def describe(self) -> str:
        verb = "validated (dry run, nothing written)" if self.dry_run else "loaded"
        lines = [f"{self.entities} entities and {self.relations} relations {verb} in {self.seconds:.1f} s"
                 + ("" if self.dry_run else f" (the input read and checked in {self.checked_seconds:.1f} s)")]
        lines += [f"To review: {item}" for item in self.review]
        return "\n".join(lines)


def _progress(total: int, description: str, show: bool | None):
    # delay: a bar appears only for loads that take more than a moment.
    return tqdm(total=total, desc=description, unit=" records", file=sys.stderr, delay=1.0,
                disable=not sys.stderr.isatty() if show is None else not show, dynamic_ncols=True)


def _identities(records: RecordSource, checked: validation.Checked, decisions: dict | None) -> tuple:
    """(rows to write, what of them is new, reconciliation outcomes): a named source's rows as
    reconciliation decides; seed and CSV rows as they are, their ids final (no lookup: fast)."""
    if records.source_name is None:
        checked.new_records.know_entities(checked.validator.types, checked.validator.stored_ids)
        return checked.spool, checked.new_records, []
    decided = reconcile.reconcile(checked.spool, records.source_name, decisions)
    return decided.items, decided.new_records, decided.outcomes


def load(records: RecordSource, dry_run: bool = False, batch_size: int | None = None,
         show_progress: bool | None = None, decisions: dict | None = None, mode: str = "auto",
         offline_import=None) -> LoadReport:
    """Validate every record (raising InvalidRecord, with nothing written), reconcile a named
    source's (decisions: a researcher's, see loaders/reconcile.py), choose the mode, then write
    them all.

    The input is read once: the checked rows wait in a spool on disk until the whole input has
    passed, then go to the database. offline_import (kb/ops/admin.py bulk_import) makes bulk mode
    possible: without it every load is incremental.
    """
    started = time.monotonic()
    batch_size = batch_size or config.setting("batch_size")
    with validation.rare_garbage_collection(), preparation.database_ready(dry_run) as first_load, Spool() as spool:
        bulk.check_mode(mode, records.source_name, dry_run, offline_import)
        checking = time.monotonic()
        checked = validation.check(records, spool, dry_run)                                  # read, validate
        report = LoadReport(checked.validator.entity_count, checked.validator.relation_count, dry_run=dry_run,
                            review=list(records.review()) if records.review else [],
                            checked_seconds=time.monotonic() - checking)
        if not dry_run:
            rows, new_records, report.reconciliation = _identities(records, checked, decisions)   # reconcile
            total = report.entities + report.relations
            if bulk.choose(mode, records.source_name, total, offline_import) == "bulk":         # choose mode
                # A first load: preparation.database_ready builds the constraints and indexes once it is in.
                report.written = bulk.write(rows, new_records.is_repeated, offline_import)       # write
            else:
                report.written = writer.write(rows, new_records, batch_size, first_load,
                                              progress=_progress(total, "Loading", show_progress))
            if records.after_write:
                records.after_write()
    if not dry_run:
        _finish()                                                                                # finish
    report.seconds = time.monotonic() - started
    return report


def _finish() -> None:
    """What a load does once written: its entities searchable before it returns."""
    ddl.await_search_index()
