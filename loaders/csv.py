"""Node and relationship CSV files in neo4j-admin import's header convention.

Node files: `id:ID,:LABEL,name,aliases:string[],since:date,...`; relationship files:
`:START_ID,:END_ID,:TYPE,sources:string[],...`. Arrays are split on kb.types.LIST_SEPARATOR. The schema decides each
property's type; a header type, when given, must agree with it. Files stream row by row.
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from kb import types
from kb.errors import InvalidRecord
from kb.schema import schema
from loaders.source import RecordSource
from loaders.records import Validator
from loaders.text import not_utf8

HEADER_FIELD = re.compile(r"^(?P<name>[^:]*)(?::(?P<type>[A-Za-z_\[\]]+)(?:\((?P<group>[^)]*)\))?)?$")
SPECIAL = {"ID", "LABEL", "START_ID", "END_ID", "TYPE", "IGNORE"}


@dataclass(frozen=True)
class Column:
    index: int
    name: str          # property name, or the special field (ID, LABEL, START_ID, END_ID, TYPE, IGNORE)
    special: bool
    declared: str | None


@dataclass(frozen=True)
class CsvFile:
    path: Path
    columns: tuple
    relationships: bool

    def column(self, special: str) -> Column | None:
        return next((c for c in self.columns if c.special and c.name == special), None)

    @functools.cached_property
    def property_columns(self) -> tuple:
        """(index, name, is_array) of each property column, worked out once per file."""
        return tuple((c.index, c.name, c.declared == "string[]" or (c.declared is None and c.name in ARRAY_PROPERTIES))
                     for c in self.columns if not c.special)


def _parse_header(path: Path, header: list[str]) -> CsvFile:
    columns, problems = [], []
    for index, raw in enumerate(header):
        match = HEADER_FIELD.match(raw.strip())
        if not match:
            problems.append(f"{path} line 1, column {index + 1} {raw!r}: not a header field (name:type)")
            continue
        name, declared = match["name"], match["type"]
        if declared in SPECIAL:
            columns.append(Column(index, declared, True, None))
            if declared == "ID" and name:   # `id:ID` stores the id as a property too; we always do
                continue
        elif declared is not None and types.from_header(declared) is None:
            problems.append(f"{path} line 1, field '{name}': unknown type {declared!r}; "
                            f"known: {', '.join([*types.REGISTRY, *types.HEADER_ALIASES])}")
        elif not name:
            problems.append(f"{path} line 1, column {index + 1}: a property column needs a name")
        else:
            columns.append(Column(index, name, False, types.from_header(declared).name if declared else None))
    specials = {c.name for c in columns if c.special}
    relationships = "START_ID" in specials
    needed = {"START_ID", "END_ID", "TYPE"} if relationships else {"ID", "LABEL"}
    if not problems and not needed <= specials:
        problems.append(f"{path} line 1: a {'relationship' if relationships else 'node'} file needs the columns "
                        f"{', '.join(':' + n for n in sorted(needed))}")
    if problems:
        raise InvalidRecord(problems)
    return CsvFile(path, tuple(columns), relationships)


def _open(path: Path):
    return open(path, newline="", encoding="utf-8-sig")


def inspect(path: Path) -> CsvFile:
    """Read a file's header: which columns it has and whether it holds relationships."""
    try:
        with _open(path) as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        # The decoder reads ahead: the bad byte may lie well after the header.
        line, problem = not_utf8(path)
        raise InvalidRecord([f"{path} line {line}: {problem}"]) from None
    except csv.Error as error:
        raise InvalidRecord([f"{path} line 1: malformed CSV: {error}"]) from None
    if not header:
        raise InvalidRecord([f"{path} line 1: empty file, a header line is required"])
    return _parse_header(path, header)


