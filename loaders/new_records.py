"""Which records of a load cannot be stored yet, so that the writer may CREATE rather than MERGE them.

An entity whose id the database did not hold before the load is new (validation refuses an id
given twice). A stored relation joins two stored entities, so a relation with a new end is not
stored yet either; if its identity (type, ends, key) also occurs only once in the input, nothing
else in the load writes it. CREATE then gives the graph MERGE would give, and spares the server
its search for the stored record (about a fifth of a batch's time on a fresh load). Everything
else is MERGEd, so a load stays idempotent.
"""
from __future__ import annotations

from loaders.records import END, KEY, START

# Relation identities are counted by their hash in two bitmaps of this many bits (8 MB each): a
# slot two identities share makes both MERGE, which costs time, never correctness.
SLOTS = 1 << 26


class NewRecords:
    """Counts the input's relation identities during validation, then tells the writer what is new.

    Both passes hand it prepared rows (loaders/writer.py: prepared)."""

    def __init__(self):
        self._seen = bytearray(SLOTS // 8)
        self._repeated = bytearray(SLOTS // 8)
        self._input_types: dict = {}
        self._stored_ids: set = set()

    def count_relation(self, item: tuple) -> None:
        index, bit = _slot(item)
        if self._seen[index] & bit:
            self._repeated[index] |= bit
        else:
            self._seen[index] |= bit

    def absorb(self, other: "NewRecords") -> None:
        """Take over the relation identities another NewRecords counted (in a worker process)."""
        mine_seen, theirs_seen = _bits(self._seen), _bits(other._seen)
        repeated = _bits(self._repeated) | _bits(other._repeated) | (mine_seen & theirs_seen)
        self._seen = bytearray((mine_seen | theirs_seen).to_bytes(SLOTS // 8, "little"))
        self._repeated = bytearray(repeated.to_bytes(SLOTS // 8, "little"))

    def know_entities(self, input_types: dict, stored_ids: set) -> None:
        """The input's entities (id -> type) and those of them the database held before the load."""
        self._input_types, self._stored_ids = input_types, stored_ids

    def is_new(self, item: tuple) -> bool:
        is_entity, _, row = item
        if is_entity:
            return self._created(row["id"])
        index, bit = _slot(item)
        if self._repeated[index] & bit:
            return False
        return self._created(row[START]) or self._created(row[END])

    def _created(self, entity_id: str) -> bool:
        return entity_id in self._input_types and entity_id not in self._stored_ids


def _slot(item: tuple) -> tuple[int, int]:
    _, type_name, row = item
    slot = hash((type_name, row[START], row[END], row[KEY])) & (SLOTS - 1)
    return slot >> 3, 1 << (slot & 7)


def _bits(bitmap: bytearray) -> int:
    return int.from_bytes(bitmap, "little")
