"""Input files are UTF-8 text; for one that is not, the line where it stops being so."""
from __future__ import annotations

import codecs
from pathlib import Path

CHUNK = 1 << 20


def _line_breaks(data: bytes) -> int:
    """Line ends in data, counting CRLF, LF and a lone CR once each (as the readers do)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def not_utf8(path: Path) -> tuple[int | None, str]:
    """(line, what is wrong) for the first byte of path that is not UTF-8; read in chunks, since a
    reader's decoder fails on a whole buffer at once and cannot say on which line."""
    decoder, line = codecs.getincrementaldecoder("utf-8")(), 1
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                # error.object is what the decoder held over (never a line end) and this chunk.
                line += _line_breaks(error.object[:error.start])
                return line, f"not UTF-8 text (byte {error.object[error.start]:#04x})"
            line += _line_breaks(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line, "not UTF-8 text (it ends inside a character)"
    return None, "not UTF-8 text"
