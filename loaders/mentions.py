"""Find the entities a text names: every name and alias folded as kb.keys folds them, matched in
one pass of an Aho-Corasick automaton over the text folded the same way, longest match first.

Latin names match whole words only, and not where the text writes them all in lower case unless
the name itself is (in German "essen" is a verb, Essen a city); Chinese names match exactly where
they stand (Chinese has no spaces between words). A span of text counts for one name: where a known name lies inside a
longer known name matched at the same place ("Volkswagen" in "FAW-Volkswagen"), only the longer
one counts.
"""
from __future__ import annotations

import re
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass, field

import ahocorasick
import numpy

from kb import keys


def _is_word(char: str) -> bool:
    """A letter or digit of a spaced script: a Latin name may not continue into one."""
    return char.isalnum() and not keys.CJK.match(char)


_FOLDED: dict[str, str] = {}


def _fold_char(char: str) -> str:
    """The character as kb.keys folds a name: case folded, accents dropped, a separator a space."""
    folded = _FOLDED.get(char)
    if folded is None:
        if keys.SEPARATORS.match(char):
            folded = " "
        else:
            decomposed = unicodedata.normalize("NFKD", char.casefold())
            folded = "".join(c for c in decomposed if not unicodedata.combining(c))
        _FOLDED[char] = folded
    return folded


class _FoldCache(dict):
    """Character -> its folded form, each character folded once per process."""

    def __missing__(self, char: str) -> str:
        folded = self[char] = _fold_char(char)
        return folded


_FOLD_CACHE = _FoldCache()
_EMPTY = "\x00"     # stands for a character that folds to nothing, until the runs of spaces are found


def fold(text: str) -> tuple[str, array]:
    """The text folded, and for each folded character the index of the text character it came from
    (so a match in the folded text maps back to offsets in the text). Runs of separators give one
    space, as in a folded name.

    Array operations over the code points: about four times as fast as a loop over the characters on
    a 2 MB text (the extractor reads whole articles); _fold_slowly is the same fold, character by
    character, for a text that holds a NUL or a character folding to several characters around a space."""
    parts = list(map(_FOLD_CACHE.__getitem__, text))
    if "\x00" in text or any(" " in part and part != " " for part in set(parts)):
        return _fold_slowly(text)
    lengths = numpy.fromiter(map(len, parts), dtype=numpy.int64, count=len(parts))
    empty = lengths == 0
    lengths[empty] = 1
    joined = "".join(part or _EMPTY for part in parts) if empty.any() else "".join(parts)
    points = numpy.frombuffer(joined.encode("utf-32-le"), dtype=numpy.uint32)
    origin = numpy.repeat(numpy.arange(len(text), dtype=numpy.int64), lengths)
    space = points == 32
    after_space = numpy.concatenate(([True], space[:-1]))
    keep = ~(space & after_space) & (points != 0)
    folded = points[keep].tobytes().decode("utf-32-le")
    result = array("q")
    result.frombytes(origin[keep].tobytes())
    return folded, result


def _fold_slowly(text: str) -> tuple[str, array]:
    """fold, one character at a time."""
    out: list[str] = []
    origin = array("q")     # 8 bytes a character, where a list of ints takes about 36
    last_space = True
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if folded == " ":
            if last_space:
                continue
            last_space = True
        else:
            last_space = False
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


@dataclass
class Mention:
    """Where a text names one entity: its count and (start, end) offsets into the text."""
    entity_id: str
    spans: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.spans)


