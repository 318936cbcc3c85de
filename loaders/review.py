"""The review queue: candidate ties (loaders/extract.py) kept in the database as review items, and a
person's judgement of each kept as data.

A review item is a node labelled ReviewItem, which is no entity type of the schema: it has no
Entity label and no relationships, so the counts, the search index, the drawings and the exports,
which all select Entity nodes and the relations between them, never see it. Its id comes from the
document and the tie (type and ends as extracted), so queueing a document again finds the items it
made: a pending one is refreshed, an accepted or rejected one stays as judged, and the extractor
leaves judged ties out (the same document never asks twice).

Accepting writes the tie through the normal load path (loaders/pipeline.py: validation, then
reconciliation of the new entities it proposes), citing the document's Source, whose `accessed`
becomes the review date. `export` writes every accepted tie as a seed file that `kb load` reads back.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import yaml

from kb import db
from kb.errors import InvalidRecord, KBError
from kb.schema import ENTITY_LABEL, schema
from loaders import pipeline
from loaders.reconcile import AMBIGUOUS, HELD
from loaders.source import RecordSource

LABEL = "ReviewItem"
SOURCE_NAME = "review"
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATES = (PENDING, ACCEPTED, REJECTED)

CONSTRAINT = f"CREATE CONSTRAINT review_item_id IF NOT EXISTS FOR (r:{LABEL}) REQUIRE r.id IS UNIQUE"
# A pending item takes the latest evidence; a judged one is left as it was judged. A pending item of the
# document that its latest text no longer proposes (a new version of the article) goes.
QUEUE_QUERY = (
    f"CALL () {{ MATCH (r:{LABEL} {{document: $document, state: 'pending'}}) WHERE NOT r.id IN $ids DELETE r }} "
    f"WITH 1 AS once UNWIND $rows AS row MERGE (r:{LABEL} {{id: row.id}}) "
    "ON CREATE SET r += row, r.state = 'pending', r.created = $today "
    "WITH r, row WHERE r.state = 'pending' SET r += row RETURN count(r) AS pending"
)
JUDGED_QUERY = (f"MATCH (r:{LABEL}) WHERE r.document IN $documents AND r.state IN ['accepted', 'rejected'] "
                "RETURN r.document AS document, r.key AS key")
ITEM_QUERY = f"MATCH (r:{LABEL} {{id: $id}}) RETURN properties(r) AS item"
LIST_QUERY = (f"MATCH (r:{LABEL}) WHERE ($state IS NULL OR r.state = $state) "
              "AND ($document IS NULL OR r.document = $document) "
              "RETURN properties(r) AS item ORDER BY r.document, r.confidence DESC, r.id")
JUDGE_QUERY = (f"MATCH (r:{LABEL} {{id: $id}}) SET r.state = $state, r.reviewed = $today, r.reason = $reason, "
               "r.written = $written RETURN r.id AS id")
ACCEPTED_QUERY = f"MATCH (r:{LABEL} {{state: 'accepted'}}) RETURN properties(r) AS item ORDER BY r.reviewed, r.id"
# Fields kept as JSON text: Neo4j properties hold no maps.
JSON_FIELDS = ("props", "names", "proposed", "records", "written")

if LABEL in schema().entities:
    raise KBError(f"the schema declares an entity type {LABEL!r}, the label of review items")


class ReviewError(KBError):
    """A review item is unknown, or judging it failed; the message names the item and what is wrong."""


def _key(identity: tuple) -> str:
    return "|".join(identity)


def item_id(document_id: str, identity: tuple) -> str:
    """A stable id for the tie extracted from the document: the same tie of the same document, the same item."""
    return "rev-" + hashlib.sha1(f"{document_id}|{_key(identity)}".encode("utf-8")).hexdigest()[:12]


def _stored(item: dict) -> dict:
    return {k: json.loads(v) if k in JSON_FIELDS and isinstance(v, str) else v for k, v in item.items()}


def judged(document_ids) -> set:
    """(document, tie key) of every judged (accepted or rejected) item of the documents."""
    return {(r["document"], r["key"]) for r in db.read(JUDGED_QUERY, documents=sorted(set(document_ids)))}


def unjudged(candidates: list, judgements: set) -> list:
    """The candidates no judgement covers."""
    return [c for c in candidates if (c.document, _key(c.identity)) not in judgements]


def queue(article, candidates: list, records: list[dict], today: str | None = None) -> int:
    """Keep the article's candidates as review items, dropping its pending items that the article no longer
    proposes; returns how many of its candidates are pending afterwards.
    records: the article's Source and Document records (loaders/extract.source_records)."""
    db.write(CONSTRAINT)
    rows = [{"id": item_id(c.document, c.identity), "key": _key(c.identity), "document": c.document,
             "path": str(article.path), "title": article.meta.get("title") or "", "type": c.type,
             "from": c.start, "to": c.end, "props": json.dumps(c.props, ensure_ascii=False),
             "names": json.dumps(c.names, ensure_ascii=False), "proposed": json.dumps(c.proposed, ensure_ascii=False),
             "sentence": c.evidence["sentence"], "offsets": f"{c.evidence['start']}:{c.evidence['end']}",
             "cue": c.cue, "confidence": c.confidence, "records": json.dumps(records, ensure_ascii=False)}
            for c in candidates]
    found = db.write(QUEUE_QUERY, rows=rows, ids=[row["id"] for row in rows], document=article.document_id,
                     today=today or dt.date.today().isoformat())
    return found[0]["pending"] if found else 0


