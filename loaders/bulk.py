"""Bulk mode: a first load into the empty local database through neo4j-admin's offline import.

The rows come from the same validation pass as an incremental load's and leave here as the graph
the incremental writer would make: the same search keys (with_search_keys), a tie given twice
merged into one as MERGE would merge it, symmetric ties already in id order. They go to CSV
files, one per entity type and per relation type, whose headers come from the schema. Neo4j
Community imports only into a database no server holds, so the local server is stopped for the
import and started again after it.

The import writes into a staging database folder, which replaces the empty database's folders
only once it has succeeded: a failed or killed import leaves the database as it was, empty.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable

from kb import config, db, server, tools
from kb.errors import BulkLoadError, ServerError
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
# neo4j-admin's names for our property types: an int is 64 bits (neo4j-admin's int has 32) and a
# float a double, as the driver sends them; dates stay strings, as the incremental writer keeps them.
HEADER_TYPES = {"string": "string", "string[]": "string[]", "int": "long", "float": "double",
                "boolean": "boolean", "date": "string"}
# The computed properties every entity gets (records.with_search_keys).
SEARCH_COLUMNS = ("search_keys:string[]", "search_text")
# Where Neo4j keeps a database under its home, and the name the import writes under first.
STORE_FOLDERS = ("data/databases", "data/transactions")
STAGING = "kb-bulk-import"


def refusal(source_name: str | None) -> str | None:
    """Why this load cannot go through bulk mode, or None when it can (the server must be up)."""
    conn = config.connection()
    if not conn.local:
        return f"bulk mode imports into the local server only, and NEO4J_URI names {conn.uri}"
    if source_name is not None:
        return f"a {source_name} load is reconciled with the graph, so it loads incrementally"
    if db.read("MATCH (n) RETURN count(n) > 0 AS found")[0]["found"]:
        return "the database already holds nodes; bulk mode imports into an empty one"
    return None


def check_mode(mode: str, source_name: str | None, dry_run: bool) -> None:
    """Refuse, before the input is read (minutes at a million records), an unknown mode or a bulk load
    that cannot run (BulkLoadError, one line)."""
    if mode not in MODES:
        raise BulkLoadError(f"unknown load mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "bulk" and not dry_run:
        _insist(refusal(source_name))


def choose(mode: str, source_name: str | None, records: int) -> str:
    """The mode a validated load of that many records goes by: bulk or incremental (check_mode has
    passed). auto takes bulk for a large first load into the empty local database; bulk insists, and
    is asked again here, as the database may have changed during the validation."""
    if mode == "incremental" or (mode == "auto" and records < BULK_FROM_RECORDS):
        return "incremental"
    reason = refusal(source_name)
    if mode == "bulk":
        _insist(reason)
    return "bulk" if reason is None else "incremental"


def _insist(reason: str | None) -> None:
    if reason is not None:
        raise BulkLoadError(f"Bulk load refused: {reason} (use --mode incremental).")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write(items: Iterable[Row], is_repeated: Callable[[Row], bool], echo=_say) -> Counter:
    """Import the checked rows into the empty local database; returns the input's rows by type (a tie
    the input states twice counts twice, though it is imported once).

    is_repeated(item) is True for a relation whose identity the input gives more than once
    (loaders/new_records.py): those are merged here first. The server is stopped and started
    again; the constraints and indexes are the caller's to make (kb/ddl.py init)."""
    with tempfile.TemporaryDirectory(prefix="kb-bulk-") as work:
        files = _CsvFiles(Path(work))
        try:
            written = _write_rows(items, is_repeated, files)
        finally:
            files.close()
        _import(files, Path(work), echo)
    return written


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
        self.list_columns = [i for i, kind in enumerate(kinds) if kind == "string[]"]
        self.boolean_columns = [i for i, kind in enumerate(kinds) if kind == "boolean"]
        self.rows = 0
        self.array_joins = 0        # delimiters written between list items
        self._handle = open(path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(header)

    def add(self, first: list, props: dict) -> None:
        """Write a row: the first cells, then the properties in column order. The csv module writes an
        absent value (None) as an empty cell and a number as its repr; lists and booleans need us."""
        cells = [props.get(name) for name in self.names]
        for index in self.list_columns:
            items = cells[index]
            if items is not None:
                self.array_joins += len(items) - 1
                cells[index] = ARRAY_DELIMITER.join(items)
        for index in self.boolean_columns:
            if cells[index] is not None:
                cells[index] = "true" if cells[index] else "false"
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
            header = [f"{name}:{HEADER_TYPES[kind]}" for name, kind in zip(names, kinds)]
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


def _import(files: _CsvFiles, work: Path, echo) -> None:
    """Stop the server, import the files into the staging folders, swap them in, start the server."""
    arguments = ["database", "import", "full", STAGING, "--overwrite-destination=true",
                 f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}", f"--report-file={work / 'import.report'}"]
    arguments += [f"--nodes={ENTITY_LABEL}:{type_name}={path}" for type_name, path in files.nodes]
    arguments += [f"--relationships={type_name}={path}" for type_name, path in files.relationships]
    if files.multiline:
        arguments += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(map(str, files.multiline))]
    # Fetched before the server stops, and given the heap the server frees while it is down.
    command = tools.command("neo4j-admin", arguments, heap=config.setting("heap"), echo=echo)
    home, database = server.data_dir(), config.connection().database
    echo("Bulk load: stopping the local Neo4j server for neo4j-admin's offline import; it starts again afterwards.")
    server_command = server.running_command()
    db.close()
    seconds = {"server stopped": time.monotonic()}
    server.stop()
    import_failed = True
    try:
        seconds["neo4j-admin import"] = time.monotonic()
        result = subprocess.run(command, env={**os.environ, **tools.admin_environment(home)},
                                capture_output=True, text=True)
        if result.returncode != 0:
            lines = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
            raise BulkLoadError(f"neo4j-admin import failed (exit {result.returncode}): "
                                f"{lines[-1] if lines else 'no message'}; the database is left empty.")
        _swap_in(home, database)
        import_failed = False
    finally:
        _discard_staging(home)
        seconds["server started"] = time.monotonic()
        try:
            server.start(echo, server_command)
        except ServerError as error:
            if not import_failed:       # else the import's own error is the one to report
                raise BulkLoadError(f"the local Neo4j server did not start again after the import "
                                    f"({str(error).splitlines()[0]}); `kb server start` tries again.") from None
    ends = [*list(seconds.values())[1:], time.monotonic()]
    echo("Bulk load: " + ", ".join(f"{step} in {end - begun:.1f} s"
                                   for (step, begun), end in zip(seconds.items(), ends)) + ".")


def _swap_in(home: Path, database: str) -> None:
    """The imported store takes the empty database's place (both its store and its transaction logs)."""
    for folder in STORE_FOLDERS:
        target = home / folder / database
        shutil.rmtree(target, ignore_errors=True)
        (home / folder / STAGING).rename(target)


def _discard_staging(home: Path) -> None:
    for folder in STORE_FOLDERS:
        shutil.rmtree(home / folder / STAGING, ignore_errors=True)