def csv_files(paths) -> list[CsvFile]:
    """The CSV files named or inside named folders, with their headers read."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.csv")))
        elif path.exists():
            found.append(path)
        else:
            raise InvalidRecord([f"{path}: no such file or folder"])
    return [inspect(path) for path in found]


def _check_declared(file: CsvFile, column: Column, type_names, kind: str, validator: Validator, origin: str):
    """A header type must agree with the schema for every type the row may be."""
    for type_name in type_names:
        declared = getattr(schema(), kind)[type_name].properties.get(column.name) if type_name else None
        if declared is not None and declared.type != column.declared:
            validator.problem(origin, column.name, f"header declares {column.declared} but the schema says "
                                                   f"{declared.type} for {type_name}")
            return False
    return True


def _fields(file: CsvFile, row: list[str]) -> dict:
    fields = {}
    for index, name, is_array in file.property_columns:
        value = row[index]
        if value != "":
            fields[name] = value.split(types.LIST_SEPARATOR) if is_array else value
    return fields


def _array_properties() -> frozenset:
    names = set()
    for group in (schema().entities, schema().relations):
        for type_ in group.values():
            names |= {p.name for p in type_.properties.values() if types.of(p.type).is_list}
    return frozenset(names)


ARRAY_PROPERTIES = _array_properties()


def _rows(file: CsvFile, validator: Validator):
    """(origin, row) for each data row; malformed rows are recorded as problems."""
    width = max(c.index for c in file.columns) + 1
    try:
        with _open(file.path) as handle:
            reader = csv.reader(handle)
            next(reader, None)
            where = f"{file.path} line "
            for row in reader:
                origin = where + str(reader.line_num)
                if not row:
                    continue
                if len(row) < width:
                    validator.problem(origin, None, f"expected {width} columns, found {len(row)}")
                    continue
                yield origin, row
    except UnicodeDecodeError:
        line, problem = not_utf8(file.path)
        validator.problem(f"{file.path} line {line}", None, problem)
    except csv.Error as error:
        # line_num counts the lines read so far, the broken one included.
        validator.problem(f"{file.path} line {reader.line_num}", None, f"malformed CSV: {error}")


def _typed_columns(file: CsvFile) -> list[Column]:
    return [c for c in file.columns if not c.special and c.declared is not None]


def _entities(file: CsvFile, validator: Validator):
    id_column, label_column = file.column("ID"), file.column("LABEL")
    checked = set()
    for origin, row in _rows(file, validator):
        labels = [label for label in row[label_column.index].split(types.LIST_SEPARATOR) if label and label != "Entity"]
        if len(labels) != 1:
            validator.problem(origin, ":LABEL", f"needs exactly one entity type, found {labels or 'none'}")
            continue
        label = labels[0]
        if label not in checked and label in schema().entities:
            checked.add(label)
            if not all(_check_declared(file, c, [label], "entities", validator, origin) for c in _typed_columns(file)):
                continue
        fields = _fields(file, row)
        fields["id"] = row[id_column.index]
        record = validator.entity(label, fields, origin)
        if record:
            yield record


def _relations(file: CsvFile, validator: Validator):
    start, end, type_column = file.column("START_ID"), file.column("END_ID"), file.column("TYPE")
    checked = set()
    for origin, row in _rows(file, validator):
        type_name = row[type_column.index]
        if type_name not in checked and type_name in schema().relations:
            checked.add(type_name)
            if not all(_check_declared(file, c, [type_name], "relations", validator, origin)
                       for c in _typed_columns(file)):
                continue
        record = validator.relation(type_name, row[start.index], row[end.index], _fields(file, row), origin)
        if record:
            yield record


def reader(paths) -> RecordSource:
    """A record source over CSV files: all node files first, then all relationship files."""
    files = csv_files(paths)

    def entities(validator: Validator):
        for file in files:
            if not file.relationships:
                yield from _entities(file, validator)

    return RecordSource(entities, tuple((file.path.stat().st_size, functools.partial(_relations, file))
                                        for file in files if file.relationships))
