"""Batched, idempotent writes: one UNWIND statement per entity type and per relation type."""
from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Callable, Iterable

from neo4j.exceptions import ConstraintError

from kb import db, ddl
from kb.errors import LoadInterrupted
from kb.schema import ENTITY_LABEL, schema
from loaders.new_records import NewRecords
from loaders.records import END, KEY, PROPS, START, Row, merged, with_search_keys


def _union(holder: str, had: str, prop: str, given: str) -> str:
    """Cypher for the stored list `had`.prop followed by the given list's items it lacks."""
    return (f"{holder}.`{prop}` = CASE WHEN {had}.`{prop}` IS NULL THEN {given} "
            f"ELSE {had}.`{prop}` + [x IN coalesce({given}, []) WHERE NOT x IN {had}.`{prop}`] END")


def entity_statement(type_name: str, create: bool = False) -> str:
    """MERGE a batch of entities of one type on their id; the record's properties are added to the stored ones.

    Each row is the entity's property map. Both labels are in the pattern, so a new node is created
    with them at once; validation has already refused an id stored under another type. A value
    the row gives replaces the stored one, except lists (sources, aliases, ...) and search keys,
    which keep what is stored and gain what is new: a fact merged from two sources cites both,
    and what another load added stays. With create, the entities are known to be new
    (loaders/new_records.py) and are created. Returns how many were written."""
    entity_type = schema().entity(type_name)
    returned = "RETURN count(n) AS written"
    if create:
        return f"UNWIND $rows AS row CREATE (n:{ENTITY_LABEL}:`{entity_type.name}`) SET n = row {returned}"
    lists = [name for name, prop in entity_type.properties.items() if prop.type == "string[]"] + ["search_keys"]
    unions = ", ".join(_union("n", "had", name, f"row.`{name}`") for name in lists)
    return (f"UNWIND $rows AS row MERGE (n:{ENTITY_LABEL}:`{entity_type.name}` {{id: row.id}}) "
            f"WITH n, row, properties(n) AS had SET n += row, {unions} "
            "SET n.search_text = reduce(text = head(n.search_keys), key IN tail(n.search_keys) | text + '\\n' + key) "
            f"{returned}")


def relation_statement(type_name: str, create: bool = False) -> str:
    """MERGE a batch of relations of one type on (start, type, end[, key]); properties are added to the stored ones.

    A value the row gives replaces the stored one, except the sources, which gain the row's new
    ones: a tie stated by two sources cites both, whichever load came first, and a note or date
    another source gave stays. With create, the relations are known to be new (loaders/new_records.py) and are created.
    Returns how many rows found both ends."""
    relation = schema().relation(type_name)
    identity = f" {{`{relation.key}`: row[{KEY}]}}" if relation.key and not create else ""
    ends = f"MATCH (a:{ENTITY_LABEL} {{id: row[{START}]}}) MATCH (b:{ENTITY_LABEL} {{id: row[{END}]}})"
    write = (f"CREATE (a)-[r:`{relation.name}`]->(b) SET r = row[{PROPS}]" if create else
             f"MERGE (a)-[r:`{relation.name}`{identity}]->(b) WITH r, row, properties(r) AS had "
             f"SET r += row[{PROPS}], {_union('r', 'had', 'sources', f'row[{PROPS}].sources')}")
    return f"UNWIND $rows AS row {ends} {write} RETURN count(r) AS written"


def holds_entities() -> bool:
    """Whether the database holds any entity (read from Neo4j's counts, not by a scan)."""
    return db.read(f"MATCH (n:{ENTITY_LABEL}) RETURN count(n) > 0 AS found")[0]["found"]


def stored_types(ids: list[str]) -> dict[str, str]:
    """The entity type of each given id that the database already holds."""
    # A first load would look up every one of its ids in vain (200,000 ids: about 1.4 s).
    if not ids or not holds_entities():
        return {}
    found = {}
    for start in range(0, len(ids), 20000):
        records = db.read(f"UNWIND $ids AS id MATCH (n:{ENTITY_LABEL} {{id: id}}) "
                          f"RETURN n.id AS id, [l IN labels(n) WHERE l <> '{ENTITY_LABEL}'][0] AS type",
                          ids=ids[start:start + 20000])
        found.update({r["id"]: r["type"] for r in records})
    return found


class Batch(list):
    """A batch's rows, which the driver packs as a list but describes by their count.

    The driver formats the parameters of every statement it sends for its debug log, whether
    that log is on or not: repr of all the rows, about 4 s of CPU per million relations that the
    server would otherwise have."""
    # places: tie identity -> index of its row, in a relation batch that merges (BatchWriter._folded);
    # folded: the input rows folded into those rows, which progress counts as done with the batch.
    __slots__ = ("places", "folded")

    def __init__(self, rows=()):
        super().__init__(rows)
        self.places = {}
        self.folded = 0

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


# Relation batches of new ties are written by this many transactions at once: the server writes
# one batch on about one core (1M relations: its CPU 0.95 cores, the loader's 0.15), so a second
# alongside keeps the other core busy; 28.7% less time at 1M (bench/ablation.py, "concurrent new
# ties"). A deadlock between the two rolls one back, and the driver writes it again.
CONCURRENT_CREATES = 2


