"""The property types, each defined once: how a value is parsed and checked, and how the type is
named in every format the project reads or writes (import-convention CSV headers, neo4j-admin's
import, GraphML, a LOAD CSV conversion) and how a list is joined in a CSV cell. The schema, the
loaders, bulk mode, the exports and the benchmarks ask this registry instead of keeping tables."""
from __future__ import annotations

import datetime as dt
import re
import reprlib
from dataclasses import dataclass
from typing import Callable

# Neo4j stores 64-bit signed integers; a larger one would fail in the middle of a load.
INT_RANGE = (-2 ** 63, 2 ** 63 - 1)
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
# Between the items of a list in a CSV cell, in the files kb reads and exports (the import convention).
LIST_SEPARATOR = ";"

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 2, 60, 60, 60
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 4


def shown(value) -> str:
    """A value as a message quotes it: its start only, however long, deep or (YAML aliases) repeated."""
    return _SHOWN.repr(value)


def check_date(text: str) -> str:
    """An ISO 8601 date of the precision given (YYYY, YYYY-MM or YYYY-MM-DD), returned as given."""
    match = DATE_PATTERN.match(text)
    if not match:
        raise ValueError(f"{shown(text)} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        dt.date(year, month, day)
    except ValueError as error:
        raise ValueError(f"{shown(text)} is not a date: {error}") from None
    return text


def _to_int(value) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected an integer, got {shown(value)}")
    try:
        number = int(str(value).strip()) if not isinstance(value, float) else int(value)
    except ValueError:
        raise ValueError(f"expected an integer, got {shown(value)}") from None
    if not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise ValueError(f"{shown(number)} is out of range: Neo4j stores integers of 64 bits")
    return number


def _to_float(value) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {shown(value)}")
    try:
        return float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"expected a number, got {shown(value)}") from None


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"expected true or false, got {shown(value)}")


def _to_date(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return check_date(str(value).strip())


def _to_string(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)



def _to_strings(value) -> list:
    if type(value) is list and all(type(item) is str for item in value):
        return value
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int, float)) for v in value):
        raise ValueError(f"expected a list of strings, got {shown(value)}")
    return [str(v) for v in value]


@dataclass(frozen=True)
class PropertyType:
    name: str                       # as kb/schema.yaml and our CSV headers write it
    parse: Callable                 # a value as read -> the value stored; ValueError says why not
    import_type: str                # neo4j-admin import's header type for our stored values
    graphml: str                    # GraphML attr.type
    load_csv: str                   # Cypher that turns a LOAD CSV cell {0} into the value
    is_list: bool = False


# An int is 64 bits (neo4j-admin's int has 32) and a float a double, as the driver sends them;
# dates stay strings at the precision given; a list is one GraphML string joined by LIST_SEPARATOR.
REGISTRY = {t.name: t for t in (
    PropertyType("string", _to_string, "string", "string", "{0}"),
    PropertyType("string[]", _to_strings, "string[]", "string", "split({0}, $delimiter)", is_list=True),
    PropertyType("int", _to_int, "long", "long", "toInteger({0})"),
    PropertyType("float", _to_float, "double", "double", "toFloat({0})"),
    PropertyType("boolean", _to_bool, "boolean", "boolean", "toBoolean({0})"),
    PropertyType("date", _to_date, "string", "string", "{0}"),
)}
# neo4j-admin's other header types, read as ours when a CSV file declares them.
HEADER_ALIASES = {"long": "int", "short": "int", "byte": "int", "double": "float"}


def of(name: str) -> PropertyType:
    return REGISTRY[name]


def from_header(declared: str) -> PropertyType | None:
    """The type a CSV header declares (ours or neo4j-admin's name), or None if it is neither."""
    return REGISTRY.get(HEADER_ALIASES.get(declared, declared))


def header_field(name: str, type_name: str) -> str:
    """A property's column in our CSV headers: `name` for a string, else `name:type`."""
    return name if type_name == "string" else f"{name}:{type_name}"


def csv_cell(value, separator: str = LIST_SEPARATOR) -> str:
    """A stored value as a CSV cell (a list joined by separator: LIST_SEPARATOR in our files, bulk mode's
    own delimiter in its import files; absent is empty)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return separator.join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
