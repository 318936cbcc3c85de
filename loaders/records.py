"""Records of the schema and their validation; every problem names its origin and field."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

from kb import keys
from kb.errors import InvalidRecord, SchemaError
from kb.schema import COMPUTED_PROPERTIES, EntityType, RelationType, Schema, coerce
from kb.types import shown


@dataclass
class EntityRecord:
    type: str
    props: dict
    origin: str

    @property
    def id(self) -> str:
        return self.props["id"]


@dataclass
class RelationRecord:
    type: str
    start: str
    end: str
    props: dict
    origin: str
    key: object = None


class Tie(NamedTuple):
    """A relation as the writer needs it: its ends' ids, its distinguishing key (None if its type
    has none) and its properties. The server receives it as a list, read by position (START ...):
    a list packs and unpacks at both ends without a name per field (about a tenth less time per
    batch than a map)."""
    start: str
    end: str
    key: object
    props: dict


START, END, KEY, PROPS = range(4)


class Row(NamedTuple):
    """One checked record without its origin: the one type a load's steps pass on, from
    validation through reconciliation to the writer. An entity's data is its property map, a
    relation's a Tie."""
    is_entity: bool
    type: str
    data: dict | Tie

    @classmethod
    def of(cls, record: "EntityRecord | RelationRecord") -> "Row":
        if isinstance(record, EntityRecord):
            return cls(True, record.type, record.props)
        return cls(False, record.type, Tie(record.start, record.end, record.key, record.props))


def merged(had: dict | None, given: dict) -> dict:
    """A tie's properties after a second statement of it, as the writer's MERGE leaves them: the given
    values replace the earlier ones, except the sources, which gain the new ones in order."""
    if had is None:
        return dict(given)
    result = {**had, **given}
    if had.get("sources") is not None:
        result["sources"] = had["sources"] + [s for s in given.get("sources") or () if s not in had["sources"]]
    return result


def with_search_keys(props: dict) -> dict:
    """The entity's properties plus its computed search keys."""
    found = keys.keys_for(props.get("name", ""), *props.get("aliases", []))
    return {**props, "search_keys": found, "search_text": "\n".join(found)}


class Findings(NamedTuple):
    """What a validator of relations found (Validator.findings), to be taken over by another."""
    relation_count: int
    problems: list
    problem_count: int
    deferred_ends: list
    deferred_sources: dict


MAX_PROBLEMS_KEPT = 1000
# Neo4j's index behind the id constraint holds keys of about 8 kB at most: a longer id would fail
# in the middle of the write. 1000 characters are 4000 bytes of UTF-8 at most.
MAX_ID_LENGTH = 1000


