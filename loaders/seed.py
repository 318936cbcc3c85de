"""Curated YAML seed files: `entities:` and `relations:` lists, each record citing its sources, and a
`retracted:` list of ties taken back (loaders/retraction.py), applied once the relations are written."""
from __future__ import annotations

from pathlib import Path

import yaml

from kb.errors import InvalidRecord
from kb.types import shown
from loaders.source import RecordSource
from loaders.records import Validator
from loaders import retraction
from loaders.text import not_utf8

LINE = "__line__"
SUFFIXES = (".yaml", ".yml")
# A seed record nests two or three levels; far deeper is a broken or hostile file, refused before
# the parser's recursion runs out.
MAX_DEPTH = 50


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line where each mapping starts, for error messages."""

    def compose_node(self, parent, index):
        self.depth = getattr(self, "depth", 0) + 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                                  self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE] = node.start_mark.line + 1
        return mapping

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        # An escape such as "\ud800" makes a lone surrogate: no UTF-8 text, so no Neo4j string, holds it.
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise yaml.constructor.ConstructorError(None, None, "a \\uD800-\\uDFFF escape is not a character",
                                                        node.start_mark) from None
        return value


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
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        line, problem = not_utf8(path)
        raise InvalidRecord([f"{path} line {line}: {problem}"]) from None
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.reader.ReaderError as error:
        # A character YAML does not allow (a control character): the error knows its offset only.
        line = len(text[:error.position].splitlines()) + text[:error.position].endswith(("\n", "\r"))
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise InvalidRecord([f"{path} line {max(line, 1)}: malformed YAML: the character U+{code:04X} "
                             "is not allowed"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise InvalidRecord([f"{path} line {mark.line + 1 if mark else 1}: malformed YAML: {problem}"]) from None
    if document is None:
        return {}
    if not isinstance(document, dict) or set(document) - {"entities", "relations", "retracted", LINE}:
        line = document[LINE] if isinstance(document, dict) else 1
        raise InvalidRecord([f"{path} line {line}: a seed file is a mapping with the keys 'entities', "
                             "'relations' and 'retracted' only"])
    return document


def _records(path: Path, document: dict, key: str):
    items = document.get(key) or []
    if not isinstance(items, list):
        raise InvalidRecord([f"{path} line {document[LINE]}: '{key}' must be a list"])
    kind = {"entities": "entity", "relations": "relation", "retracted": "retraction"}[key]
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise InvalidRecord([f"{path}, {key} record {number}: must be a mapping, got {shown(item)}"])
        fields = {k: v for k, v in item.items() if k != LINE}
        given_id = fields.get("id")
        # An id is named as it is given when it is plain text; anything else only by its start.
        named = given_id if isinstance(given_id, str) and len(given_id) <= 100 else shown(given_id) if given_id \
            else number
        yield f"{path} line {item.get(LINE, '?')} ({kind} {named})", fields


def _without_lines(value):
    """A parsed value without the line numbers the loader adds to every mapping."""
    if isinstance(value, dict):
        return {k: _without_lines(v) for k, v in value.items() if k != LINE}
    if isinstance(value, list):
        return [_without_lines(v) for v in value]
    return value


def _retraction(validator: Validator, origin: str, fields: dict) -> dict | None:
    """The retraction a `retracted:` record gives, or None with the validator told what is wrong."""
    missing = [name for name in retraction.FIELDS if fields.get(name) in (None, "")]
    unknown = sorted(set(fields) - set(retraction.FIELDS) - set(retraction.OPTIONAL))
    for name in missing:
        validator.problem(origin, name, "required in a retraction")
    for name in unknown:
        validator.problem(origin, name, "not a field of a retraction")
    if fields.get("type") is not None and fields["type"] not in validator.schema.relations:
        validator.problem(origin, "type", f"unknown relation type {shown(fields['type'])}")
    elif not isinstance(fields.get("tie", {}), dict):
        validator.problem(origin, "tie", f"must be a mapping of the tie's properties, got {shown(fields['tie'])}")
    elif not missing and not unknown:
        return {k: str(v) if k not in ("tie",) else v for k, v in _without_lines(fields).items()}
    return None


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
                ends = fields.pop("from", None), fields.pop("to", None)
                # YAML may give a list or a mapping where an id belongs; CSV cells are always text.
                wrong = [(name, end) for name, end in zip(("from", "to"), ends) if isinstance(end, (list, dict))]
                for name, end in wrong:
                    validator.problem(origin, name, f"must be one entity id, got {shown(end)}")
                record = None if wrong else validator.relation(fields.pop("type", None), *ends, fields, origin)
                if record:
                    yield record
        retractions.clear()
        for path in files:
            for origin, fields in _records(path, document(path), "retracted"):
                found = _retraction(validator, origin, fields)
                if found:
                    retractions.append(found)

    retractions: list[dict] = []
    return RecordSource.of(entities, relations, after_write=lambda: retraction.apply(retractions))
