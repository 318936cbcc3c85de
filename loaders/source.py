"""What a reader gives a load: its records, entities before relations, as it reads them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from loaders.records import Validator


@dataclass(frozen=True)
class RecordSource:
    """An input read in two phases, entities then relations, so relations always find their ends.

    Each phase yields records as it reads them, so that large files stream instead of sitting in
    memory.
    """
    entities: Callable[[Validator], Iterable]
    relations: Callable[[Validator], Iterable]
    # A named source (wikidata, gleif, ...) proposes ids, which reconciliation decides
    # (loaders/reconcile.py); seed and CSV records carry their final ids and skip that step.
    source_name: str | None = None
    # What the reader found for a researcher to look at (e.g. names no entity has), once read.
    review: Callable[[], list] | None = None

    def __call__(self, validator: Validator) -> Iterable:
        yield from self.entities(validator)
        yield from self.relations(validator)


def combine(sources: list[RecordSource]) -> RecordSource:
    """One source reading the entities of every source before any relation."""
    def entities(validator):
        for source in sources:
            yield from source.entities(validator)

    def relations(validator):
        for source in sources:
            yield from source.relations(validator)

    return RecordSource(entities, relations)
