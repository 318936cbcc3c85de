"""Retracted ties: a tie taken back (with a reason and a source) leaves the graph, so that no query,
count, drawing or export shows it and none needs a filter; a Retraction node keeps all of it.

A Retraction is no entity type of the schema: it has no Entity label and no relationships, so the
counts, the search index, the drawings and the exports never see it. It holds the tie (type, ends,
their names, its properties as JSON, since Neo4j properties hold no maps), the reason, the source
that says the tie is wrong and the date. Applying a retraction is idempotent (MERGE on its id; a tie
already gone is nothing to delete), so a seed file's `retracted:` list can be loaded again and again.
"""
from __future__ import annotations

import hashlib
import json

from kb import db
from kb.errors import KBError
from kb.schema import ENTITY_LABEL, schema

LABEL = "Retraction"
CONSTRAINT = f"CREATE CONSTRAINT retraction_id IF NOT EXISTS FOR (x:{LABEL}) REQUIRE x.id IS UNIQUE"
LIST_QUERY = f"MATCH (x:{LABEL}) RETURN properties(x) AS retraction ORDER BY x.date, x.id"
# The fields of a retraction in a seed file's `retracted:` list, and those it may leave out.
FIELDS = ("id", "type", "from", "to", "reason", "source", "date", "tie")
OPTIONAL = ("key", "from_name", "to_name")

if LABEL in schema().entities:
    raise KBError(f"the schema declares an entity type {LABEL!r}, the label of retracted ties")


def retraction_id(relation: str, start: str, end: str, key, date: str) -> str:
    """A stable id for retracting that tie on that date."""
    text = "|".join(str(part) for part in (relation, start, end, key or "", date))
    return "ret-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _tie_pattern(relation_name: str) -> str:
    """The MATCH pattern of the tie a row names (ends and, for a keyed type, the key); labels from the schema."""
    relation = schema().relation(relation_name)
    arrow = "-" if relation.symmetric else "->"
    key = f" WHERE r.`{relation.key}` = row.key" if relation.key else ""
    return (f"(a:{ENTITY_LABEL} {{id: row.from}})-[r:`{relation.name}`]{arrow}(b:{ENTITY_LABEL} {{id: row.to}})"
            + key)


def tie_query(relation_name: str) -> str:
    """Cypher: the properties and end names of the ties a row ($rows) names."""
    return (f"UNWIND $rows AS row MATCH {_tie_pattern(relation_name)} "
            "RETURN properties(r) AS props, a.name AS from_name, b.name AS to_name")


def apply_query(relation_name: str) -> str:
    """Cypher: keep each row ($rows) as a Retraction and delete the tie it names, if the graph holds it."""
    return (f"UNWIND $rows AS row MERGE (x:{LABEL} {{id: row.id}}) SET x += row "
            f"WITH row OPTIONAL MATCH {_tie_pattern(relation_name)} DELETE r")


def stored(row: dict) -> dict:
    """A retraction as written: the tie's properties as JSON text."""
    return {**row, "tie": json.dumps(row["tie"], ensure_ascii=False, default=str)}


def apply(rows: list[dict]) -> None:
    """Retract the ties the rows name (FIELDS, the tie's properties a mapping), one write per relation type."""
    if not rows:
        return
    db.write(CONSTRAINT)
    for relation_name in sorted({row["type"] for row in rows}):
        db.write(apply_query(relation_name), rows=[stored(row) for row in rows if row["type"] == relation_name])


def retracted() -> list[dict]:
    """Every retraction, oldest first, the tie's properties a mapping again."""
    found = [dict(r["retraction"]) for r in db.read(LIST_QUERY)]
    return [{**x, "tie": json.loads(x["tie"])} for x in found]


def seed_rows() -> list[dict]:
    """The retractions as a seed file's `retracted:` list."""
    return [{name: x[name] for name in FIELDS + OPTIONAL if x.get(name) is not None} for x in retracted()]