def get(review_id: str) -> dict:
    """The review item of that id; ReviewError when there is none."""
    found = db.read(ITEM_QUERY, id=review_id)
    if not found:
        raise ReviewError(f"review item {review_id!r}: no such item (see `kb review list`)")
    return _stored(dict(found[0]["item"]))


def items(state: str | None = PENDING, document: str | None = None) -> list[dict]:
    """The review items in a state (None: all), of one document or all, by document and confidence."""
    return [_stored(dict(r["item"])) for r in db.read(LIST_QUERY, state=state, document=document)]


def existing(item: dict) -> dict | None:
    """The properties of the tie the item states if the graph holds it already (accepting adds the
    document to its sources and replaces the properties the item gives)."""
    relation = schema().relation(item["type"])
    arrow = "-" if relation.symmetric else "->"
    found = db.read(f"MATCH (a:{ENTITY_LABEL} {{id: $a}})-[r:`{relation.name}`]{arrow}(b:{ENTITY_LABEL} {{id: $b}}) "
                    "RETURN properties(r) AS props LIMIT 1", a=item["from"], b=item["to"])
    return dict(found[0]["props"]) if found else None


def _source_id(item: dict) -> str:
    return next(r["id"] for r in item["records"] if r["type"] == "Source")


def tie(item: dict, sets: dict | None = None) -> dict:
    """The tie an item states, with a reviewer's edits (sets: property or from/to/type -> value)."""
    sets = dict(sets or {})
    record = {"type": item["type"], "from": item["from"], "to": item["to"], **item["props"]}
    for name in ("type", "from", "to"):
        if name in sets:
            record[name] = sets.pop(name)
    record.update(sets)
    record["sources"] = [_source_id(item)]
    return record


