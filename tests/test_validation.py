"""The validate step (loaders/validation.py): a large input whose relations lie in several files has
half of them checked in a worker process, with the result of checking them all here: the same rows
in the same order, the same relations known to be new, the same problems in the same order."""
from pathlib import Path

import pytest

from bench import synthetic
from kb.errors import InvalidRecord
from loaders import csv as csv_loader
from loaders import validation
from loaders.source import RecordSource
from loaders.spool import Spool


@pytest.fixture(scope="module")
def large_input(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    synthetic.generate(entities=5000, relations=25000, seed=3, out=folder)
    relation_bytes = sum(path.stat().st_size for path in folder.glob("relationships_*.csv"))
    assert relation_bytes >= validation.PARALLEL_FROM_BYTES, "the input must be large enough for the worker"
    return folder


def in_one_part(source: RecordSource) -> RecordSource:
    """The same records, the relations read as one part: nothing to split, all checked here."""
    def relations(validator):
        for _, phase in source.relation_parts:
            yield from phase(validator)

    return RecordSource.of(source.entities, relations)


def checked_rows(source: RecordSource) -> tuple[list, list]:
    """The spooled rows and, for each, whether the writer would create it."""
    with Spool() as spool:
        checked = validation.check(source, spool, dry_run=False)
        checked.new_records.know_entities(checked.validator.types, checked.validator.stored_ids)
        rows = list(spool)
    return rows, [checked.new_records.is_new(row) for row in rows]


def test_a_large_input_is_checked_on_two_cores_as_on_one(empty_db, large_input):
    source = csv_loader.reader([large_input])
    assert len(source.relation_parts) > 1
    rows, new = checked_rows(source)
    assert (rows, new) == checked_rows(in_one_part(source))
    relation_lines = sum(sum(1 for _ in path.open(encoding="utf-8")) - 1
                         for path in large_input.glob("relationships_*.csv"))
    assert sum(not row.is_entity for row in rows) == relation_lines


def problems_of(source: RecordSource) -> InvalidRecord:
    with pytest.raises(InvalidRecord) as refused, Spool() as spool:
        validation.check(source, spool, dry_run=True)
    return refused.value


def test_problems_in_both_halves_are_reported_in_file_order(empty_db, large_input, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    files = sorted(large_input.glob("*.csv"))
    relation_files = [path for path in files if path.name.startswith("relationships_")]
    first, last = relation_files[0], relation_files[-1]
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if path in (first, last):
            # The first data row's start now names an id that exists nowhere.
            lines[1] = "no-such-entity" + lines[1][lines[1].index(","):]
        (folder / path.name).write_text("".join(lines), encoding="utf-8")

    source = csv_loader.reader([folder])
    found = problems_of(source)
    assert found.problems == problems_of(in_one_part(source)).problems
    assert found.total == 2
    assert [problem.split(" line ")[0] for problem in found.problems] == [str(folder / first.name),
                                                                          str(folder / last.name)]
    assert all("'no-such-entity'" in problem for problem in found.problems)
