"""Wikidata: the SPARQL 1.1 query results (JSON) of a query of loaders/wikidata/, read from a file.

Each query NAME.rq ships with NAME.yaml, its mapping: which variables hold items and what
entity type they become, which label variables give the name and aliases, which variables give
properties, and which pairs of items are tied by which relation (dates from the P580/P582
qualifiers, cut to the precision Wikidata states). An item becomes an entity with the proposed
id `wd-<Q-number>` and its `wikidata_id`; reconciliation (loaders/reconcile.py) decides whether
that is a stored entity. Each results file is one Source (the query's name and text, and when
the results were retrieved).

A results file is read a chunk at a time (loaders/jsonstream.py), once for its items and once for
its ties, so memory grows with the distinct items, not with the bindings. `fetch` sends a query to
the Wikidata Query Service and saves the answer with what a later load needs beside it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb import config
from kb.errors import FetchError, InvalidRecord
from kb.schema import schema
from loaders import jsonstream, remote
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


NOT_RESULTS = "not a SPARQL JSON results file (head.vars and results.bindings)"
SHAPE = "expecting an object with head.vars and results.bindings"


def _events(path: Path):
    """("head", value) and each ("binding", value) of a SPARQL 1.1 JSON results file, in file order,
    read a chunk at a time; jsonstream.Malformed for broken JSON or another shape."""
    with path.open(encoding="utf-8") as handle:
        reader = jsonstream.Reader(handle)
        reader.expect("{", SHAPE)
        has_bindings = False
        for key in reader.members():
            if key == "head":
                yield "head", reader.value()
            elif key == "results":
                reader.expect("{", SHAPE)
                for inner in reader.members():
                    if inner != "bindings":
                        reader.value()
                        continue
                    reader.expect("[", SHAPE)
                    has_bindings = True
                    for _ in reader.elements():
                        yield "binding", reader.value()
            else:
                reader.value()
        reader.end()
    if not has_bindings:
        raise jsonstream.Malformed("no results.bindings")


def _readable(path: Path, events):
    """The events, with a file that cannot be read turned into InvalidRecord naming it."""
    try:
        yield from events
    except FileNotFoundError:
        raise InvalidRecord([f"{path}: no such file"]) from None
    except (jsonstream.Malformed, UnicodeDecodeError) as error:
        raise InvalidRecord([f"{path}: not a SPARQL JSON results file: {error}"]) from None


def _head_vars(path: Path) -> list:
    """head.vars, read without reading the bindings that follow it."""
    for kind, value in _readable(path, _events(path)):
        if kind == "head":
            head_vars = value.get("vars") if isinstance(value, dict) else None
            if isinstance(head_vars, list):
                return head_vars
            break
    raise InvalidRecord([f"{path}: {NOT_RESULTS}"])


def fetched_details(path: Path) -> Path:
    """Where a fetch records the query, endpoint and date of a results file: NAME.fetch.json beside it."""
    return path.with_suffix(".fetch.json")


def _details(path: Path, digest: str) -> dict:
    """What `kb fetch wikidata` recorded beside this very file (its SHA-256 must match), else {}."""
    try:
        details = json.loads(fetched_details(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return details if isinstance(details, dict) and details.get("sha256") == digest else {}


def sha256(path: Path) -> str:
    """The file's SHA-256 (hex), read in chunks."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        raise InvalidRecord([f"{path}: no such file"]) from None


