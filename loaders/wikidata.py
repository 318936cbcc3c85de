"""Wikidata: the SPARQL 1.1 query results (JSON) of a query of loaders/wikidata/, read from a file.

Each query NAME.rq ships with NAME.yaml, its mapping: which variables hold items and what
entity type they become, which label variables give the name and aliases, which variables give
properties, and which pairs of items are tied by which relation (dates from the P580/P582
qualifiers, cut to the precision Wikidata states). An item becomes an entity with the proposed
id `wd-<Q-number>` and its `wikidata_id`; reconciliation (loaders/reconcile.py) decides whether
that is a stored entity. Each results file is one Source (the query's name and text, and when
the results were retrieved).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.errors import InvalidRecord
from kb.schema import schema
from loaders.source import RecordSource
from loaders.records import Validator

QUERIES = Path(__file__).with_name("wikidata")
SOURCE_NAME = "wikidata"
ITEM = re.compile(r"/entity/(Q[0-9]+)$")      # an item's URI ends so, whatever the host
DATE_TIME = re.compile(r"^[+]?(\d{4})-(\d{2})-(\d{2})T")
# Wikidata's time precisions: 9 year, 10 month, 11 day; coarser ones are kept as the year.
DATE_LENGTH = {11: 10, 10: 7}
LANGUAGES = ("en", "de", "zh")              # the first label found in this order is the name


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    mapping: dict

    @property
    def variables(self) -> set:
        """Every variable the mapping reads."""
        found = set()
        for var, spec in self.mapping["entities"].items():
            found |= {var, *spec.get("labels", ()), *spec.get("properties", {}).values()}
        for relation in self.mapping["relations"]:
            found |= {relation["from"], relation["to"], *relation.get("properties", {}).values()}
        return found


def queries() -> dict[str, Query]:
    """The shipped queries by name (loaders/wikidata/NAME.rq with NAME.yaml)."""
    found = {}
    for path in sorted(QUERIES.glob("*.rq")):
        mapping = yaml.safe_load(path.with_suffix(".yaml").read_text(encoding="utf-8"))
        found[path.stem] = Query(path.stem, path.read_text(encoding="utf-8"), mapping)
    return found


def _query_for(path: Path, head_vars: list, name: str | None) -> Query:
    known = queries()
    if name is not None:
        if name not in known:
            raise InvalidRecord([f"{path}: unknown query {name!r}; known: {', '.join(known)}"])
        query = known[name]
    else:
        # Without --query, the one query whose variables the file has.
        fitting = [q for q in known.values() if q.variables <= set(head_vars)]
        if len(fitting) != 1:
            raise InvalidRecord([f"{path}: say which query it answers with --query ({', '.join(known)})"])
        query = fitting[0]
    missing = sorted(query.variables - set(head_vars))
    if missing:
        raise InvalidRecord([f"{path}, field 'head.vars': lacks the variables {', '.join(missing)} "
                             f"of the query {query.name!r}"])
    return query


def _parse(path: Path) -> tuple[list, list]:
    """(head.vars, results.bindings) of a SPARQL 1.1 JSON results file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidRecord([f"{path}: no such file"]) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidRecord([f"{path}: not a SPARQL JSON results file: {error}"]) from None
    head_vars = document.get("head", {}).get("vars") if isinstance(document, dict) else None
    bindings = document.get("results", {}).get("bindings") if isinstance(document, dict) else None
    if not isinstance(head_vars, list) or not isinstance(bindings, list):
        raise InvalidRecord([f"{path}: not a SPARQL JSON results file (head.vars and results.bindings)"])
    return head_vars, bindings