class Validator:
    """Checks records one at a time, then the references that point outside the input."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.problems: list[str] = []              # the first MAX_PROBLEMS_KEPT, to bound memory
        self.problem_count = 0
        self.types: dict[str, str] = {}             # id -> entity type of every entity in the input
        self._first_seen: dict[str, str] = {}
        self._deferred_ends: list[tuple] = []       # (origin, relation type, field, id) not in input yet
        self._deferred_sources: dict[str, str] = {}  # source id -> first origin citing it
        self.stored_ids: set[str] = set()            # ids of the input the database held before (finish)
        self.entity_count = 0
        self.relation_count = 0

    def problem(self, origin: str, field: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            where = f"{origin}, field '{field}'" if field else origin
            self.problems.append(f"{where}: {message}")

    def _properties(self, type_: EntityType | RelationType, raw: dict, origin: str) -> dict | None:
        declared, props, ok = type_.properties, {}, True
        for name, value in raw.items():
            if value is None or value == "" or value == []:
                continue
            prop = declared.get(name)
            if prop is None:
                self._undeclared(declared, name, origin)
                ok = False
                continue
            try:
                props[name] = coerce(prop, value)
            except ValueError as error:
                self.problem(origin, name, str(error))
                ok = False
        for name in type_.required:
            # A value given but refused above has its problem already.
            if name not in props and raw.get(name) in (None, "", []):
                self.problem(origin, name, "is required but missing")
                ok = False
        return props if ok else None

    def _undeclared(self, declared: dict, name: str, origin: str) -> None:
        if name in COMPUTED_PROPERTIES:
            self.problem(origin, name, "is computed by the loader and may not be given")
        else:
            self.problem(origin, name, f"is not a property of this type; allowed: {', '.join(sorted(declared))}")

    def _cite(self, props: dict, origin: str) -> None:
        for source_id in props.get("sources", ()):
            if self.types.get(source_id) != self.schema.source_type:
                self._deferred_sources.setdefault(source_id, origin)

    def _type(self, known: dict, lookup, type_name, origin: str):
        """The schema's type of that name (known: the schema's types by name), or None after
        recording that there is none."""
        # Most rows name a valid type; the lookup that explains a bad one runs only for those.
        found = known.get(type_name) if type(type_name) is str else None
        if found is not None:
            return found
        if type_name is not None and type(type_name) is not str:
            # str() of a YAML alias bomb would never end; the message quotes its start only.
            self.problem(origin, "type", f"must be a type name, got {shown(type_name)}")
            return None
        try:
            return lookup(str(type_name))
        except SchemaError as error:
            self.problem(origin, "type", str(error))
            return None

    def entity(self, type_name, raw: dict, origin: str) -> EntityRecord | None:
        """A checked entity record, or None after recording its problems."""
        self.entity_count += 1
        entity_type = self._type(self.schema.entities, self.schema.entity, type_name, origin)
        if entity_type is None:
            return None
        props = self._properties(entity_type, raw, origin)
        if props is None:
            return None
        entity_id = props["id"]
        if len(entity_id) > MAX_ID_LENGTH:
            self.problem(origin, "id", f"{shown(entity_id)} has {len(entity_id)} characters; an id has "
                                       f"{MAX_ID_LENGTH} at most")
            return None
        if entity_id in self.types:
            self.problem(origin, "id", f"duplicate id {entity_id!r}, first given at {self._first_seen[entity_id]}")
            return None
        self.types[entity_id] = entity_type.name
        self._first_seen[entity_id] = origin
        self._cite(props, origin)
        return EntityRecord(entity_type.name, props, origin)

    def relation(self, type_name, start, end, raw: dict, origin: str) -> RelationRecord | None:
        """A checked relation record, or None after recording its problems."""
        self.relation_count += 1
        relation_type = self._type(self.schema.relations, self.schema.relation, type_name, origin)
        if relation_type is None:
            return None
        props = self._properties(relation_type, raw, origin)
        ends_ok = True
        for field, entity_id, allowed in (("from", start, relation_type.sources), ("to", end, relation_type.targets)):
            entity_type = self.types.get(entity_id)
            if entity_type is not None:
                if entity_type not in allowed:
                    ends_ok = self._check_end(origin, relation_type.name, field, entity_id, entity_type)
            elif not entity_id:
                self.problem(origin, field, "is required but missing")
                ends_ok = False
            else:
                self._deferred_ends.append((origin, relation_type.name, field, str(entity_id)))
        if props is None or not ends_ok:
            return None
        self._cite(props, origin)
        key = props[relation_type.key] if relation_type.key else None
        start, end = str(start), str(end)
        if relation_type.symmetric and end < start:
            # One stored direction per pair, so that "A to B" and "B to A" merge into one tie.
            start, end = end, start
        return RelationRecord(relation_type.name, start, end, props, origin, key)

    def _check_end(self, origin, relation_name, field, entity_id, entity_type) -> bool:
        relation_type = self.schema.relations[relation_name]
        allowed = relation_type.sources if field == "from" else relation_type.targets
        if entity_type not in allowed:
            self.problem(origin, field, f"{relation_name} may not {'start at' if field == 'from' else 'end at'} "
                                        f"{entity_type} {entity_id!r}; allowed: {', '.join(sorted(allowed))}")
            return False
        return True

    def for_later_relations(self) -> "Validator":
        """A validator of relations only, knowing this one's entities, for a later part of the input
        checked elsewhere (loaders/validation.py); absorb then takes over its findings()."""
        other = Validator(self.schema)
        other.types = self.types
        return other

    def findings(self) -> Findings:
        """What checking relations found, without the entities this validator was given."""
        return Findings(self.relation_count, self.problems, self.problem_count, self._deferred_ends,
                        self._deferred_sources)

    def absorb(self, found: Findings) -> None:
        """Take over what another validator found after this one's records, as if this one had checked them."""
        self.relation_count += found.relation_count
        self.problems.extend(found.problems[:MAX_PROBLEMS_KEPT - len(self.problems)])
        self.problem_count += found.problem_count
        self._deferred_ends.extend(found.deferred_ends)
        for source_id, origin in found.deferred_sources.items():
            self._deferred_sources.setdefault(source_id, origin)

    def finish(self, stored_types: Callable[[list[str]], dict]) -> None:
        """Resolve references outside the input through stored_types(ids) -> {id: type}; raise on any problem."""
        outside = {entity_id for _, _, _, entity_id in self._deferred_ends if entity_id not in self.types}
        outside |= {sid for sid in self._deferred_sources if sid not in self.types}
        stored = stored_types(sorted(outside)) if outside else {}
        self._check_stored_conflicts(stored_types)
        for origin, relation_name, field, entity_id in self._deferred_ends:
            entity_type = self.types.get(entity_id) or stored.get(entity_id)
            if entity_type is None:
                self.problem(origin, field, f"refers to id {entity_id!r}, which exists neither in the input "
                                            "nor in the database")
            else:
                self._check_end(origin, relation_name, field, entity_id, entity_type)
        for source_id, origin in self._deferred_sources.items():
            source_type = self.types.get(source_id) or stored.get(source_id)
            if source_type != self.schema.source_type:
                what = "exists neither in the input nor in the database" if source_type is None \
                    else f"is a {source_type}, not a {self.schema.source_type}"
                self.problem(origin, "sources", f"cites {source_id!r}, which {what}")
        if self.problems:
            raise InvalidRecord(self.problems, self.problem_count)
        # Where each record came from only serves problem reports; the write pass needs the room
        # (200,000 entities: about 30 MB).
        self._first_seen, self._deferred_ends, self._deferred_sources = {}, [], {}

    def _check_stored_conflicts(self, stored_types) -> None:
        """An input id already stored under another type would break the one-id-one-entity rule."""
        # stored_types asks the database in chunks of its own.
        stored = stored_types(list(self.types))
        self.stored_ids = set(stored)
        for entity_id, stored_type in stored.items():
            if stored_type != self.types[entity_id]:
                self.problem(self._first_seen[entity_id], "type",
                             f"id {entity_id!r} is already stored as a {stored_type}, not a {self.types[entity_id]}")
