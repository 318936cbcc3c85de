"""Bulk mode: a first load into the empty local database through neo4j-admin's offline import.

The rows come from the same validation pass as an incremental load's and leave here as the graph
the incremental writer would make: the same search keys (with_search_keys), a tie given twice
merged into one as MERGE would merge it, symmetric ties already in id order. They go to CSV
files, one per entity type and per relation type, whose headers come from the schema. The import
itself is an operation on the local server (kb/ops/admin.py bulk_import, which stops the server
for it): the interface that asks for a bulk load hands it in as `offline_import`.
"""
from __future__ import annotations

import csv
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from kb import config, db, types
from kb.errors import BulkLoadError
from kb.schema import ENTITY_LABEL, schema
from loaders.records import END, KEY, PROPS, START, Row, merged, with_search_keys

MODES = ("auto", "bulk", "incremental")
# From this many records auto takes bulk mode: at 1.2M records into an empty database bulk took 46 s
# with the server's restart against 52 s incrementally (docs/BENCHMARKS.md, 2 December). A restart
# costs the same at any size, so smaller loads gain less; where the two modes meet has not been measured.
BULK_FROM_RECORDS = 1_000_000
# Arrays are joined with the unit separator, a character no name or source id uses; a value
# holding it is refused rather than split (checked by count, see _CsvFiles.close).
ARRAY_DELIMITER = "\x1f"
# The computed properties every entity gets (records.with_search_keys).
SEARCH_COLUMNS = ("search_keys:string[]", "search_text")
# Bolt connections of the server that are not this process's: another client at work.
OTHER_CONNECTIONS = ("CALL dbms.listConnections() YIELD userAgent "
                     "WHERE userAgent <> $ours RETURN count(*) AS others")


def refusal(source_name: str | None, offline_import, asked: bool) -> str | None:
    """Why this load cannot go through bulk mode, or None when it can (the server must be up).
    Unless bulk mode was asked for, the server is not stopped while another client uses it."""
    conn = config.connection()
    if not conn.local:
        return f"bulk mode imports into the local server only, and NEO4J_URI names {conn.uri}"
    if offline_import is None:
        return "bulk mode needs the local server's offline import, which `kb load` provides"
    if source_name is not None:
        return f"a {source_name} load is reconciled with the graph, so it loads incrementally"
    if db.read("MATCH (n) RETURN count(n) > 0 AS found")[0]["found"]:
        return "the database already holds nodes; bulk mode imports into an empty one"
    if not asked and db.read(OTHER_CONNECTIONS, ours=db.USER_AGENT)[0]["others"]:
        return "another client is connected to the local server, which a bulk load would stop"
    return None


def check_mode(mode: str, source_name: str | None, dry_run: bool, offline_import) -> None:
    """Refuse, before the input is read (minutes at a million records), an unknown mode or a bulk load
    that cannot run (BulkLoadError, one line)."""
    if mode not in MODES:
        raise BulkLoadError(f"unknown load mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "bulk" and not dry_run:
        _insist(refusal(source_name, offline_import, asked=True))


def choose(mode: str, source_name: str | None, records: int, offline_import) -> str:
    """The mode a validated load of that many records goes by: bulk or incremental (check_mode has
    passed). auto takes bulk for a large first load into the empty local database that no other
    client uses; bulk insists, and is asked again here, as the database may have changed meanwhile."""
    if mode == "incremental" or (mode == "auto" and records < BULK_FROM_RECORDS):
        return "incremental"
    reason = refusal(source_name, offline_import, asked=mode == "bulk")
    if mode == "bulk":
        _insist(reason)
    return "bulk" if reason is None else "incremental"


def _insist(reason: str | None) -> None:
    if reason is not None:
        raise BulkLoadError(f"Bulk load refused: {reason} (use --mode incremental).")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write(items: Iterable[Row], is_repeated: Callable[[Row], bool], offline_import, echo=_say) -> Counter:
    """Import the checked rows into the empty local database; returns the input's rows by type (a tie
    the input states twice counts twice, though it is imported once).

    is_repeated(item) is True for a relation whose identity the input gives more than once
    (loaders/new_records.py): those are merged here first. offline_import(arguments, echo) runs
    neo4j-admin's full import with the files' arguments; the constraints and indexes are the
    caller's to make (kb/ddl.py init)."""
    with tempfile.TemporaryDirectory(prefix="kb-bulk-") as work:
        files = _CsvFiles(Path(work))
        try:
            written = _write_rows(items, is_repeated, files)
        finally:
            files.close()
        offline_import(_import_arguments(files, Path(work)), echo)
    return written


def _import_arguments(files: "_CsvFiles", work: Path) -> list[str]:
    """neo4j-admin's arguments for the files: labels and types, delimiters, multi-line fields."""
    arguments = [f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}", f"--report-file={work / 'import.report'}"]
    arguments += [f"--nodes={ENTITY_LABEL}:{type_name}={path}" for type_name, path in files.nodes]
    arguments += [f"--relationships={type_name}={path}" for type_name, path in files.relationships]
    if files.multiline:
        arguments += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(map(str, files.multiline))]
    return arguments


