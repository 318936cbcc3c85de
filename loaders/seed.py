"""Curated YAML seed files: `entities:` and `relations:` lists, each record citing its sources."""
from __future__ import annotations

from pathlib import Path

import yaml

from kb.errors import InvalidRecord
from loaders.pipeline import RecordSource
from loaders.records import Validator

LINE = "__line__"
SUFFIXES = (".yaml", ".yml")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line where each mapping starts, for error messages."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping


def seed_files(paths) -> list[Path]:
    """The YAML files named, and those inside named folders, in a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES))
        elif path.exists() and path.suffix not in SUFFIXES:
            continue
        elif path.exists():
            found.append(path)
        else:
            raise InvalidRecord([f"{path}: no such file or folder"])
    return found


def _parse(path: Path) -> dict:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise InvalidRecord([f"{path} line {mark.line + 1}: malformed YAML: {error.problem}"]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise InvalidRecord([f"{path}: malformed YAML: {error}"]) from None
    if document is None:
        return {}
    if not isinstance(document, dict) or set(document) - {"entities", "relations", LINE}:
        raise InvalidRecord([f"{path}: a seed file is a mapping with the keys 'entities' and 'relations' only"])
    return document


def _records(path: Path, document: dict, key: str):
    items = document.get(key) or []
    if not isinstance(items, list):
        raise InvalidRecord([f"{path}: '{key}' must be a list"])
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InvalidRecord([f"{path}, {key} record {number}: must be a mapping, got {item!r}"])
        fields = {k: v for k, v in item.items() if k != LINE}
        yield f"{path} line {item.get(LINE, '?')} ({key[:-1]} {fields.get('id') or number})", fields


def reader(paths) -> RecordSource:
    """A record source over the seed files: all entities of all files first, then all relations."""
    files = seed_files(paths)
    parsed: dict[Path, dict] = {}

    def document(path: Path) -> dict:
        # Seed files are small: parse each once, for the entity phase and the relation phase.
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    def entities(validator: Validator):
        for path in files:
            for origin, fields in _records(path, document(path), "entities"):
                record = validator.entity(fields.pop("type", None), fields, origin)
                if record:
                    yield record

    def relations(validator: Validator):
        for path in files:
            for origin, fields in _records(path, document(path), "relations"):
                record = validator.relation(fields.pop("type", None), fields.pop("from", None),
                                            fields.pop("to", None), fields, origin)
                if record:
                    yield record

    return RecordSource(entities, relations)