class _File:
    """One results file read against its query: the records it gives, and the problems found."""

    def __init__(self, path: Path, query_name: str | None, retrieved: str | None):
        self.path = path
        head_vars, self.bindings = _parse(path)
        self.query = _query_for(path, head_vars, query_name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.source_id = f"src-wikidata-{self.query.name}-{digest}"
        self.retrieved = retrieved or dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
        self.problems: list[str] = []

    def origin(self, number: int, variable: str | None = None) -> str:
        return f"{self.path} binding {number}" + (f" (?{variable})" if variable else "")

    def source(self) -> dict:
        title = f"Wikidata query {self.query.name}, results retrieved {self.retrieved}"
        return {"id": self.source_id, "name": title, "title": title, "kind": "dataset", "publisher": "Wikidata",
                "accessed": self.retrieved, "query": self.query.text}

    def _value(self, binding: dict, number: int, variable: str, kind: str):
        """The value of a bound variable as kind (item, label, date, text), or None; a value that
        cannot be read is a problem naming the binding and the variable."""
        term = binding.get(variable)
        if term is None:
            return None
        if not isinstance(term, dict) or not isinstance(term.get("value"), str) or "type" not in term:
            self.problems.append(f"{self.origin(number)}, field '{variable}': not an RDF term "
                                 "(an object with type and value)")
            return None
        value = term["value"]
        if kind == "item":
            match = ITEM.search(value) if term["type"] == "uri" else None
            if match is None:
                self.problems.append(f"{self.origin(number)}, field '{variable}': {value!r} is not a Wikidata item")
            return match and match.group(1)
        if kind == "label":
            return value, term.get("xml:lang", "")
        if kind == "date":
            return self._date(binding, number, variable, value)
        return value

    def _date(self, binding: dict, number: int, variable: str, value: str) -> str | None:
        match = DATE_TIME.match(value)
        if match is None:
            self.problems.append(f"{self.origin(number)}, field '{variable}': {value!r} is not an xsd:dateTime")
            return None
        precision = binding.get(f"{variable}_precision", {}).get("value")
        try:
            length = DATE_LENGTH.get(int(precision), 4) if precision is not None else 10
        except ValueError:
            self.problems.append(f"{self.origin(number)}, field '{variable}_precision': {precision!r} is not a number")
            return None
        return value.lstrip("+")[:length]

    def entities(self) -> dict:
        """Proposed entity records by id: (type, properties, origin); labels of every binding pooled."""
        found, labels = {}, {}
        for number, binding in enumerate(self.bindings, 1):
            if not isinstance(binding, dict):
                self.problems.append(f"{self.origin(number)}: a binding is an object of variables")
                continue
            for variable, spec in self.query.mapping["entities"].items():
                qid = self._value(binding, number, variable, "item")
                if not qid:
                    continue
                entity_id = f"wd-{qid}"
                _, props, _ = found.setdefault(entity_id, (spec["type"], {"id": entity_id, "wikidata_id": qid,
                                                                        "sources": [self.source_id]},
                                                         self.origin(number, variable)))
                for prop, prop_var in spec.get("properties", {}).items():
                    value = self._value(binding, number, prop_var, "text")
                    if value is not None:
                        props.setdefault(prop, value)
                for label_var in spec.get("labels", ()):
                    label = self._value(binding, number, label_var, "label")
                    if label is not None:
                        labels.setdefault(entity_id, {}).setdefault(label[1], []).append(label[0])
        for entity_id, (_, props, _) in found.items():
            _name(props, labels.get(entity_id, {}))
        return found

    def relations(self):
        """(type, from id, to id, properties, origin) of each tie, each once."""
        seen = set()
        for number, binding in enumerate(self.bindings, 1):
            if not isinstance(binding, dict):
                continue
            for relation in self.query.mapping["relations"]:
                ends = [self._value(binding, number, relation[end], "item") for end in ("from", "to")]
                if not all(ends) or (relation["type"], *ends) in seen:
                    continue
                seen.add((relation["type"], *ends))
                props = {"sources": [self.source_id]}
                for prop, prop_var in relation.get("properties", {}).items():
                    value = self._value(binding, number, prop_var, "date" if prop in ("since", "until") else "text")
                    if value is not None:
                        props[prop] = value
                yield relation["type"], f"wd-{ends[0]}", f"wd-{ends[1]}", props, self.origin(number, relation["from"])


def _name(props: dict, labels: dict) -> None:
    """The first label in LANGUAGES order (any language after those) is the name, the rest aliases;
    an item without any label is named by its Q-number."""
    ordered = [label for lang in (*LANGUAGES, *sorted(set(labels) - set(LANGUAGES)))
               for label in labels.get(lang, ())]
    names = list(dict.fromkeys(ordered)) or [props["wikidata_id"]]
    props["name"] = names[0]
    if names[1:]:
        props["aliases"] = names[1:]


def reader(paths, query: str | None = None, retrieved: str | None = None) -> RecordSource:
    """A record source over SPARQL JSON results files of one query (or each file's own, found by its
    variables when query is None); retrieved (YYYY-MM-DD) defaults to each file's modification time."""
    files: list[_File] = []

    def entities(validator: Validator):
        files.extend(_File(Path(path), query, retrieved) for path in paths)
        proposed = {}
        for found in files:
            for entity_id, (type_name, props, origin) in found.entities().items():
                _pool(proposed, found, entity_id, type_name, props, origin)
            _raise(found)
        for found in files:
            record = validator.entity(schema().source_type, found.source(), f"{found.path} (its source record)")
            if record:
                yield record
        for type_name, props, origin in proposed.values():
            record = validator.entity(type_name, props, origin)
            if record:
                yield record

    def relations(validator: Validator):
        for found in files:
            ties = list(found.relations())
            _raise(found)
            for type_name, start, end, props, origin in ties:
                record = validator.relation(type_name, start, end, props, origin)
                if record:
                    yield record

    return RecordSource.of(entities, relations, source_name=SOURCE_NAME)


def _pool(proposed: dict, found: _File, entity_id: str, type_name: str, props: dict, origin: str) -> None:
    """An item named by several files is one record: the first file's name and properties, the
    other names as aliases, every file as a source."""
    if entity_id not in proposed:
        proposed[entity_id] = (type_name, props, origin)
        return
    first_type, first, first_origin = proposed[entity_id]
    if first_type != type_name:
        found.problems.append(f"{origin}, field 'type': {entity_id} is a {type_name} here but a {first_type} "
                              f"at {first_origin}")
        return
    names = [name for name in (props["name"], *props.get("aliases", ())) if name != first["name"]]
    first["aliases"] = list(dict.fromkeys(first.get("aliases", []) + names))
    first["sources"] = list(dict.fromkeys(first["sources"] + props["sources"]))
    for name, value in props.items():
        first.setdefault(name, value)


def _raise(found: _File) -> None:
    # Unreadable terms stop the load before validation would report their consequences.
    if found.problems:
        raise InvalidRecord(found.problems)