class _Alongside:
    """Runs jobs on up to `width` threads, collecting each result on the calling thread."""

    def __init__(self, width: int):
        self.width = width
        self._pool = ThreadPoolExecutor(width, thread_name_prefix="kb-write")
        self._running: dict = {}        # future -> its done(result) callback

    def submit(self, job: Callable[[], int], done: Callable[[int], None]) -> None:
        """Run job() once a thread is free; done(its result) runs here when it has finished."""
        while len(self._running) >= self.width:
            self._collect()
        self._running[self._pool.submit(job)] = done

    def drain(self) -> None:
        """Wait for every job; the first that failed raises its error here."""
        while self._running:
            self._collect()

    def _collect(self) -> None:
        finished, _ = wait(self._running, return_when=FIRST_COMPLETED)
        for future in finished:
            self._running.pop(future)(future.result())

    def close(self) -> None:
        """Let the jobs already sent finish (each is one transaction) and start no other."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class BatchWriter:
    """Buffers records per type and writes each buffer as one transaction when it is full:
    entities before the relations that need them, a later row of a tie after an earlier one.
    Relation batches of new ties, which no other batch writes, go alongside one another
    (CONCURRENT_CREATES); every other batch waits for its turn on the loading thread."""

    def __init__(self, batch_size: int, new_records: NewRecords, on_written=lambda n: None,
                 on_entities_written=lambda: None):
        self.batch_size = batch_size
        self.new_records = new_records
        self.on_written = on_written
        self.on_entities_written = on_entities_written
        # (type, create) -> rows
        self.entities: dict[tuple[str, bool], Batch] = defaultdict(Batch)
        self.relations: dict[tuple[str, bool], Batch] = defaultdict(Batch)
        self.written: Counter = Counter()
        self._relations_started = False
        self._alongside = _Alongside(CONCURRENT_CREATES)

    def add(self, item: Row) -> None:
        """Buffer one row and write its buffer once it is full."""
        batch = item.type, self.new_records.is_new(item)
        row = item.data
        if item.is_entity:
            buffer = self.entities[batch]
            # Folded here, not at validation: validation runs while the server has nothing to do,
            # so its every second adds to the load's time.
            buffer.append(with_search_keys(row))
            if len(buffer) >= self.batch_size:
                self._flush_entities(batch)
        else:
            if not self._relations_started:
                self._start_relations()
            buffer = self.relations[batch]
            # A plain tuple: the driver sends no subclass of one (Tie).
            if not self._folded(batch, buffer, tuple(row)):
                return
            if len(buffer) >= self.batch_size:
                self._flush_relations(batch)

    @staticmethod
    def _folded(batch: tuple, buffer: "Batch", row: tuple) -> bool:
        """Add a relation row to buffer, or fold it into the row of the same tie already there (only
        in a batch that merges: a created one holds no repeat). Returns whether the buffer grew.

        Two rows of one tie in a batch would both be MERGEd before either is SET (the plan matches
        every row first), and the first one's sources would be lost. (Validation refuses an entity
        given twice, so entity batches hold no repeats.)"""
        creates, identity = batch[1], (row[START], row[END], row[KEY])
        if creates or identity not in buffer.places:
            if not creates:
                buffer.places[identity] = len(buffer)
            buffer.append(row)
            return True
        place = buffer.places[identity]
        had = buffer[place]
        buffer[place] = (*had[:PROPS], merged(had[PROPS], row[PROPS]))
        buffer.folded += 1
        return False

    def _start_relations(self) -> None:
        for entity_batch in list(self.entities):
            self._flush_entities(entity_batch)
        self._relations_started = True
        self.on_entities_written()

    def __enter__(self) -> "BatchWriter":
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        """On success, write what is still buffered; in any case, return only once no batch is being written."""
        try:
            if error is None:
                for batch in list(self.entities):
                    self._flush_entities(batch)
                for batch in list(self.relations):
                    self._flush_relations(batch)
                self._alongside.drain()
        finally:
            self._alongside.close()

    def _flush_entities(self, batch: tuple[str, bool]) -> None:
        self._flush(entity_statement(*batch), batch[0], self.entities.pop(batch, Batch()))

    def _flush_relations(self, batch: tuple[str, bool]) -> None:
        type_name, creates = batch
        rows, statement = self.relations.pop(batch, Batch()), relation_statement(*batch)
        if creates and rows:
            self._alongside.submit(lambda: _commit(statement, type_name, rows),
                                   lambda count: self._written(type_name, count))
        else:
            self._flush(statement, type_name, rows)

    def _flush(self, statement: str, type_name: str, rows: Batch) -> None:
        if rows:
            folded = rows.folded
            self._written(type_name, _commit(statement, type_name, rows))
            self.on_written(folded)

    def _written(self, type_name: str, count: int) -> None:
        self.written[type_name] += count
        self.on_written(count)


def _commit(statement: str, type_name: str, rows: Batch) -> int:
    """Write one batch in one transaction; the rows written."""
    try:
        result = db.write_tx(lambda tx: tx.run(statement, rows=rows).single(strict=True).data())
    except ConstraintError as error:
        # An id new when validated was created by someone else (another load?) since.
        raise LoadInterrupted(f"an entity this load creates was stored meanwhile by someone else ({error.message}); "
                              "run the load again: it will merge it") from None
    written = len(rows)
    if result["written"] != written:
        raise LoadInterrupted(f"{written - result['written']} of {written} {type_name} relations found an end "
                              "missing: an entity was deleted meanwhile by someone else; run the load again")
    # The driver's transaction objects refer to the rows in reference cycles, which keep a
    # written batch alive until the next full garbage collection; the batch is done with now.
    rows.clear()
    return written


def write(rows: Iterable[Row], new_records: NewRecords, batch_size: int, first_load: bool, progress) -> Counter:
    """The incremental mode's write: every row in batches; the rows written per type.

    first_load: the database held no entity, so its search index was dropped (loaders/preparation.py)
    and is built once the entities are written. progress: a tqdm bar, counting input rows written
    (a tie given twice in a batch counts twice, though written once)."""
    built_index = ddl.create_search_index if first_load else (lambda: None)
    with progress as bar, BatchWriter(batch_size, new_records, bar.update, built_index) as batches:
        for row in rows:
            batches.add(row)
    return batches.written