class Matcher:
    """The known names of the graph, ready to be found in texts."""

    def __init__(self, entities):
        """entities: (id, name, aliases) of every entity a text may name."""
        self._automaton = ahocorasick.Automaton()
        owners: dict[str, list[str]] = {}
        self._lower_case: set[str] = set()      # keys of names written in lower case themselves
        for entity_id, name, aliases in entities:
            for spelling in (name, *(aliases or ())):
                found = keys.keys_for(spelling)
                for key in found:
                    owners.setdefault(key, []).append(entity_id)
                if spelling and spelling == spelling.lower():
                    self._lower_case.update(found)
        for key, ids in owners.items():
            self._automaton.add_word(key, (key, tuple(dict.fromkeys(ids))))
        self.names = len(owners)
        if owners:
            self._automaton.make_automaton()

    def _candidates(self, text: str, folded: str, origin: array, skip: frozenset):
        """(start, end, ids) of every whole-word occurrence of a known name in the folded text."""
        if not self.names:
            return
        last = len(folded)
        for end, (key, ids) in self._automaton.iter(folded):
            start = end - len(key) + 1
            if _is_word(key[0]) and start > 0 and _is_word(folded[start - 1]):
                continue
            if _is_word(key[-1]) and end + 1 < last and _is_word(folded[end + 1]):
                continue
            if key not in self._lower_case and text[origin[start]:origin[end] + 1].islower():
                continue
            # A skipped entity (the document itself, naming its own title) takes no span from others.
            ids = [entity_id for entity_id in ids if entity_id not in skip]
            if ids:
                yield start, end + 1, ids

    def find(self, text: str, skip: frozenset = frozenset()) -> dict[str, Mention]:
        """The entities the text names (but those in skip), by id, with their spans in the text."""
        folded, origin = fold(text)
        # Longest first: a span taken by a longer name is not counted again for a name inside it.
        candidates = sorted(self._candidates(text, folded, origin, skip), key=lambda c: (c[0] - c[1], c[0]))
        taken = bytearray(len(folded))
        found: dict[str, Mention] = {}
        for start, end, ids in candidates:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            span = (origin[start], origin[end - 1] + 1)
            for entity_id in ids:
                found.setdefault(entity_id, Mention(entity_id)).spans.append(span)
        for mention in found.values():
            mention.spans.sort()
        return found


# Candidates for the review list: two or more capitalised words in a row, perhaps joined by a
# small linking word ("Bank of China", "Stadt der Zukunft"), on one line.
_CAPITALISED = r"[A-ZÄÖÜ][\w'’&-]*"
# Not "and": "Siemens and Bosch" are two names.
_LINKING = r"(?:(?:of|for)(?:[ \t]+the)?|de|la|von|der|des|für|zu|am)"
_CANDIDATE = re.compile(rf"{_CAPITALISED}(?:[ \t]+(?:{_LINKING}[ \t]+)?{_CAPITALISED})+")
_WORD = re.compile(r"\S+")
# Capitalised only because they open a sentence or a title, not because they name something.
_OPENERS = {"the", "a", "an", "in", "on", "at", "as", "by", "for", "from", "with", "this", "that", "its", "their",
            "his", "her", "when", "while", "after", "before", "both", "but", "and", "mr", "ms", "mrs", "dr",
            "der", "die", "das", "ein", "eine", "im", "am", "auf", "aus", "bei", "mit", "nach", "vor", "wie"}


def unknown_names(text: str, mentions: dict[str, Mention]) -> Counter:
    """Capitalised multi-word names in the text that no mention covers, with how often each occurs."""
    covered = bytearray(len(text) + 1)
    for mention in mentions.values():
        for start, end in mention.spans:
            covered[start:end] = b"\x01" * (end - start)
    found: Counter = Counter()
    for match in _CANDIDATE.finditer(text):
        run: list[str] = []
        for word in _WORD.finditer(match.group()):
            start = match.start() + word.start()
            if any(covered[start:start + len(word.group())]):
                _count_run(run, found)
                run = []
            else:
                run.append(word.group().strip(".'’"))
        _count_run(run, found)
    return found


def _count_run(words: list[str], found: Counter) -> None:
    """Count the run of uncovered words as a name if, without openers and trailing links, it still
    has two capitalised words."""
    while words and (words[0].lower() in _OPENERS or not words[0][:1].isupper()):
        words = words[1:]
    while words and not words[-1][:1].isupper():
        words = words[:-1]
    if sum(1 for word in words if word[:1].isupper()) >= 2:
        found[" ".join(words)] += 1
