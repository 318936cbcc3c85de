"""Which records of a load cannot be stored yet, so that the writer may CREATE rather than MERGE them.

An entity whose id the database did not hold before the load is new (validation refuses an id
given twice). A stored relation joins two stored entities, so a relation with a new end is not
stored yet either; if its identity (type, ends, key) also occurs only once in the input, nothing
else in the load writes it. CREATE then gives the graph MERGE would give, and spares the server
its search for the stored record (about a fifth of a batch's time on a fresh load). Everything
else is MERGEd, so a load stays idempotent.
"""
from __future__ import annotations

from array import array

import numpy

from loaders.records import Row


class NewRecords:
    """Counts the input's relation identities during validation, then tells the writer what is new.

    Each identity is kept as its 64-bit hash (8 bytes a relation); the hashes given more than
    once are found by sorting them once validation has passed. Two identities sharing a hash
    both MERGE, which costs time, never correctness; among a million identities the chance of
    that is about one in thirty million. So a load without repeated ties needs no MERGE statement
    (the bitmap this replaced sent some 20,000 of a million ties through twenty of them, each
    a statement more for the server to plan, about 0.15 s each).

    Both passes hand it Rows (loaders/records.py)."""

    def __init__(self):
        self._identities = array("q")
        self._repeated: frozenset = frozenset()
        self._input_types: dict = {}
        self._stored_ids: set = set()

    def count_relation(self, item: Row) -> None:
        self._identities.append(_identity(item))

    def absorb(self, other: "NewRecords") -> None:
        """Take over the relation identities another NewRecords counted (in a worker process)."""
        self._identities.extend(other._identities)

    def know_entities(self, input_types: dict, stored_ids: set) -> None:
        """The input's entities (id -> type) and those of them the database held before the load;
        the relation identities counted are final."""
        self._input_types, self._stored_ids = input_types, stored_ids
        ordered = numpy.sort(numpy.frombuffer(self._identities, dtype=numpy.int64))
        self._repeated = frozenset(ordered[1:][ordered[1:] == ordered[:-1]].tolist())
        self._identities = array("q")

    def is_new(self, item: Row) -> bool:
        if item.is_entity:
            return self._created(item.data["id"])
        if self.is_repeated(item):
            return False
        return self._created(item.data.start) or self._created(item.data.end)

    def is_repeated(self, item: Row) -> bool:
        """Whether the input gives this relation's identity more than once (a hash shared by two
        identities counts as given twice)."""
        return bool(self._repeated) and _identity(item) in self._repeated

    def _created(self, entity_id: str) -> bool:
        return entity_id in self._input_types and entity_id not in self._stored_ids


def _identity(item: Row) -> int:
    _, type_name, tie = item
    return hash((type_name, tie.start, tie.end, tie.key))
