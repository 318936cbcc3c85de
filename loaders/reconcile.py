"""Identity: which stored entity, if any, each record of a named source (Wikidata, GLEIF, ...) is.

A named source's reader proposes ids of its own (`wd-Q64`, `lei-...`); this module alone decides
what becomes of them, in this order:
1. the proposed id is stored already (an earlier load of the source created it): matched on id;
2. a researcher's decision, from this load's decisions file or kept in the graph by an earlier
   one (`reconciled_from` on the entity): `same-as <id>` matches, `new` creates;
3. an external id (wikidata_id, lei: the schema's properties with a format) that a stored entity
   has: matched on it, unless that entity is of another type or has another value of an
   external id the record gives (then ambiguous);
4. a stored entity of the same type and country with a folded name or alias in common (kb.keys):
   exactly one, with no conflicting external id, matches on name; several are ambiguous;
5. otherwise the record is created under its proposed id.
A matched record adds to its entity only what it lacks (its name becomes an alias), and its
sources join the entity's. An ambiguous record is not written, nor is any relation touching
it; both are reported. Relations follow their ends to the ids decided.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kb import db, keys
from kb.errors import InvalidRecord
from kb.schema import COMPUTED_PROPERTIES, ENTITY_LABEL, schema
from loaders.new_records import NewRecords
from loaders.records import Row, Tie, merged
from loaders.writer import holds_entities

CREATED, MATCHED, AMBIGUOUS, HELD = "created", "matched", "ambiguous", "not written"
SAME_AS, NEW = "same-as", "new"
LOOKUP_CHUNK = 10000     # ids, values or keys per lookup statement


@dataclass
class Outcome:
    """One line of the reconciliation report."""
    outcome: str
    source: str
    proposed_id: str
    type: str
    name: str = ""
    country: str = ""
    id: str = ""                # where the record was written; empty when it was not
    matched_on: str = ""        # id, decision, wikidata_id, lei, name
    candidates: str = ""        # ids, separated by ';'
    reason: str = ""
    decision: str = ""          # left for the researcher to fill: same-as <id> or new


@dataclass(frozen=True)
class Decision:
    verdict: str                # SAME_AS or NEW
    target: str = ""
    origin: str = ""            # where it was given (the decisions file's line), or "" if kept in the graph

    def text(self) -> str:
        return f"{SAME_AS} {self.target}" if self.verdict == SAME_AS else NEW


@dataclass
class Reconciled:
    """The load's items with the decided ids, what the writer may create, and the report."""
    items: list
    new_records: NewRecords
    outcomes: list = field(default_factory=list)


def reconcile(items, source_name: str, decisions: dict | None = None) -> Reconciled:
    """Decide the identity of every entity among items (Rows, entities before relations)
    and rewrite the relations to the ids decided. decisions: (source, proposed id) -> Decision."""
    decisions = decisions or {}
    entities, relations = [], []
    for item in items:
        (entities if item.is_entity else relations).append(item)
    proposed = [(type_name, row) for _, type_name, row in entities if schema().entity(type_name).cited]
    targets = [decision.target for decision in decisions.values() if decision.verdict == SAME_AS]
    stored = _Stored.lookup(proposed, [row["id"] for _, _, row in entities] + targets, source_name)
    _check_decisions(decisions, source_name, stored)
    final_ids, outcomes, rows = {}, [], {}
    created_types, stored_ids = {}, set()
    for _, type_name, row in entities:
        if not schema().entity(type_name).cited:
            # A Source of the reader's own (one per file): its id is final.
            final_ids[row["id"]] = row["id"]
            created_types[row["id"]] = type_name
            if row["id"] in stored.by_id:
                stored_ids.add(row["id"])
            rows[row["id"]] = (type_name, row)
            continue
        outcome = _decide(type_name, row, source_name, stored, decisions)
        outcomes.append(outcome)
        final_ids[row["id"]] = outcome.id or None
        if outcome.outcome == CREATED:
            created_types[row["id"]] = type_name
            rows[row["id"]] = (type_name, row)
        elif outcome.outcome == MATCHED:
            decision = decisions.get((source_name, row["id"]))
            addition = _addition(row, stored.props[outcome.id],
                                 f"{source_name}:{row['id']}" if decision and decision.origin else None)
            _merge_into(rows, outcome.id, type_name, addition)
    written = [Row(True, type_name, row) for type_name, row in rows.values()]
    new_records = NewRecords()
    for item in _follow(relations, final_ids, source_name, outcomes):
        written.append(item)
        new_records.count_relation(item)
    new_records.know_entities(created_types, stored_ids)
    return Reconciled(written, new_records, outcomes)