def _records(item: dict, record: dict, today: str, origin: str) -> RecordSource:
    """The records accepting writes: the document's Source (read today) and Document, the new entities
    the tie's ends propose, and the tie."""
    source_id = _source_id(item)
    ends = {record["from"], record["to"]}

    def entities(validator):
        for given in item["records"]:
            props = {k: v for k, v in given.items() if k != "type"}
            if given["type"] == "Source":
                props["accessed"] = today
            entity = validator.entity(given["type"], props, f"{origin} ({given['type']} {given['id']})")
            if entity:
                yield entity
        for new in item["proposed"]:
            if new["id"] in ends:
                entity = validator.entity(new["type"], {"id": new["id"], "name": new["name"], "sources": [source_id]},
                                          f"{origin} (new {new['type']} {new['name']!r})")
                if entity:
                    yield entity

    def relations(validator):
        props = {k: v for k, v in record.items() if k not in ("type", "from", "to")}
        relation = validator.relation(record["type"], record["from"], record["to"], props, origin)
        if relation:
            yield relation

    return RecordSource.of(entities, relations, source_name=SOURCE_NAME)


def accept(review_id: str, sets: dict | None = None, today: str | None = None) -> dict:
    """Write the item's tie (with the edits in sets) through the load path and mark the item accepted;
    returns the tie as written. ReviewError, in one line, when it fails validation (nothing written)."""
    item = get(review_id)
    if item["state"] != PENDING:
        raise ReviewError(f"review item {review_id}: already {item['state']} on {item.get('reviewed')}")
    today = today or dt.date.today().isoformat()
    record = tie(item, sets)
    origin = f"review item {review_id}"
    try:
        report = pipeline.load(_records(item, record, today, origin), show_progress=False)
    except InvalidRecord as error:
        raise ReviewError(f"{origin}: not accepted, nothing written: {'; '.join(error.problems)}") from None
    final = {o.proposed_id: o.id for o in report.reconciliation if o.id}
    held = [o for o in report.reconciliation if o.outcome in (AMBIGUOUS, HELD)]
    if held:
        raise ReviewError(f"{origin}: not accepted: {held[0].proposed_id} {held[0].reason or held[0].outcome} "
                          f"(candidates {held[0].candidates}); give the entity with --set from=ID or --set to=ID")
    written = {**record, "from": final.get(record["from"], record["from"]), "to": final.get(record["to"], record["to"])}
    # What a rebuild needs besides the seeds: the document's records, and the new entities created (not
    # those reconciliation matched with stored ones).
    created = [{"type": n["type"], "id": n["id"], "name": n["name"], "sources": record["sources"]}
               for n in item["proposed"] if n["id"] in (record["from"], record["to"])
               and final.get(n["id"], n["id"]) == n["id"]]
    documents = [{**r, "accessed": today} if r["type"] == "Source" else r for r in item["records"]]
    kept = {"relation": written, "entities": documents + created}
    db.write(JUDGE_QUERY, id=review_id, state=ACCEPTED, today=today, reason=None,
             written=json.dumps(kept, ensure_ascii=False))
    return written


def reject(review_id: str, reason: str | None = None, today: str | None = None) -> None:
    """Mark the item rejected (with the reason given), so that its document never proposes the tie again."""
    item = get(review_id)
    if item["state"] != PENDING:
        raise ReviewError(f"review item {review_id}: already {item['state']} on {item.get('reviewed')}")
    db.write(JUDGE_QUERY, id=review_id, state=REJECTED, today=today or dt.date.today().isoformat(),
             reason=reason, written=None)


def seed_text() -> tuple[str, int, int]:
    """Every accepted tie, with the Sources, Documents and new entities it needs, as the text of a seed
    file, and how many entities and relations it holds."""
    entities, relations = {}, []
    for item in (_stored(dict(r["item"])) for r in db.read(ACCEPTED_QUERY)):
        kept = item["written"]
        for entity in kept["entities"]:
            entities.setdefault(entity["id"], entity)
        relations.append(kept["relation"])
    document = {"entities": list(entities.values()), "relations": relations}
    header = "# Facts accepted in the review queue (`kb review export`): `kb load` reads this file back.\n"
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), len(entities), len(relations)


def export(out: Path) -> tuple[int, int]:
    """Write the accepted ties as a seed file (seed_text); returns (entities, relations) written."""
    text, entities, relations = seed_text()
    Path(out).write_text(text, encoding="utf-8")
    return entities, relations