class _File:
    """One results file read against its query: the records it gives, and the problems found.

    The bindings are read from the file at each pass (entities, then relations), never kept."""

    def __init__(self, path: Path, query_name: str | None, retrieved: str | None):
        self.path = path
        digest = sha256(path)
        details = _details(path, digest)
        self.query = _query_for(path, _head_vars(path), query_name or details.get("query"))
        # The text the service answered, when the fetch recorded it; the shipped one may have changed since.
        self.query_text = details.get("text") or self.query.text
        self.source_id = f"src-wikidata-{self.query.name}-{digest[:12]}"
        self.retrieved = (retrieved or details.get("retrieved")
                          or dt.date.fromtimestamp(path.stat().st_mtime).isoformat())
        self.problems: list[str] = []

    def bindings(self):
        """Each binding, numbered from 1."""
        number = 0
        for kind, value in _readable(self.path, _events(self.path)):
            if kind == "binding":
                number += 1
                yield number, value

    def origin(self, number: int, variable: str | None = None) -> str:
        return f"{self.path} binding {number}" + (f" (?{variable})" if variable else "")

    def source(self) -> dict:
        title = f"Wikidata query {self.query.name}, results retrieved {self.retrieved}"
        return {"id": self.source_id, "name": title, "title": title, "kind": "dataset", "publisher": "Wikidata",
                "accessed": self.retrieved, "query": self.query_text}

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
        for number, binding in self.bindings():
            if not isinstance(binding, dict):
                self.problems.append(f"{self.origin(number)}: a binding is an object of variables")
                continue
            for variable, spec in self.query.mapping["entities"].items():
                qid = self._value(binding, number, variable, "item")
                if not qid:
                    continue
                entity_id = f"wd-{qid}"
                if entity_id not in found:
                    found[entity_id] = (spec["type"], {"id": entity_id, "wikidata_id": qid, "sources": [self.source_id]},
                                        self.origin(number, variable))
                props = found[entity_id][1]
                for prop, prop_var in spec.get("properties", {}).items():
                    value = self._value(binding, number, prop_var, "text")
                    if value is not None:
                        props.setdefault(prop, value)
                for label_var in spec.get("labels", ()):
                    label = self._value(binding, number, label_var, "label")
                    if label is not None:
                        # A dict as an ordered set: an item named in many bindings keeps each label once.
                        labels.setdefault(entity_id, {}).setdefault(label[1], {})[label[0]] = None
        for entity_id, (_, props, _) in found.items():
            _name(props, labels.get(entity_id, {}))
        return found

    def relations(self):
        """(type, from id, to id, properties, origin) of each tie, each once, as the bindings are read."""
        seen = set()        # each tie as one int (relation, Q-number, Q-number): a million fit in 60 MB
        for number, binding in self.bindings():
            if not isinstance(binding, dict):
                continue
            for index, relation in enumerate(self.query.mapping["relations"]):
                ends = [self._value(binding, number, relation[end], "item") for end in ("from", "to")]
                if not all(ends):
                    continue
                key = (index << 80) | (int(ends[0][1:]) << 40) | int(ends[1][1:])
                if key in seen:
                    continue
                seen.add(key)
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
            # Streamed: records go to the spool, which nothing writes before the whole input has passed.
            for type_name, start, end, props, origin in found.relations():
                record = validator.relation(type_name, start, end, props, origin)
                if record:
                    yield record
            _raise(found)

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


ACCEPT = "application/sparql-results+json"


@dataclass(frozen=True)
class Fetched:
    """A results file `kb fetch wikidata` saved, and what it recorded beside it."""
    path: Path
    query: str
    retrieved: str
    bindings: int
    size: int

    def describe(self) -> str:
        return (f"{self.bindings} results of the query {self.query} saved to {self.path} ({self.size / 1e6:.1f} MB; "
                f"the query, endpoint and date in {fetched_details(self.path)}). Load them again with: "
                f"kb load wikidata {self.path} --query {self.query} --retrieved {self.retrieved}")


def fetch(name: str, out: Path | None = None, echo=lambda message: None) -> Fetched:
    """Send the shipped query NAME to KB_WIKIDATA_ENDPOINT and save the answer as it came to out (default
    NAME-YYYY-MM-DD.json here), the query, endpoint and date beside it (fetched_details); nothing is
    saved unless the answer is a complete results file with the query's variables."""
    known = queries()
    if name not in known:
        raise FetchError(f"unknown query {name!r}; known: {', '.join(known)}")
    query, endpoint = known[name], config.setting("wikidata_endpoint")
    if not endpoint:
        raise FetchError("KB_WIKIDATA_ENDPOINT is not set: set it to the SPARQL endpoint to ask (the Wikidata "
                         "Query Service's, as its own pages give it)")
    now = dt.datetime.now(dt.timezone.utc)
    out = Path(out or f"{name}-{now.date().isoformat()}.json")
    new_folder = not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    part, details_part = out.with_name(f".{out.name}.part"), out.with_name(f".{out.name}.details.part")
    try:
        size = remote.post_form(endpoint, {"query": query.text}, part, ACCEPT, echo)
        bindings = _check_answer(part, query, endpoint)
        details = {"query": name, "text": query.text, "endpoint": endpoint, "retrieved": now.date().isoformat(),
                   "retrieved_at": now.isoformat(timespec="seconds"), "bindings": bindings, "sha256": sha256(part)}
        details_part.write_text(json.dumps(details, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        part.replace(out)
        details_part.replace(fetched_details(out))
    finally:
        part.unlink(missing_ok=True)
        details_part.unlink(missing_ok=True)
        if new_folder and not out.exists():
            out.parent.rmdir()          # nothing saved: not even the folder made for it
    return Fetched(out, name, details["retrieved"], bindings, size)


def _check_answer(path: Path, query: Query, endpoint: str) -> int:
    """The number of bindings of an answer read whole (a chunk at a time); FetchError if it is not a
    SPARQL JSON results file of the query."""
    head_vars, count = None, 0
    try:
        for kind, value in _events(path):
            if kind == "head":
                head_vars = value.get("vars") if isinstance(value, dict) else None
            else:
                count += 1
    except (jsonstream.Malformed, UnicodeDecodeError) as error:
        raise FetchError(f"{endpoint} answered the query {query.name} with malformed JSON ({error}); "
                         "nothing saved") from None
    missing = sorted(query.variables - set(head_vars if isinstance(head_vars, list) else ()))
    if missing:
        raise FetchError(f"{endpoint}: the answer to the query {query.name} lacks the variables "
                         f"{', '.join(missing)}; nothing saved")
    return count