@dataclass
class _Stored:
    """What the database holds that the proposed records could be: each candidate's properties by id.

    Each lookup asks only for the records the ones before left open, so that a source loaded
    again (its records stored under their ids) costs one lookup."""
    props: dict = field(default_factory=dict)
    types: dict = field(default_factory=dict)
    by_id: set = field(default_factory=set)
    by_decision: dict = field(default_factory=dict)       # proposed id -> stored id
    by_external: dict = field(default_factory=dict)       # (property, value) -> [ids]
    by_key: dict = field(default_factory=dict)            # (type, folded name) -> [ids]
    folded: dict = field(default_factory=dict)            # proposed id -> its folded names, if looked up

    @classmethod
    def lookup(cls, proposed: list, ids: list, source_name: str) -> "_Stored":
        """What is stored under ids, and what could be the proposed (type, row) records."""
        found = cls()
        if not holds_entities():
            return found
        found._add(_chunked(_BY_ID, "ids", ids), lambda record: found.by_id.add(record["id"]))
        left = [(type_name, row) for type_name, row in proposed if row["id"] not in found.by_id]
        decided = [f"{source_name}:{row['id']}" for _, row in left]
        found._add(_chunked(_BY_DECISION, "keys", decided), lambda record: found.by_decision.update(
            {key.split(":", 1)[1]: record["id"] for key in record["keys"]}))
        left = [(type_name, row) for type_name, row in left if row["id"] not in found.by_decision]
        for name in schema().external_ids:
            values = sorted({row[name] for _, row in left if name in row})
            found._add(_chunked(_by_external(name), "values", values),
                       lambda record, name=name: found.by_external.setdefault((name, record["value"]), []).append(
                           record["id"]))
        left = [(type_name, row) for type_name, row in left if not found.external_match(row)]
        found.folded = {row["id"]: _names(row) for _, row in left}
        for type_name in sorted({type_name for type_name, _ in left}):
            keys_wanted = sorted({key for other, row in left if other == type_name for key in found.folded[row["id"]]})
            found._add(_chunked(_by_keys(type_name), "keys", keys_wanted),
                       lambda record, type_name=type_name: [found.by_key.setdefault((type_name, key), []).append(
                           record["id"]) for key in record["keys"]])
        return found

    def external_match(self, row: dict) -> bool:
        """Whether a stored entity has one of the external ids the record gives."""
        return any((name, row[name]) in self.by_external for name in schema().external_ids if name in row)

    def _add(self, records, note) -> None:
        for record in records:
            self.props[record["id"]] = {k: v for k, v in record["props"].items() if k not in COMPUTED_PROPERTIES}
            self.types[record["id"]] = record["type"]
            note(record)


_RETURNED = (f"n.id AS id, [l IN labels(n) WHERE l <> '{ENTITY_LABEL}'][0] AS type, properties(n) AS props")
_BY_ID = f"UNWIND $ids AS id MATCH (n:{ENTITY_LABEL} {{id: id}}) RETURN {_RETURNED}"
_BY_DECISION = (f"MATCH (n:{ENTITY_LABEL}) WHERE any(key IN n.reconciled_from WHERE key IN $keys) "
                f"RETURN {_RETURNED}, [key IN n.reconciled_from WHERE key IN $keys] AS keys")


def _by_external(name: str) -> str:
    """The stored entities holding one of $values as the external id `name` (a schema property)."""
    return f"MATCH (n:{ENTITY_LABEL}) WHERE n.`{name}` IN $values RETURN n.`{name}` AS value, {_RETURNED}"


def _by_keys(type_name: str) -> str:
    """The stored entities of a type with a search key among $keys, and which ones.

    Exact keys, not the full-text index: every candidate counts (an index query returns its
    best few), and one scan of the type answers thousands of records."""
    label = schema().entity(type_name).name
    return (f"MATCH (n:`{label}`) WHERE any(key IN n.search_keys WHERE key IN $keys) "
            f"RETURN {_RETURNED}, [key IN n.search_keys WHERE key IN $keys] AS keys")


def _chunked(statement: str, name: str, values: list):
    # A read transaction of its own, not db.read: a load's lookups are not a user's query, whose
    # time the read timeout bounds.
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield from db.read_tx(_records, statement, {name: values[start:start + LOOKUP_CHUNK]})


def _records(tx, statement: str, params: dict) -> list:
    return list(tx.run(statement, params))


def _check_decisions(decisions: dict, source_name: str, stored: _Stored) -> None:
    """A same-as decision of the file must name a stored entity."""
    missing = [f"{decision.origin}, field 'decision': {decision.text()!r} names no stored entity"
               for (source, _), decision in decisions.items()
               if source == source_name and decision.verdict == SAME_AS and decision.target not in stored.props]
    if missing:
        raise InvalidRecord(missing)


