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
becomes the review date. `seed_document` gives every accepted tie for the seed file that loaders/facts.py
writes and `kb load` reads back.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from kb import db
from kb.errors import InvalidRecord, KBError
from kb.schema import ENTITY_LABEL, schema
from loaders import pipeline
from loaders.reconcile import AMBIGUOUS, HELD
from loaders.source import RecordSource

LABEL = "ReviewItem"
SOURCE_NAME = "review"
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
# A fact added by hand (loaders/facts.py) is kept as an item of its own state, so that it is exported with
# the accepted ones.
ADDED = "added"
STATES = (PENDING, ACCEPTED, REJECTED, ADDED)

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
ACCEPTED_QUERY = (f"MATCH (r:{LABEL}) WHERE r.state IN ['accepted', 'added'] "
                  "RETURN properties(r) AS item ORDER BY r.reviewed, r.id")
KEEP_ADDED_QUERY = f"MERGE (r:{LABEL} {{id: $id}}) SET r += $item, r.state = 'added', r.reviewed = $today"
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


def _records(given: list[dict], proposed: list[dict], record: dict, today: str, origin: str) -> RecordSource:
    """The records a tie's writing loads: the entities given with it (a document's Source, read today, and
    Document; a new Source), the new entities proposed for the tie's ends, and the tie."""
    source_id = record["sources"][0]
    ends = {record["from"], record["to"]}

    def entities(validator):
        for entity_record in given:
            props = {k: v for k, v in entity_record.items() if k != "type"}
            if entity_record["type"] == "Source":
                props["accessed"] = props.get("accessed") or today
            entity = validator.entity(entity_record["type"], props,
                                      f"{origin} ({entity_record['type']} {entity_record['id']})")
            if entity:
                yield entity
        for new in proposed:
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


def write_tie(given: list[dict], proposed: list[dict], record: dict, today: str, origin: str, refused: str) -> dict:
    """Write a tie, with the entities given with it and the new ends proposed, through the load path
    (validation, reconciliation); returns what a rebuild needs of it ({relation, entities}). ReviewError,
    in one line starting with refused, when it fails validation or an end is held (nothing written)."""
    try:
        report = pipeline.load(_records(given, proposed, record, today, origin), show_progress=False)
    except InvalidRecord as error:
        raise ReviewError(f"{refused}, nothing written: {'; '.join(error.problems)}") from None
    final = {o.proposed_id: o.id for o in report.reconciliation if o.id}
    held = [o for o in report.reconciliation if o.outcome in (AMBIGUOUS, HELD)]
    if held:
        raise ReviewError(f"{refused}: {held[0].proposed_id} {held[0].reason or held[0].outcome} "
                          f"(candidates {held[0].candidates}); give the entity with --set from=ID or --set to=ID")
    written = {**record, "from": final.get(record["from"], record["from"]), "to": final.get(record["to"], record["to"])}
    # What a rebuild needs besides the seeds: the entities given, and the new entities created (not those
    # reconciliation matched with stored ones).
    created = [{"type": n["type"], "id": n["id"], "name": n["name"], "sources": record["sources"]}
               for n in proposed if n["id"] in (record["from"], record["to"]) and final.get(n["id"], n["id"]) == n["id"]]
    entities = [{**r, "accessed": r.get("accessed") or today} if r["type"] == "Source" else r for r in given]
    return {"relation": written, "entities": entities + created}


def accept(review_id: str, sets: dict | None = None, today: str | None = None) -> dict:
    """Write the item's tie (with the edits in sets) through the load path and mark the item accepted;
    returns the tie as written. ReviewError, in one line, when it fails validation (nothing written)."""
    item = get(review_id)
    if item["state"] != PENDING:
        raise ReviewError(f"review item {review_id}: already {item['state']} on {item.get('reviewed')}")
    today = today or dt.date.today().isoformat()
    origin = f"review item {review_id}"
    # The document's Source is read again today: its `accessed` becomes the review date.
    given = [{k: v for k, v in r.items() if k != "accessed"} for r in item["records"]]
    kept = write_tie(given, item["proposed"], tie(item, sets), today, origin, f"{origin}: not accepted")
    db.write(JUDGE_QUERY, id=review_id, state=ACCEPTED, today=today, reason=None,
             written=json.dumps(kept, ensure_ascii=False))
    return kept["relation"]


def keep_added(fact_id: str, record: dict, given: list[dict], kept: dict, today: str) -> None:
    """Keep a fact added by hand (record: the tie as given, kept: what write_tie returned) as an item in
    the added state, cited by its source as an extracted tie is by its document."""
    db.write(CONSTRAINT)
    props = {k: v for k, v in record.items() if k not in ("type", "from", "to", "sources")}
    item = {"key": _key((record["type"], record["from"], record["to"])), "document": record["sources"][0],
            "path": "", "title": "", "type": record["type"], "from": record["from"], "to": record["to"],
            "props": json.dumps(props, ensure_ascii=False), "proposed": "[]",
            "names": json.dumps({"from": record["from"], "to": record["to"]}),
            "sentence": "", "offsets": "", "cue": "added by hand", "confidence": 1.0,
            "records": json.dumps(given, ensure_ascii=False), "written": json.dumps(kept, ensure_ascii=False)}
    db.write(KEEP_ADDED_QUERY, id=fact_id, item=item, today=today)


def reject(review_id: str, reason: str | None = None, today: str | None = None) -> None:
    """Mark the item rejected (with the reason given), so that its document never proposes the tie again."""
    item = get(review_id)
    if item["state"] != PENDING:
        raise ReviewError(f"review item {review_id}: already {item['state']} on {item.get('reviewed')}")
    db.write(JUDGE_QUERY, id=review_id, state=REJECTED, today=today or dt.date.today().isoformat(),
             reason=reason, written=None)


def seed_document() -> dict:
    """Every accepted or added tie, with the Sources, Documents and new entities it needs, as a seed file's
    {entities, relations} (loaders/facts.py seed_text writes it)."""
    entities, relations = {}, []
    for item in (_stored(dict(r["item"])) for r in db.read(ACCEPTED_QUERY)):
        kept = item["written"]
        for entity in kept["entities"]:
            entities.setdefault(entity["id"], entity)
        relations.append(kept["relation"])
    return {"entities": list(entities.values()), "relations": relations}
