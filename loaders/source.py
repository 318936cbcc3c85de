"""What a reader gives a load: its records, entities before relations, as it reads them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from loaders.records import Validator

Phase = Callable[[Validator], Iterable]


@dataclass(frozen=True)
class RecordSource:
    """An input read in two phases, entities then relations, so relations always find their ends.

    Each phase yields records as it reads them, so that large files stream instead of sitting in
    memory. The relation phase is a run of parts, (size in bytes, phase), read in order: a reader
    whose relations lie in several files gives one part per file, so that a large input's later
    files can be checked on another core (loaders/validation.py).
    """
    entities: Phase
    relation_parts: tuple[tuple[int, Phase], ...]
    # A named source (wikidata, gleif, ...) proposes ids, which reconciliation decides
    # (loaders/reconcile.py); seed and CSV records carry their final ids and skip that step.
    source_name: str | None = None
    # What the reader found for a researcher to look at (e.g. names no entity has), once read.
    review: Callable[[], list] | None = None
    # What the reader does once its records are written (not in a dry run): e.g. a document's stale
    # mentions removed, which only a complete, valid new version may do.
    after_write: Callable[[], None] | None = None

    @classmethod
    def of(cls, entities: Phase, relations: Phase, **details) -> "RecordSource":
        """A source whose relations are read in one part."""
        return cls(entities, ((0, relations),), **details)

    def __call__(self, validator: Validator) -> Iterable:
        yield from self.entities(validator)
        for _, phase in self.relation_parts:
            yield from phase(validator)


def combine(sources: list[RecordSource]) -> RecordSource:
    """One source reading the entities of every source before any relation."""
    def entities(validator):
        for source in sources:
            yield from source.entities(validator)

    hooks = [source.after_write for source in sources if source.after_write]

    def after_write():
        for hook in hooks:
            hook()

    return RecordSource(entities, tuple(part for source in sources for part in source.relation_parts),
                        after_write=after_write if hooks else None)