def _decide(type_name: str, row: dict, source_name: str, stored: _Stored, decisions: dict) -> Outcome:
    proposed = row["id"]
    outcome = Outcome(CREATED, source_name, proposed, type_name, row.get("name", ""), row.get("country", ""),
                      id=proposed)
    if proposed in stored.by_id:
        return _matched(outcome, proposed, "id")
    decision = decisions.get((source_name, proposed))
    if decision is None and proposed in stored.by_decision:
        decision = Decision(SAME_AS, stored.by_decision[proposed])
    if decision is not None:
        outcome.decision = decision.text()
        if decision.verdict == NEW:
            return outcome
        if stored.types.get(decision.target) != type_name:
            return _ambiguous(outcome, [decision.target], f"the decision names a {stored.types.get(decision.target)}")
        return _matched(outcome, decision.target, "decision")
    given = {name: row[name] for name in schema().external_ids if name in row}
    for name, value in given.items():
        found = stored.by_external.get((name, value), [])
        if found:
            return _judge(outcome, found, type_name, given, stored, name)
    named = (candidate for key in stored.folded.get(proposed, ())
             for candidate in stored.by_key.get((type_name, key), ()))
    found = [candidate for candidate in dict.fromkeys(named)
             if stored.props[candidate].get("country") == row.get("country")]
    return _judge(outcome, found, type_name, given, stored, "name") if found else outcome


def _names(row: dict) -> list[str]:
    """The folded forms of a record's name and aliases (kb.keys), as entities' search keys hold them."""
    return keys.keys_for(row.get("name", ""), *row.get("aliases", ()))


def _judge(outcome: Outcome, found: list, type_name: str, given: dict, stored: _Stored, matched_on: str) -> Outcome:
    """Matched if exactly one candidate, of the record's type, agrees with every external id given."""
    if len(found) > 1:
        return _ambiguous(outcome, found, f"{len(found)} stored entities match on {matched_on}")
    candidate = found[0]
    if stored.types[candidate] != type_name:
        return _ambiguous(outcome, found, f"{matched_on} {outcome.proposed_id} matches a {stored.types[candidate]}")
    conflicts = [name for name, value in given.items() if stored.props[candidate].get(name) not in (None, value)]
    if conflicts:
        return _ambiguous(outcome, found, f"matches on {matched_on}, but its {', '.join(conflicts)} differs")
    return _matched(outcome, candidate, matched_on)


def _matched(outcome: Outcome, target: str, matched_on: str) -> Outcome:
    outcome.outcome, outcome.id, outcome.matched_on = MATCHED, target, matched_on
    return outcome


def _ambiguous(outcome: Outcome, candidates: list, reason: str) -> Outcome:
    outcome.outcome, outcome.id, outcome.reason = AMBIGUOUS, "", reason
    outcome.candidates = ";".join(sorted(candidates))
    return outcome


def _addition(row: dict, existing: dict, decided_as: str | None) -> dict:
    """What a matched record adds to its entity: the properties it lacks, its names as aliases,
    its sources (and the researcher's decision, kept for later loads)."""
    addition = {name: value for name, value in row.items()
                if name not in ("id", "name", "aliases") and existing.get(name) is None}
    names = [name for name in (row.get("name"), *row.get("aliases", ()))
             if name and name != existing.get("name") and name not in (existing.get("aliases") or ())]
    if names:
        addition["aliases"] = names
    if "sources" in row:
        addition["sources"] = row["sources"]
    if decided_as:
        addition["reconciled_from"] = [decided_as]
    return addition


def _merge_into(rows: dict, target: str, type_name: str, addition: dict) -> None:
    """Two records matched to one entity give it one row: lists joined, the first value kept."""
    _, row = rows.setdefault(target, (type_name, {"id": target}))
    for name, value in addition.items():
        if isinstance(value, list):
            row[name] = list(dict.fromkeys(row.get(name, []) + value))
        else:
            row.setdefault(name, value)


def _follow(relations: list, final_ids: dict, source_name: str, outcomes: list):
    """The relations with their ends at the decided ids, one row per tie (sources joined); those
    touching an ambiguous record are reported instead."""
    ties = {}
    for _, type_name, tie in relations:
        ends = [final_ids.get(tie.start, tie.start), final_ids.get(tie.end, tie.end)]
        if None in ends:
            held = tie.start if ends[0] is None else tie.end
            outcomes.append(Outcome(HELD, source_name, f"{tie.start} {type_name} {tie.end}",
                                    type_name, reason=f"touches the ambiguous record {held}"))
            continue
        if schema().relation(type_name).symmetric:
            ends.sort()
        identity = (type_name, *ends, tie.key)
        had = ties.get(identity)
        # A tie stated twice reads as the writer would store it: sources joined, later values winning.
        props = merged(had.data.props if had else None, tie.props)
        ties[identity] = Row(False, type_name, Tie(ends[0], ends[1], tie.key, props))
    return ties.values()
