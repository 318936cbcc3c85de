"""Checked rows (loaders/records.py: Row) kept on disk between a load's validation pass and its write pass."""
from __future__ import annotations

import pickle
import shutil
import struct
import tempfile

from loaders.records import Row, Tie

CHUNK_ROWS = 5000
LENGTH = struct.Struct("<Q")


class Spool:
    """A temporary file that items are appended to, then read back in order, a chunk at a time.

    The validation pass leaves each checked, converted row here, so the write pass neither reads
    nor checks the input a second time (that work would compete with the server for the CPU, and
    a file edited in between would be written unchecked), while a large load still streams
    through disk instead of sitting in memory.
    """

    def __init__(self):
        self._file = tempfile.TemporaryFile(prefix="kb-load-")
        self._chunk: list = []

    def add(self, item: Row) -> None:
        self._chunk.append(item)
        if len(self._chunk) >= CHUNK_ROWS:
            self._dump()

    def flush(self) -> None:
        """Write out what is buffered (a worker process that filled this spool ends with it)."""
        self._dump()
        self._file.flush()

    def extend(self, other: "Spool") -> None:
        """Append every item of another spool, after this one's."""
        self._dump()
        other._file.seek(0)
        shutil.copyfileobj(other._file, self._file)

    def __iter__(self):
        self._dump()
        self._file.seek(0)
        # Each chunk is read whole, then unpickled from memory: pickle.load on the file itself
        # would make a read call per object.
        while header := self._file.read(LENGTH.size):
            for is_entity, type_name, data in pickle.loads(self._file.read(LENGTH.unpack(header)[0])):
                yield Row(is_entity, type_name, data if is_entity else Tie(*data))

    def _dump(self) -> None:
        if self._chunk:
            # As plain tuples: pickle stores a named tuple through a call of Python code per object,
            # six times slower (about 3.5 s of the 1M input's checking).
            plain = [(is_entity, type_name, data if is_entity else tuple(data))
                     for is_entity, type_name, data in self._chunk]
            data = pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)
            self._file.write(LENGTH.pack(len(data)) + data)
            self._chunk = []

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()
