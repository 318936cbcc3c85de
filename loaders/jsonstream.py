"""A large JSON document read a chunk at a time: the caller walks its objects and arrays and decodes
one value at a time (json.JSONDecoder.raw_decode, the standard library's C scanner), so memory holds
a chunk and the value at hand, never the whole document."""
from __future__ import annotations

import json
import re
from typing import Iterator, TextIO

CHUNK = 1 << 20                 # characters read at a time
MAX_VALUE = 64 << 20            # a single value longer than this is refused rather than buffered
_SPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_GOES_ON = re.compile(r"[0-9+\-.eE]*")     # what may follow a number cut short by a chunk's end
_DECODER = json.JSONDecoder()


class Malformed(ValueError):
    """The text is not the JSON it should be; the message says what and at which line and column."""


class Reader:
    """A cursor over JSON text from a file; positions in messages are the file's lines and columns."""

    def __init__(self, handle: TextIO, chunk: int = CHUNK):
        self.handle, self.chunk = handle, chunk
        self.buf, self.pos = "", 0
        self.eof = False
        self._lines = 0          # newlines in the text already dropped from the buffer
        self._column = 0         # characters after the last of them, dropped too

    def _more(self) -> bool:
        """Read another chunk (at least as long as what is pending, so a long value costs few retries)."""
        if self.eof:
            return False
        chunk = self.handle.read(max(self.chunk, len(self.buf) - self.pos))
        if not chunk:
            self.eof = True
            return False
        if self.pos:
            newline = self.buf.rfind("\n", 0, self.pos)
            self._lines += self.buf.count("\n", 0, self.pos)
            self._column = self.pos - newline - 1 if newline >= 0 else self._column + self.pos
            self.buf, self.pos = self.buf[self.pos:] + chunk, 0
        else:
            self.buf += chunk
        return True

    def fail(self, message: str, pos: int | None = None) -> Malformed:
        pos = self.pos if pos is None else pos
        newline = self.buf.rfind("\n", 0, pos)
        line = self._lines + self.buf.count("\n", 0, pos) + 1
        column = pos - newline if newline >= 0 else self._column + pos + 1
        return Malformed(f"line {line} column {column}: {message}")

    def peek(self) -> str:
        """The next character that is not white space, not consumed; '' at the end of the text."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.fail(message)
        self.pos += 1

    def value(self):
        """The next whole value, decoded."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as error:
                # Most likely the value goes on in the next chunk; past MAX_VALUE, or at the end, it is broken.
                if len(self.buf) - self.pos < MAX_VALUE and self._more():
                    continue
                raise self.fail(error.msg, error.pos) from None
            if (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and _NUMBER_GOES_ON.fullmatch(self.buf, end) and self._more()):
                continue                # "-4.5" of "-4.5e10" cut after its "e" decodes short
            self.pos = end
            return value

    def members(self) -> Iterator[str]:
        """The keys of an object, '{' already consumed; the caller reads each key's value before the next."""
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self.fail("expecting a property name in double quotes")
            key = self.value()
            self.expect(":", "expecting ':' delimiter")
            yield key
            following = self.peek()
            self.pos += 1
            if following == "}":
                return
            if following != ",":
                self.pos -= 1
                raise self.fail("expecting ',' delimiter or '}'")

    def elements(self) -> Iterator[None]:
        """Each element of an array, '[' already consumed; the caller reads the element at each step."""
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield
            following = self.peek()
            self.pos += 1
            if following == "]":
                return
            if following != ",":
                self.pos -= 1
                raise self.fail("expecting ',' delimiter or ']'")

    def end(self) -> None:
        """Nothing but white space may follow the document."""
        if self.peek():
            raise self.fail("extra data after the document")