def _write_rows(items: Iterable[Row], is_repeated: Callable[[Row], bool], files: "_CsvFiles") -> Counter:
    written, repeated = Counter(), {}
    for item in items:
        is_entity, type_name, row = item
        written[type_name] += 1
        if is_entity:
            files.entity(type_name, with_search_keys(row))
        elif not is_repeated(item):
            files.relation(type_name, row[START], row[END], row[PROPS])
        else:
            identity = (type_name, row[START], row[END], row[KEY])
            repeated[identity] = merged(repeated.get(identity), row[PROPS])
    for (type_name, start, end, _), props in repeated.items():
        files.relation(type_name, start, end, props)
    return written


class _ImportFile:
    """One import file: its header written on opening, then one line per row."""

    def __init__(self, path: Path, header: list[str], names: list[str], kinds: list[str]):
        self.path, self.names = path, names
        self.list_columns = [i for i, kind in enumerate(kinds) if types.of(kind).is_list]
        self.boolean_columns = [i for i, kind in enumerate(kinds) if kind == "boolean"]
        self.rows = 0
        self.array_joins = 0        # delimiters written between list items
        self._handle = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(header)

    def add(self, first: list, props: dict) -> None:
        """Write a row: the first cells, then the properties in column order. The csv module writes an
        absent value (None) as an empty cell and a number as its repr; lists and booleans take
        kb.types.csv_cell (only those columns: a call per cell would slow a million-row import)."""
        cells = [props.get(name) for name in self.names]
        for index in self.list_columns:
            if cells[index] is not None:
                self.array_joins += len(cells[index]) - 1
                cells[index] = types.csv_cell(cells[index], ARRAY_DELIMITER)
        for index in self.boolean_columns:
            cells[index] = types.csv_cell(cells[index])
        self._writer.writerow(first + cells)
        self.rows += 1

    def close(self) -> None:
        self._handle.close()


class _CsvFiles:
    """One import file per entity type and per relation type, opened with its header on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.open: dict[str, _ImportFile] = {}
        self.nodes: list[tuple[str, Path]] = []
        self.relationships: list[tuple[str, Path]] = []
        self.multiline: list[Path] = []

    def _file(self, type_name: str, is_entity: bool) -> _ImportFile:
        if type_name not in self.open:
            declared = (schema().entity(type_name) if is_entity else schema().relation(type_name)).properties
            names = [name for name in declared if name != "id"]
            kinds = [declared[name].type for name in names]
            header = [f"{name}:{types.of(kind).import_type}" for name, kind in zip(names, kinds)]
            if is_entity:
                header = ["id:ID", *header, *SEARCH_COLUMNS]
                names += [column.split(":")[0] for column in SEARCH_COLUMNS]
                kinds += ["string[]", "string"]
            else:
                header = [":START_ID", ":END_ID", *header]
            path = self.folder / f"{'nodes' if is_entity else 'relationships'}_{type_name}.csv"
            (self.nodes if is_entity else self.relationships).append((type_name, path))
            self.open[type_name] = _ImportFile(path, header, names, kinds)
        return self.open[type_name]

    def entity(self, type_name: str, props: dict) -> None:
        self._file(type_name, True).add([props["id"]], props)

    def relation(self, type_name: str, start: str, end: str, props: dict) -> None:
        self._file(type_name, False).add([start, end], props)

    def close(self) -> None:
        """Close every file, then check what the import must know: which files hold a value on
        several lines (neo4j-admin reads only those slowly), and that no value held the array
        delimiter (the file would hold more of them than the arrays' joins)."""
        for file in self.open.values():
            file.close()
        for file in self.open.values():
            content = file.path.read_bytes()
            if content.count(b"\n") != file.rows + 1 or b"\r" in content:
                self.multiline.append(file.path)
            if content.count(ARRAY_DELIMITER.encode()) != file.array_joins:
                raise BulkLoadError(f"Bulk load refused: a value of the input holds the character U+001F, which "
                                    f"bulk mode uses between list items ({file.path.name}); use --mode incremental.")
