"""Facts added and ties retracted by hand.

Adding writes the tie through the review queue's write path (loaders/review.py write_tie: validation,
reconciliation), citing an existing Source or a new one (URL, title, publisher, read date), and keeps
it as a review item in the `added` state, so that it is exported with the accepted ties. Retracting
takes a tie out of the graph and keeps it as a Retraction (loaders/retraction.py). `seed_text` writes
both, and the accepted ties, as one seed file that `kb load` reads back to the same graph.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml

from kb import db
from kb.errors import KBError, SchemaError
from kb.schema import schema
from loaders import retraction, review

SOURCE_EXISTS = f"MATCH (s:{schema().source_type} {{id: $id}}) RETURN s.id AS id"


class FactError(KBError):
    """A fact cannot be added or a tie retracted; the message names the field at fault. Nothing is written."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        # The field at fault, for a form to show the message beside it: the message's first word(s)
        # before a colon, or the field a validation problem names.
        named = re.search(r"field '([^']+)'", message)
        self.field = field or (named.group(1) if named else message.split(":", 1)[0])


def new_source(url: str, title: str, publisher: str | None, read: str, kind: str = "news") -> dict:
    """A Source record for a page read: its id comes from its URL, so the same page is one Source."""
    for field, value in (("source URL", url), ("source title", title), ("read date", read)):
        if not (value or "").strip():
            raise FactError(f"{field}: required for a new source")
    source_id = "src-url-" + hashlib.sha1(url.strip().encode("utf-8")).hexdigest()[:12]
    record = {"type": schema().source_type, "id": source_id, "name": title.strip(), "title": title.strip(),
              "kind": kind, "url": url.strip(), "accessed": read.strip()}
    return {**record, "publisher": publisher.strip()} if (publisher or "").strip() else record


def _existing_source(source_id: str) -> str:
    if not db.read(SOURCE_EXISTS, id=source_id):
        raise FactError(f"source: no Source {source_id!r} in the graph")
    return source_id


def _relation(relation_name: str):
    try:
        return schema().relation(relation_name)
    except SchemaError as error:
        raise FactError(f"relation type: {error}") from None


def allowed_relations(start_type: str, end_type: str) -> list[str]:
    """The relation types the schema allows from an entity of start_type to one of end_type."""
    return sorted(name for name, relation in schema().relations.items()
                  if start_type in relation.sources and end_type in relation.targets)


def fact_id(record: dict) -> str:
    """A stable id for a tie added by hand citing one source."""
    text = "|".join((record["type"], record["from"], record["to"], record["sources"][0]))
    return "fact-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def add(relation_name: str, start: str, end: str, props: dict | None = None, source: str | dict = "",
        today: str | None = None) -> dict:
    """Write a tie by hand and keep it for export; returns the tie as written.

    source: an existing Source's id, or a new Source record (new_source). FactError, in one line naming
    the field, when anything fails validation: then nothing is written."""
    _relation(relation_name)
    today = today or dt.date.today().isoformat()
    given = [source] if isinstance(source, dict) else []
    source_id = source["id"] if isinstance(source, dict) else _existing_source(source)
    record = {"type": relation_name, "from": start, "to": end, **(props or {}), "sources": [source_id]}
    record_id = fact_id(record)
    origin = f"fact {start} -[{relation_name}]-> {end}"
    try:
        kept = review.write_tie(given, [], record, today, origin, f"{origin}: not added")
    except review.ReviewError as error:
        raise FactError(str(error)) from None
    review.keep_added(record_id, record, given, kept, today)
    return kept["relation"]


def retract(relation_name: str, start: str, end: str, reason: str, source_id: str, key: str | None = None,
            today: str | None = None) -> dict:
    """Take a tie out of the graph, keeping it, the reason, the source and the date as a Retraction; returns
    the retraction. FactError, in one line, when the tie, the source or the reason is missing."""
    relation = _relation(relation_name)
    if not (reason or "").strip():
        raise FactError("reason: say why the tie is retracted")
    _existing_source(source_id)
    if relation.key and not key:
        raise FactError(f"key: {relation_name} ties are told apart by {relation.key}; give it")
    if relation.symmetric:
        start, end = sorted((start, end))
    today = today or dt.date.today().isoformat()
    named = {"from": start, "to": end, "key": key}
    found = db.read(retraction.tie_query(relation_name), rows=[named])
    if not found:
        raise FactError(f"tie: the graph holds no {start} -[{relation_name}]-> {end}"
                        + (f" with {relation.key} {key!r}" if key else "") + " (see `kb fact retracted`)")
    row = {"id": retraction.retraction_id(relation_name, start, end, key, today), "type": relation_name,
           "from": start, "to": end, "reason": reason.strip(), "source": source_id, "date": today,
           "tie": dict(found[0]["props"]), "from_name": found[0]["from_name"], "to_name": found[0]["to_name"]}
    if key:
        row["key"] = key
    retraction.apply([row])
    return row


def retracted() -> list[dict]:
    """Every retracted tie, oldest first (loaders/retraction.py)."""
    return retraction.retracted()


def seed_text() -> tuple[str, int, int, int]:
    """The accepted and added ties, with the entities they need, and the retractions, as the text of a
    seed file; and how many entities, relations and retractions it holds."""
    document = review.seed_document()
    retractions = retraction.seed_rows()
    if retractions:
        document["retracted"] = retractions
    header = ("# Facts accepted in the review queue or added by hand, and ties retracted (`kb review export`):\n"
              "# `kb load` reads this file back, the retractions after the relations.\n")
    text = header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return text, len(document["entities"]), len(document["relations"]), len(retractions)


def export(out: Path) -> tuple[int, int, int]:
    """Write seed_text to out; returns (entities, relations, retractions) written."""
    text, *counts = seed_text()
    Path(out).write_text(text, encoding="utf-8")
    return tuple(counts)
