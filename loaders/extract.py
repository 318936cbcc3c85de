"""Candidate ties from a document (`kb extract`): sentences, the entities each names, and the cues of
loaders/cues.yaml that tie two of them; each candidate a relation record shaped like a seed
relation, with its evidence, the cue that fired, a confidence and the document it comes from.

The linker is loaders/mentions.py (the names of the graph, read once per run); a name in a cue's slot
that the graph lacks becomes a proposed new entity, its type guessed from the name. Nothing here
writes: loaders/review.py keeps candidates and judgements in the database.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
from pypinyin import lazy_pinyin

from kb import db, keys
from kb.errors import InvalidRecord, KBError
from kb.schema import ENTITY_LABEL, read_yaml, schema
from loaders import document
from loaders.mentions import Matcher
from loaders.records import Validator

CUES_FILE = Path(__file__).with_name("cues.yaml")
SLOTS = re.compile(r"\{(from|to|a|b)\}")
CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{CJK_CHAR}]")
# What a gap between a cue and its slot's entity counts: Latin words and Chinese characters.
UNITS = re.compile(rf"[{CJK_CHAR}]|[^\W{CJK_CHAR}]+")
ID_PREFIX = {"Company": "firm", "City": "city", "Organization": "org", "Person": "person", "Region": "region"}
# How much less a candidate is trusted when an end is a name the graph lacks, or a name of two entities.
NEW_NAME_PENALTY = 0.15
AMBIGUOUS_PENALTY = 0.1
SYMMETRIC_SLOTS = ("a", "b")
CLAUSE_END = re.compile(r"[;；，：]")
# The types a name of two words or more without a clue may have: the slot decides.
UNCLUED = ("Company", "Organization", "Person")
PLACES = frozenset({"City", "Region", "Country"})


class CueError(KBError):
    """The cue file is broken; the message names the relation, language and pattern at fault."""


class BadDocument(KBError):
    """A document cannot be read for extraction (not text, empty, language unknown); the message names the file."""


# ---------------------------------------------------------------------------------------------- cues

@dataclass(frozen=True)
class Pattern:
    relation: str
    language: str
    text: str
    first: str                  # the slot standing first: from, to, a or b
    second: str
    middle: re.Pattern | None   # the anchor between the slots, or None
    before: re.Pattern | None   # words before the first slot
    after: re.Pattern | None    # words after the second slot (the anchor when there is no middle)
    confidence: float
    sets: dict
    reach: int
    keywords: tuple | None = None   # the words the anchor starts with, for the keyword index

    @property
    def anchor(self) -> re.Pattern:
        return self.middle or self.after or self.before


@dataclass(frozen=True)
class Language:
    code: str
    reach: int
    gap: int
    spaced: bool                # words separated by spaces (not Chinese)
    stopwords: frozenset
    conjunction: re.Pattern
    abbreviations: frozenset
    months: dict
    openers: frozenset
    name_stops: tuple
    status: tuple               # (value, regex) in order of precedence
    relative_years: tuple       # (years later, regex) of words that date a sentence by the date before it


@dataclass(frozen=True, eq=False)
class Cues:
    languages: dict
    patterns: dict              # language -> [Pattern], in the file's order of types
    anywhere: dict              # relation -> regex
    types: dict                 # relation -> {"from": set, "to": set}
    order: tuple                # relation types, the first winning a pair stated twice
    yields: frozenset
    name_types: tuple               # (type, [name regex], [before regex])
    dated_by_sentence: frozenset    # types whose fact takes the sentence's date when none stands near
    anywhere_words: dict = field(default_factory=dict)  # relation -> the words its anywhere cues start with


def _balanced_group(token: str) -> bool:
    """Whether the token is one parenthesised group followed by '?' (an optional word)."""
    if not (token.startswith("(") and token.endswith(")?")):
        return False
    depth = 0
    for index, char in enumerate(token[:-1]):
        depth += {"(": 1, ")": -1}.get(char, 0) if index == 0 or token[index - 1] != "\\" else 0
        if depth == 0 and index < len(token) - 2:
            return False
    return depth == 0


def _tokens(text: str) -> list[str]:
    """The words of a pattern part: split on spaces outside parentheses."""
    tokens, depth, current = [], 0, ""
    for char in text:
        if char == " " and depth == 0:
            if current:
                tokens.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current:
        tokens.append(current)
    return tokens


def _word(token: str, spaced: bool) -> str:
    """A token as a regex; in a spaced language, whole words where it starts or ends with a letter."""
    body = token.replace(" ", r"\s+")
    if not spaced:
        return f"(?:{body})"
    bare = token.lstrip("(?:")
    start = r"(?<!\w)" if (bare[:1].isalpha() and not CJK.match(bare[:1])) or bare.startswith("\\w") else ""
    tail = token.rstrip(")?*+")
    end = r"(?!\w)" if tail[-1:].isalpha() and not CJK.match(tail[-1:]) else ""
    return f"{start}(?:{body}){end}"


def _part(text: str, language: Language) -> re.Pattern | None:
    """One literal part of a pattern compiled: its words in order, up to `gap` other words between."""
    tokens = _tokens(text.strip())
    if not tokens:
        return None
    fill = rf"(?:[\W_]+\w+){{0,{language.gap}}}?[\W_]*" if language.spaced else f".{{0,{language.gap}}}?"
    mandatory = [i for i, token in enumerate(tokens) if not _balanced_group(token)]
    if not mandatory:
        raise ValueError("every word of the part is optional")
    regex = ""
    # Optional words before the first required one are left out: the slot's reach covers them, and a
    # part that starts with a required word is found fast (loaders/extract.py _anchors).
    for index, token in enumerate(tokens[mandatory[0]:], mandatory[0]):
        word = _word(token[:-1] if _balanced_group(token) else token, language.spaced)
        if index == mandatory[0]:
            regex += word
        elif _balanced_group(token):
            regex += f"(?:{fill}{word})?"
        else:
            regex += fill + word
    return re.compile(regex, re.IGNORECASE)


_LITERAL = re.compile(r"^[^\s\\()\[\]{}|?*+.^$][^\\()\[\]{}|?*+^$]*$")
_OPTIONAL_START = re.compile(r"^(?:\((?:[^()\\]|\\.)*\)\?|[^\\()]\?)")


def _keywords(text: str) -> tuple | None:
    """The first words, in lower case, that a part can start with, if its first required word is plain
    text or a choice of plain texts; None when it is a regex of another kind (found by a full search)."""
    tokens = [t for t in _tokens(text.strip()) if not _balanced_group(t)]
    if not tokens:
        return None
    first = tokens[0]
    while _OPTIONAL_START.match(first) and _OPTIONAL_START.match(first).end() < len(first):
        first = first[_OPTIONAL_START.match(first).end():]     # "(mit )?(Sitz|...)", "-?based": the word after
    if first.startswith("(") and first.endswith(")") and first.count("(") == 1:
        first = first[1:-1]
    choices = first.split("|")
    if not all(_LITERAL.match(choice) for choice in choices):
        return None
    return tuple(sorted({choice.split()[0].lower() if " " in choice else choice.lower() for choice in choices}))


def _pattern(relation: str, language: Language, spec, default_confidence: float) -> Pattern:
    if isinstance(spec, str):
        spec = {"pattern": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("pattern"), str):
        raise ValueError("a pattern is a text or a mapping with `pattern:`")
    text = spec["pattern"]
    parts = SLOTS.split(text)
    if len(parts) != 5:
        raise ValueError("a pattern names exactly two slots")
    before, first, middle, second, after = parts
    if {first, second} not in ({"from", "to"}, {"a", "b"}):
        raise ValueError("the slots are {from} and {to}, or {a} and {b} for a symmetric type")
    unknown = set(spec) - {"pattern", "set", "confidence", "reach"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    compiled = [_part(part, language) for part in (before, middle, after)]
    if compiled == [None, None, None]:
        raise ValueError("a pattern needs words before, between or after its slots")
    anchor_text = middle if compiled[1] is not None else after if compiled[2] is not None else before
    return Pattern(relation, language.code, text, first, second, compiled[1], compiled[0], compiled[2],
                   float(spec.get("confidence", default_confidence)), dict(spec.get("set") or {}),
                   int(spec.get("reach", language.reach)), _keywords(anchor_text))


def _language(code: str, spec: dict) -> Language:
    spaced = code != "zh"
    conjunctions = "|".join(re.escape(c) for c in sorted(spec.get("conjunctions") or [], key=len, reverse=True))
    status = tuple((value, re.compile("|".join(_word(w, spaced) for w in words), re.IGNORECASE))
                   for value, words in (spec.get("status") or {}).items())
    return Language(code, int(spec.get("reach", 12)), int(spec.get("gap", 2)), spaced,
                    frozenset(spec.get("stopwords") or ()),
                    re.compile(rf"^\s*(?:{conjunctions})\s*$", re.IGNORECASE) if conjunctions else re.compile("(?!)"),
                    frozenset(spec.get("abbreviations") or ()),
                    {k.casefold(): int(v) for k, v in (spec.get("months") or {}).items()},
                    frozenset(spec.get("name_openers") or ()), tuple(spec.get("name_stops") or ()), status,
                    tuple((later, re.compile("|".join(_word(w, spaced) for w in words), re.IGNORECASE))
                          for later, words in ((0, spec.get("same_time")), (1, spec.get("year_later"))) if words))


def parse_cues(data: dict, where: str = str(CUES_FILE)) -> Cues:
    """Cues from the parsed cue file, checked against the schema; CueError names the part at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("languages"), dict) \
            or not isinstance(data.get("relations"), dict):
        raise CueError(f"{where}: a cue file has `languages:` and `relations:` mappings")
    languages = {code: _language(code, spec or {}) for code, spec in data["languages"].items()}
    patterns = {code: [] for code in languages}
    anywhere, types, yields, dated, anywhere_words = {}, {}, set(), set(), {}
    for relation, spec in data["relations"].items():
        try:
            relation_type = schema().relation(relation)
        except KBError as error:
            raise CueError(f"{where}, relations.{relation}: {error}") from None
        spec = spec or {}
        ends = spec.get("types") or {}
        types[relation] = {end: set(ends.get(end) or allowed) for end, allowed in
                           (("from", relation_type.sources), ("to", relation_type.targets))}
        for end in ("from", "to"):
            allowed = relation_type.sources if end == "from" else relation_type.targets
            if not types[relation][end] <= allowed:
                raise CueError(f"{where}, relations.{relation}.types.{end}: {sorted(types[relation][end] - allowed)} "
                               f"not allowed by the schema ({', '.join(sorted(allowed))})")
        if spec.get("yields"):
            yields.add(relation)
        if spec.get("dated", "near") not in ("near", "sentence"):
            raise CueError(f"{where}, relations.{relation}.dated: near or sentence, not {spec['dated']!r}")
        if spec.get("dated") == "sentence":
            dated.add(relation)
        if spec.get("anywhere"):
            if not relation_type.symmetric:
                raise CueError(f"{where}, relations.{relation}.anywhere: only for a symmetric type")
            anywhere[relation] = re.compile("|".join(_word(w, True) for w in spec["anywhere"]), re.IGNORECASE)
            words = [re.match(r"[^\W\d_]*", str(w)).group().lower() for w in spec["anywhere"]]
            if "" in words:
                raise CueError(f"{where}, relations.{relation}.anywhere: {spec['anywhere'][words.index('')]!r} "
                               "must start with a letter")
            anywhere_words[relation] = tuple(sorted(set(words)))
        required = set(relation_type.required) - {"sources"}
        for code, items in spec.items():
            if code in ("confidence", "types", "yields", "anywhere", "dated"):
                continue
            if code not in languages:
                raise CueError(f"{where}, relations.{relation}.{code}: not a language of `languages:` "
                               f"({', '.join(languages)})")
            for number, item in enumerate(items or [], 1):
                try:
                    pattern = _pattern(relation, languages[code], item, float(spec.get("confidence", 0.7)))
                    if relation_type.symmetric != (pattern.first in SYMMETRIC_SLOTS):
                        raise ValueError("a symmetric type's slots are {a} and {b}, another's {from} and {to}")
                    if required - set(pattern.sets):
                        raise ValueError(f"must set {', '.join(sorted(required - set(pattern.sets)))} (required by "
                                         "the schema)")
                except (ValueError, re.error) as error:
                    raise CueError(f"{where}, relations.{relation}.{code} pattern {number}: {error}") from None
                patterns[code].append(pattern)
    name_types = tuple((name, [re.compile(r) for r in (spec or {}).get("name") or ()],
                        [re.compile(r, re.IGNORECASE) for r in (spec or {}).get("before") or ()])
                       for name, spec in (data.get("name_types") or {}).items())
    return Cues(languages, patterns, anywhere, types, tuple(data["relations"]), frozenset(yields), name_types,
                frozenset(dated), anywhere_words)


@functools.lru_cache(maxsize=1)
def cues() -> Cues:
    """The project's cues, read once per process."""
    return parse_cues(read_yaml(CUES_FILE, CueError))


# ----------------------------------------------------------------------------------------- sentences

_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|[。！？；]+[”’」』）)]*|\n[ \t]*\n|\n(?=[ \t]*#)|\n(?=[ \t]*[-*] )")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]+[\"'”’)\]]*$")


def sentences(text: str, start: int, end: int, language: Language) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end]: Latin full stops unless they close an
    abbreviation, an initial or (German) an ordinal number; Chinese stops always; blank lines,
    headings and list items."""
    found, begin = [], start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.end()
        mark = match.group()
        if mark[0] in ".!?…" and mark[0] == "." and not _ends_sentence(text, begin, match, language):
            continue
        found.append((begin, stop))
        begin = stop
    found.append((begin, end))
    result = []
    for s, e in found:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            result.append((s, e))
    return result


def _ends_sentence(text: str, begin: int, match: re.Match, language: Language) -> bool:
    """Whether the full stop of match ends a sentence."""
    before = _WORD_BEFORE.search(text, max(begin, match.start() - 40), match.end())
    word = before.group(1).rstrip(".") if before else ""
    last = word.rsplit(".", 1)[-1]
    if word in language.abbreviations or last in language.abbreviations or (len(last) == 1 and last.isalpha()):
        return False
    following = text[match.end():match.end() + 30].lstrip()
    if not following:
        return True
    if language.code == "de" and last.isdigit() and len(last) <= 2:
        return False            # "am 3. Mai"
    first = following[0]
    return first.isupper() or first.isdigit() or first in "\"'“‘(#*-" or bool(CJK.match(first))


def detect_language(text: str, given: str | None, where: str) -> Language:
    """The document's language: its front matter's, or a guess from the text (Chinese characters,
    else the commoner stopwords); BadDocument for a language the cues do not know."""
    languages = cues().languages
    if given:
        if given not in languages:
            raise BadDocument(f"{where}: language {given!r} has no cues (known: {', '.join(languages)}); "
                              "see loaders/cues.yaml")
        return languages[given]
    sample = text[:20000]
    if len(CJK.findall(sample)) > 0.2 * max(1, len(re.sub(r"\s", "", sample))):
        return languages["zh"]
    words = re.findall(r"[^\W\d_]+", sample.casefold())
    scores = {code: sum(1 for w in words if w in lang.stopwords) for code, lang in languages.items() if lang.spaced}
    best = max(scores, key=scores.get) if scores else None
    if best is None or scores[best] == 0:
        raise BadDocument(f"{where}: cannot tell the language (none of {', '.join(languages)}); "
                          "give `language:` in the front matter")
    return languages[best]


# ------------------------------------------------------------------------------------------ entities

@dataclass
class Span:
    """A name in the text: a known entity (ids of it, several when a name is ambiguous) or a new one."""
    start: int
    end: int
    ids: tuple
    types: tuple                # the type of each id
    name: str
    new: bool = False
    guessed: tuple = ()         # for a new name: the types its name suggests, best first

    def choose(self, allowed: set) -> tuple[str, str, bool] | None:
        """(id, type, ambiguous) of the entity this span names among the allowed types, or None."""
        if self.new:
            for type_name in self.guessed:
                if type_name in allowed:
                    return new_entity_id(type_name, self.name), type_name, False
            return None
        fitting = [(i, t) for i, t in zip(self.ids, self.types) if t in allowed]
        if not fitting:
            return None
        return fitting[0][0], fitting[0][1], len(fitting) > 1


def new_entity_id(type_name: str, name: str) -> str:
    """The id proposed for a new entity: its type's prefix and its name folded (pinyin for Chinese)."""
    text = " ".join(lazy_pinyin(name)) if CJK.search(name) else name
    slug = re.sub(r"[^a-z0-9]+", "-", keys.strip_accents(text).casefold()).strip("-")
    return f"{ID_PREFIX.get(type_name, type_name.lower())}-{slug or hashlib.sha1(name.encode()).hexdigest()[:10]}"


@dataclass
class Linker:
    """The graph's names, ready to be found, and each entity's type and name."""
    matcher: Matcher
    types: dict
    names: dict

    @classmethod
    def from_database(cls) -> "Linker":
        return cls.of(db.read(KNOWN_ENTITIES_QUERY))

    @classmethod
    def of(cls, rows) -> "Linker":
        """A linker over entity rows (mappings with id, name, aliases and type)."""
        rows = list(rows)
        return cls(Matcher((r["id"], r["name"], r.get("aliases")) for r in rows),
                   {r["id"]: r["type"] for r in rows}, {r["id"]: r["name"] for r in rows})

    def spans(self, text: str) -> list[Span]:
        """Every known name in the text, in order, each span once with all the entities it may name."""
        by_span: dict = {}
        for entity_id, mention in self.matcher.find(text).items():
            for start, end in mention.spans:
                by_span.setdefault((start, end), []).append(entity_id)
        found = []
        for (start, end), ids in sorted(by_span.items()):
            name = text[start:end]
            if len(ids) > 1:
                # The entity whose own name this is comes first ("Daimler": Daimler, then Mercedes-Benz Group).
                folded = set(keys.keys_for(name))
                ids.sort(key=lambda i: (not set(keys.keys_for(self.names[i])) & folded, i))
            found.append(Span(start, end, tuple(ids), tuple(self.types[i] for i in ids), name))
        return found


def known_entities_query() -> str:
    """Cypher: id, name, aliases and type of every entity a tie can join (not Sources, not Documents)."""
    left_out = [schema().entity(name).name for name in ("Source", "Document")]
    return (f"MATCH (e:{ENTITY_LABEL}) WHERE NOT any(l IN labels(e) WHERE l IN {left_out!r}) "
            f"RETURN e.id AS id, e.name AS name, e.aliases AS aliases, "
            f"[l IN labels(e) WHERE l <> '{ENTITY_LABEL}'][0] AS type")


KNOWN_ENTITIES_QUERY = known_entities_query()

_LATIN_NAME = re.compile(r"[A-ZÄÖÜ][\w&'’.-]*(?:[ \t]+(?:(?:of|for|de|&|und|für)[ \t]+)?[A-ZÄÖÜ0-9][\w&'’.-]*)*")
_LATIN_WORD = re.compile(r"\S+")


@functools.lru_cache(maxsize=4)
def _any_clue(c: Cues) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """One regex of every name clue, one of every clue before a name (most capitalised words have none),
    and one of the name clues anywhere in a text (a sentence without any holds no new name with one)."""
    names = [r.pattern for _, found, _ in c.name_types for r in found]
    befores = [r.pattern for _, _, found in c.name_types for r in found]
    anywhere = [n.rstrip("$") for n in names] + [f"(?i:{b.rstrip('$')})" for b in befores]
    return (re.compile("|".join(names) or "(?!)"), re.compile("|".join(befores) or "(?!)", re.IGNORECASE),
            re.compile("|".join(anywhere) or "(?!)"))


def _guess(name: str, before: str, c: Cues, spaced: bool) -> tuple:
    """The types a new name's own words (or the words before it) suggest, best first; for a name of two
    words or more without a clue, every type (the slot decides), Person last."""
    clue_in_name, clue_before, _ = _any_clue(c)
    if not clue_in_name.search(name) and not clue_before.search(before):
        return UNCLUED if spaced and " " in name.strip() else ()
    found = [type_name for type_name, names, befores in c.name_types
             if any(r.search(name) for r in names) or any(r.search(before) for r in befores)]
    if found:
        return tuple(found)
    if spaced and len(name.split()) >= 2:
        return UNCLUED
    return ()


def _unclued_types(language: Language) -> tuple:
    """The types a name without a clue may have in the language (German capitalises every noun: there,
    two capitalised words without a clue can only be a person's name)."""
    return () if not language.spaced else ("Person",) if language.code == "de" else UNCLUED


def new_names(text: str, start: int, end: int, known: list[Span], language: Language,
              wanted: frozenset = frozenset(UNCLUED)) -> list[Span]:
    """Names in text[start:end] that no known span covers and that look like names of firms, places,
    organisations or people (capitalised words with a clue; Chinese names ending in 集团, 公司, 市 ...).
    wanted: the types the sentence's slots take; without a clue in the sentence nor a slot that a name
    without one may fill, there is nothing to look for."""
    c = cues()
    if not wanted & set(_unclued_types(language)) and not _any_clue(c)[2].search(text, start, end):
        return []
    covered = bytearray(end - start)
    for span in known:
        covered[span.start - start:span.end - start] = b"\x01" * (span.end - span.start)
    found = []
    if language.spaced:
        for match in _LATIN_NAME.finditer(text, start, end):
            words = [(w.start() + match.start(), w.end() + match.start(), w.group().rstrip(".,'’"))
                     for w in _LATIN_WORD.finditer(match.group())]
            whole = _latin_span(text, words, language, c)
            inside = [k for k in known if whole and whole[0].start <= k.start and k.end <= whole[0].end]
            if whole and whole[0].guessed != UNCLUED and whole[0].guessed[0] in ("Company", "Organization") \
                    and inside and all(set(k.types) <= PLACES and k.end < whole[0].end for k in inside):
                # "Wuhan Laser Systems GmbH": a firm's name that holds a known place's is the firm's.
                found.extend(whole)
                continue
            run: list = []
            for word in words + [None]:
                if word is None or any(covered[word[0] - start:word[1] - start]):
                    found.extend(_latin_span(text, run, language, c))
                    run = []
                else:
                    run.append(word)
        return found
    suffixes = re.compile("|".join(r.pattern.rstrip("$") for _, names, _ in c.name_types for r in names
                                   if CJK.search(r.pattern)))
    for match in suffixes.finditer(text, start, end):
        stop = match.end()
        if any(covered[match.start() - start:stop - start]):
            continue
        begin = match.start()
        while begin > start and CJK.match(text[begin - 1]) and not covered[begin - 1 - start] and stop - begin < 12 \
                and not any(text.startswith(s, begin - len(s)) for s in language.name_stops):
            begin -= 1
        for opener in sorted(language.openers, key=len, reverse=True):
            if text.startswith(opener, begin) and stop - begin > len(opener) + 1:
                begin += len(opener)
                break
        if stop - begin >= match.end() - match.start() + 2:
            name = text[begin:stop]
            found.append(Span(begin, stop, (), (), name, True, _guess(name, "", c, False)))
    return found


def _latin_span(text: str, run: list, language: Language, c: Cues) -> list[Span]:
    # Not names: words that open a sentence, months ("June 2018") and the numbers after them.
    while run and (run[0][2] in language.openers or run[0][2].lower() in language.stopwords
                   or run[0][2].casefold() in language.months or run[0][2].isdigit()):
        run = run[1:]
    while run and not run[-1][2][:1].isupper():
        run = run[:-1]
    if not run:
        return []
    begin, stop = run[0][0], run[-1][1]
    name = text[begin:stop].rstrip(".,'’")
    stop = begin + len(name)
    guessed = _guess(name, text[max(0, begin - 30):begin], c, True)
    # German capitalises every noun: there, a name needs a clue of its own.
    if guessed == UNCLUED:
        guessed = _unclued_types(language)
    if not guessed:
        return []
    return [Span(begin, stop, (), (), name, True, guessed)]


# ---------------------------------------------------------------------------------------- properties

_YEAR = r"(?:19|20)\d{2}"
_ISO = re.compile(rf"(?<!\d)({_YEAR})-(\d{{2}})(?:-(\d{{2}}))?(?!\d)")
_ZH_DATE = re.compile(rf"({_YEAR})\s*年(?:\s*(\d{{1,2}})\s*月(?:\s*(\d{{1,2}})\s*日)?)?")
_PLAIN_YEAR = re.compile(rf"(?<![\d.,$€])({_YEAR})(?![\d%]|\s*(?:%|percent|per cent|Prozent))")
_FOUNDING = re.compile(r"(founded|established|set up|gegründet|Gründung|成立于|创立于|创建于|始建于)\D{0,12}$", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d+)?)\s?(?:%|％|percent\b|per cent\b|pc\b|Prozent\b)", re.IGNORECASE)
_MONEY = [
    (re.compile(r"(?:US)?\$\s?(\d+(?:[.,]\d+)?)\s*(billion|bn|million|mn|m)\b", re.IGNORECASE), None),
    (re.compile(r"(\d+(?:[.,]\d+)?)\s*(billion|million)\s+(?:US\s+|U\.S\.\s+)?dollars", re.IGNORECASE), None),
    (re.compile(r"(\d+(?:[.,]\d+)?)\s*(Milliarden|Mrd\.|Millionen|Mio\.)\s+(?:US-)?Dollar", re.IGNORECASE), None),
    (re.compile(r"(\d+(?:\.\d+)?)\s*(亿|万)美元"), None),
]
_SCALE = {"billion": 1000, "bn": 1000, "milliarden": 1000, "mrd.": 1000, "million": 1, "mn": 1, "m": 1,
          "millionen": 1, "mio.": 1, "亿": 100, "万": 0.01}


@functools.lru_cache(maxsize=None)
def _month_date(months: tuple) -> re.Pattern:
    """A date written with a month's name in the language: "3 June 2016", "June 3, 2016", "3. Juni 2016"."""
    names = "|".join(sorted(map(re.escape, months), key=len, reverse=True))
    return re.compile(rf"(?:(\d{{1,2}})\.?\s+)?({names})\s+(?:(\d{{1,2}}),?\s+)?({_YEAR})", re.IGNORECASE)


def _dates(sentence: str, language: Language) -> list[tuple[int, str]]:
    """(offset, ISO date at the precision given) of each date in the sentence, founding dates left out."""
    return _dates_in(sentence, language.code)


# A sentence stating several ties is read for its dates once.
@functools.lru_cache(maxsize=1024)
def _dates_in(sentence: str, code: str) -> list[tuple[int, str]]:
    language = cues().languages[code]
    found, taken = [], set()

    def add(position: int, value: str, end: int) -> None:
        if not _FOUNDING.search(sentence[max(0, position - 30):position]):
            found.append((position, value))
        taken.update(range(position, end))

    for match in _ISO.finditer(sentence):
        add(match.start(), match.group(0), match.end())
    for match in _ZH_DATE.finditer(sentence):
        if match.start() not in taken:
            year, month, day = match.groups()
            add(match.start(), year + (f"-{int(month):02d}" if month else "") + (f"-{int(day):02d}" if day else ""),
                match.end())
    if language.months:
        for match in _month_date(tuple(language.months)).finditer(sentence):
            if match.start() in taken:
                continue
            day = match.group(1) or match.group(3)
            month = language.months[match.group(2).casefold()]
            add(match.start(), f"{match.group(4)}-{month:02d}" + (f"-{int(day):02d}" if day else ""), match.end())
    for match in _PLAIN_YEAR.finditer(sentence):
        if match.start() not in taken:
            add(match.start(), match.group(1), match.end())
    return sorted(found)


def _near(sentence: str, position: int, extent: tuple[int, int], window: int) -> bool:
    """Whether position lies within the fact's extent (its two names and the cue) or window words of it."""
    low, high = extent
    if _units(sentence[:position]) <= 2:
        return True             # "In 2018, ...", "2016年，...": a date that opens the sentence frames it all
    if position < low:
        return _units(sentence[position:low]) <= window
    return position <= high or _units(sentence[high:position]) <= window


def _closest(found: list, anchor: int, extent: tuple[int, int], window: int, sentence: str):
    """Of (position, value) pairs near the fact, the first after the cue, else the last before it."""
    near = [(position, value) for position, value in found if _near(sentence, position, extent, window)]
    after = [value for position, value in near if position >= anchor]
    if after:
        return after[0]
    return near[-1][1] if near else None


def since_of(sentence: str, anchor: int, extent: tuple[int, int], language: Language,
             whole_sentence: bool = False) -> str | None:
    """The date a sentence gives its fact: near the fact, the first after the cue, else the last before it;
    with whole_sentence, failing that, the date of the sentence nearest the cue."""
    dates = _dates(sentence, language)
    found = _closest(dates, anchor, extent, language.reach // 2, sentence)
    if found is None and whole_sentence and dates:
        found = min(dates, key=lambda d: abs(d[0] - anchor))[1]
    return found


def relative_since(text: str, s_start: int, s_end: int, language: Language, earliest: int) -> str | None:
    """The year a sentence gives by reference to the date before it ("the same year", "a year later",
    "同年"): the last date of the text before the sentence, plus the years said."""
    for later, regex in language.relative_years:
        if regex.search(text, s_start, s_end):
            before = _dates(text[max(earliest, s_start - 1500):s_start], language)
            if before:
                return str(int(before[-1][1][:4]) + later) if later else before[-1][1][:4]
    return None


def share_of(sentence: str, anchor: int, extent: tuple[int, int], language: Language) -> float | None:
    """A share stated as a percentage near the fact, 0 to 1."""
    values = [(m.start(), float(m.group(1).replace(",", "."))) for m in _PERCENT.finditer(sentence)]
    chosen = _closest([(p, v) for p, v in values if 0 < v <= 100], anchor, extent, language.reach // 2, sentence)
    return round(chosen / 100, 6) if chosen is not None else None


def value_of(sentence: str) -> float | None:
    """A deal's value in millions of US dollars, where the sentence gives one in dollars."""
    for regex, _ in _MONEY:
        match = regex.search(sentence)
        if match:
            return round(float(match.group(1).replace(",", ".")) * _SCALE[match.group(2).casefold()], 3)
    return None


def status_of(sentence: str, relation: str, language: Language) -> str | None:
    """The first status (in the cue file's order) whose words the sentence has and the type allows."""
    prop = schema().relation(relation).properties.get("status")
    if prop is None:
        return None
    return next((value for value in _statuses(sentence, language.code) if value in prop.values), None)


@functools.lru_cache(maxsize=1024)
def _statuses(sentence: str, code: str) -> tuple:
    """Every status whose words the sentence has, in the cue file's order."""
    return tuple(value for value, regex in cues().languages[code].status if regex.search(sentence))


# -------------------------------------------------------------------------------------------- matching

@dataclass
class Candidate:
    """A proposed tie: a relation record shaped like a seed relation, and where it comes from."""
    type: str
    start: str
    end: str
    props: dict
    evidence: dict              # sentence, start, end (offsets into the file's text)
    confidence: float
    cue: str
    document: str
    names: dict                 # from / to -> the name as the text writes it
    proposed: list = field(default_factory=list)   # new entities: {id, type, name}

    @property
    def identity(self) -> tuple:
        ends = (self.start, self.end)
        if schema().relation(self.type).symmetric:
            ends = tuple(sorted(ends))
        return (self.type, *ends)

    def as_record(self) -> dict:
        """The candidate as `--format json` prints it."""
        return {"type": self.type, "from": self.start, "to": self.end, **self.props,
                "evidence": self.evidence, "confidence": self.confidence, "cue": self.cue,
                "document": self.document, "names": self.names, "proposed": self.proposed}


def _units(text: str) -> int:
    return len(UNITS.findall(text))


def _nearest(spans: list[Span], position: int, allowed: set, reach: int, text: str, leftwards: bool,
             language: Language):
    """The spans of the entity nearest to position on one side whose type the slot allows, with those
    joined to it by a conjunction, each as (span, (id, type, ambiguous)); [] if none within reach."""
    ordered = [s for s in spans if (s.end <= position if leftwards else s.start >= position)]
    if leftwards:
        ordered.reverse()
    for index, span in enumerate(ordered):
        gap = text[span.end:position] if leftwards else text[position:span.start]
        if _units(gap) > reach:
            return []
        chosen = span.choose(allowed)
        if chosen is None:
            continue
        if not leftwards and language.spaced and text.startswith(("'s ", "’s "), span.end):
            return []           # "Nanjing's neighbour province": the name qualifies the word after it
        if leftwards and gap.rstrip().endswith((",", "，")) and ordered[-1] is not span:
            # "..., 总部位于长春": a clause without a subject of its own is about the sentence's topic.
            topic = next(((s, c) for s in reversed(ordered) if (c := s.choose(allowed))), None)
            if topic is not None:
                return [topic]
        if leftwards and gap.lstrip().startswith(","):
            # "X, the joint venture of A and B, builds ...": the subject stands before the apposition.
            subject = _subject_before_apposition(ordered[index + 1:], text, allowed)
            if subject is not None:
                return [subject]
        found, last = [(span, chosen)], span
        for other in ordered[index + 1:]:
            between = text[other.end:last.start] if leftwards else text[last.end:other.start]
            more = other.choose(allowed)
            if more is None or not language.conjunction.match(between):
                break
            found.append((other, more))
            last = other
        return found
    return []


def _subject_before_apposition(earlier: list[Span], text: str, allowed: set):
    """The first name of the sentence, if a comma follows it and its type fits: the subject of a
    sentence whose verb follows an apposition; None otherwise."""
    if not earlier:
        return None
    first = earlier[-1]
    chosen = first.choose(allowed)
    if chosen is None or not text[first.end:first.end + 2].lstrip(" ").startswith(","):
        return None
    return first, chosen


def _bind(pattern: Pattern, anchor: re.Match, spans, text, types, language, sentence_end: int):
    """The (first slot, second slot) fillers of a pattern around its anchor, or None."""
    first_types = types[_end(pattern.first)]
    second_types = types[_end(pattern.second)]
    if pattern.middle is not None:
        firsts = _nearest(spans, anchor.start(), first_types, pattern.reach, text, True, language)
        seconds = _nearest(spans, anchor.end(), second_types, pattern.reach, text, False, language)
        if not firsts or not seconds:
            return None
        if pattern.after is not None:
            last = max(s.end for s, _ in seconds)
            # The last part stands in the second name's clause ("总部位于X，其在Y的工厂": not X's plant).
            clause = CLAUSE_END.search(text, last, sentence_end)
            if not _within(pattern.after, text, last, clause.start() if clause else sentence_end,
                           language.reach // 2):
                return None
    elif pattern.after is not None:
        # No middle: both slots stand before the last part ("一汽-大众佛山工厂", "... Wilbert übernommen hatte").
        seconds = _nearest(spans, anchor.start(), second_types, language.gap, text, True, language)[:1]
        if not seconds:
            return None
        firsts = _nearest(spans, seconds[0][0].start, first_types, pattern.reach, text, True, language)[:1]
        if not firsts:
            return None
    else:
        # Only words before the slots: a verb before its subject ("2012 übernahm Sany Putzmeister"),
        # so no entity of the first slot's types may stand before it in its clause.
        clause = max(text.rfind(mark, 0, anchor.start()) for mark in ",;:，；：")
        if any(s.choose(first_types) for s in spans if clause < s.start and s.end <= anchor.start()):
            return None
        firsts = _nearest(spans, anchor.end(), first_types, pattern.reach, text, False, language)[:1]
        if not firsts:
            return None
        seconds = _nearest(spans, firsts[0][0].end, second_types, pattern.reach, text, False, language)
        if not seconds:
            return None
        return firsts, seconds
    if pattern.before is not None:
        head = min(s.start for s, _ in firsts)
        window = text[max(0, head - 60):head]
        if not any(m.end() >= len(window) - 3 or _units(window[m.end():]) <= language.gap
                   for m in pattern.before.finditer(window)):
            return None
    return firsts, seconds


def _inside_name(anchor: re.Match, spans: list[Span]) -> bool:
    """Whether a cue's words lie in a name ("的" in 美的): no cue there."""
    return any(s.start < anchor.end() and anchor.start() < s.end for s in spans)


def _within(regex: re.Pattern, text: str, position: int, end: int, reach: int) -> bool:
    """Whether regex matches in text[position:end] at most reach words after position."""
    match = regex.search(text, position, end)
    return match is not None and _units(text[position:match.start()]) <= reach


def _end(slot: str) -> str:
    return {"a": "from", "b": "to"}.get(slot, slot)


@functools.lru_cache(maxsize=None)
def _keyword_index(code: str):
    """The language's patterns by the words their anchors start with, in one Aho-Corasick automaton,
    and the patterns whose anchors start otherwise."""
    automaton, by_word, others = ahocorasick.Automaton(), {}, []
    for pattern in cues().patterns.get(code, []):
        if pattern.keywords is None:
            others.append(pattern)
        for word in pattern.keywords or ():
            by_word.setdefault(word, []).append(pattern)
    for word, patterns in by_word.items():
        automaton.add_word(word, (len(word), tuple(patterns)))
    if by_word:
        automaton.make_automaton()
    return (automaton if by_word else None), tuple(others)


def _anchors(text: str, start: int, end: int, code: str) -> list[tuple]:
    """(start, pattern, anchor) of every anchor of the language's patterns in text[start:end], in text
    order: one pass of a keyword automaton over the text, each hit tried by the patterns it may start
    (a regex per pattern over the whole text would cost ten times as much)."""
    automaton, others = _keyword_index(code)
    lowered = text.lower()
    if len(lowered) != len(text):       # a character whose lower case is longer: no offsets to share
        automaton, others = None, tuple(cues().patterns.get(code, []))
    found = []
    if automaton is not None:
        tried = set()
        for last, (length, patterns) in automaton.iter(lowered, start, end):
            position = last - length + 1
            for pattern in patterns:
                if (position, id(pattern)) in tried:
                    continue
                tried.add((position, id(pattern)))
                match = pattern.anchor.match(text, position, end)
                if match and match.end() > match.start():
                    found.append((position, pattern, match))
    for pattern in others:
        found.extend((m.start(), pattern, m) for m in pattern.anchor.finditer(text, start, end) if m.end() > m.start())
    found.sort(key=lambda item: item[0])
    return found


def _anywhere_cues(text: str, start: int, c: Cues) -> dict:
    """Relation -> the sorted offsets of its anywhere cues in text[start:], found by their first words."""
    automaton = ahocorasick.Automaton()
    for words in c.anywhere_words.values():
        for word in words:
            automaton.add_word(word, word)
    found = {relation: [] for relation in c.anywhere}
    if not c.anywhere:
        return found
    automaton.make_automaton()
    lowered = text.lower()
    exact = len(lowered) == len(text)
    for relation, regex in c.anywhere.items():
        if not exact:
            found[relation] = [m.start() for m in regex.finditer(text, start)]
    if exact:
        for last, word in automaton.iter(lowered, start):
            position = last - len(word) + 1
            for relation, regex in c.anywhere.items():
                if regex.match(text, position):
                    found[relation].append(position)
    return {relation: sorted(set(offsets)) for relation, offsets in found.items()}


def _matches(anchors: list, sentence_end: int, text: str):
    """(pattern, anchor, start, end) of the sentence's anchors that end inside it: start and end span the
    anchor and the pattern's last part."""
    found = []
    for _, pattern, match in anchors:
        if match.end() > sentence_end:
            continue
        extent_end = match.end()
        if pattern.middle is not None and pattern.after is not None:
            tail = pattern.after.search(text, match.end(), sentence_end)
            extent_end = tail.end() if tail else extent_end
        found.append((pattern, match, match.start(), extent_end))
    return found


def _unhidden(bound: list) -> list:
    """The bound matches (pattern, anchor, start, end, slots) but those whose anchor lies inside a longer
    bound match of the same type (the passive "was bought by" hides the active "bought")."""
    return [item for item in bound
            if not any(other is not item and other[0].relation == item[0].relation and other[2] <= item[1].start()
                       and item[1].end() <= other[3] and other[3] - other[2] > item[3] - item[2] for other in bound)]


class Extractor:
    """Candidate ties from articles, with the graph's names read once."""

    def __init__(self, linker: Linker | None = None):
        self.cues = cues()
        self.body_start = 0
        self._relative: dict = {}      # the sentence being read -> its relative date
        self.linker = linker or Linker.from_database()

    def article(self, path: Path) -> tuple[document.Article, Language, list[Candidate]]:
        """The article at path, its language and the candidate ties it states, best first."""
        article = read(path)
        language = detect_language(article.body, article.meta.get("language"), str(path))
        return article, language, self.candidates(article.text, article.body_start, language, article.document_id)

    def candidates(self, text: str, body_start: int, language: Language, document_id: str) -> list[Candidate]:
        """The candidate ties of text[body_start:], one per tie (its best evidence)."""
        self.body_start = body_start
        known = self.linker.spans(text[body_start:])
        for span in known:
            span.start += body_start
            span.end += body_start
        starts = [span.start for span in known]
        anchors = _anchors(text, body_start, len(text), language.code)
        anchor_starts = [item[0] for item in anchors]
        anywhere = _anywhere_cues(text, body_start, self.cues)
        best: dict = {}
        for s_start, s_end in sentences(text, body_start, len(text), language):
            low, high = bisect.bisect_left(starts, s_start), bisect.bisect_left(starts, s_end)
            in_sentence = [span for span in known[low:high] if span.end <= s_end]
            here = anchors[bisect.bisect_left(anchor_starts, s_start):bisect.bisect_left(anchor_starts, s_end)]
            matches = [item for item in _matches(here, s_end, text) if not _inside_name(item[1], in_sentence)]
            symmetric = [r for r, found in anywhere.items()
                         if bisect.bisect_left(found, s_end) > bisect.bisect_left(found, s_start)]
            if not matches and not symmetric:
                continue
            wanted = frozenset().union(*(self.cues.types[p.relation][end] for p, *_ in matches for end in ("from", "to")),
                                       *(self.cues.types[r]["from"] for r in symmetric))
            new = new_names(text, s_start, s_end, in_sentence, language, wanted)
            # A known name inside a new one ("Wuhan" in "Wuhan Laser Systems GmbH") is part of it.
            in_sentence = [k for k in in_sentence if not any(n.start <= k.start and k.end <= n.end for n in new)]
            spans = sorted(in_sentence + new, key=lambda s: s.start)
            bound = [(pattern, anchor, start, end, slots) for pattern, anchor, start, end in matches
                     if (slots := _bind(pattern, anchor, spans, text, self.cues.types[pattern.relation], language,
                                    s_end))]
            found = []
            for pattern, anchor, _, end, slots in _unhidden(bound):
                found += self._from_binding(pattern, (anchor.start(), end), slots, text, s_start, s_end, language,
                                            document_id)
            for relation in symmetric:
                found += self._anywhere(relation, spans, text, s_start, s_end, language, document_id)
            for candidate in _one_per_pair(found, self.cues):
                had = best.get(candidate.identity)
                if had is None or candidate.confidence > had.confidence:
                    if had is not None:
                        candidate.props = {**had.props, **candidate.props}
                    best[candidate.identity] = candidate
                else:
                    had.props = {**candidate.props, **had.props}
        return sorted(best.values(), key=lambda c: (-c.confidence, c.evidence["start"]))

    def _from_binding(self, pattern, cue_span, bound, text, s_start, s_end, language, document_id):
        firsts, seconds = bound
        made = []
        for first_span, first in firsts:
            for second_span, second in seconds:
                by_slot = {pattern.first: (first_span, first), pattern.second: (second_span, second)}
                from_slot, to_slot = ("a", "b") if "a" in by_slot else ("from", "to")
                candidate = self._candidate(pattern.relation, by_slot[from_slot], by_slot[to_slot],
                                            pattern.confidence, pattern.text, dict(pattern.sets), cue_span,
                                            text, s_start, s_end, language, document_id)
                if candidate:
                    made.append(candidate)
        return made

    def _anywhere(self, relation, spans, text, s_start, s_end, language, document_id):
        allowed = self.cues.types[relation]["from"]
        fitting = []
        for span in spans:
            chosen = span.choose(allowed)
            if chosen and not (span.new and chosen[1] not in span.guessed[:1]):
                if chosen[0] not in [c[0] for _, c in fitting]:
                    fitting.append((span, chosen))
        if len(fitting) < 2:
            return []
        cue = self.cues.anywhere[relation].search(text, s_start, s_end)
        # The two names nearest the cue ("Bonn signed a twinning agreement with Chengdu"), in text order.
        distance = {id(span): _units(text[span.end:cue.start()] if span.end <= cue.start() else text[cue.end():span.start])
                    for span, _ in fitting}
        pair = sorted(sorted(fitting, key=lambda f: distance[id(f[0])])[:2], key=lambda f: f[0].start)
        candidate = self._candidate(relation, pair[0], pair[1], 0.7 if len(fitting) == 2 else 0.6,
                                    f"anywhere: {cue.group()}", {}, cue.span(), text, s_start, s_end, language,
                                    document_id)
        return [candidate] if candidate else []

    def _candidate(self, relation, start, end, confidence, cue, props, cue_span, text, s_start, s_end, language,
                   document_id) -> Candidate | None:
        (start_span, (start_id, start_type, start_ambiguous)), (end_span, (end_id, end_type, end_ambiguous)) = start, end
        if start_id == end_id:
            return None
        sentence = text[s_start:s_end]
        anchor = cue_span[0] - s_start
        declared = schema().relation(relation).properties
        extent = (min(start_span.start, end_span.start, cue_span[0]) - s_start,
                  max(start_span.end, end_span.end, cue_span[1]) - s_start)
        since = since_of(sentence, anchor, extent, language, relation in self.cues.dated_by_sentence)
        if since is None:
            if s_start not in self._relative:
                self._relative = {s_start: relative_since(text, s_start, s_end, language, self.body_start)}
            since = self._relative[s_start]
        if since:
            props.setdefault("since", since)
        if "share" in declared and (share := share_of(sentence, anchor, extent, language)) is not None:
            props.setdefault("share", share)
        if "value_usd_m" in declared and (value := value_of(sentence)) is not None:
            props.setdefault("value_usd_m", value)
        if (status := status_of(sentence, relation, language)) is not None:
            props.setdefault("status", status)
        proposed = [{"id": entity_id, "type": type_name, "name": span.name}
                    for span, entity_id, type_name in ((start_span, start_id, start_type), (end_span, end_id, end_type))
                    if span.new]
        confidence -= NEW_NAME_PENALTY * len(proposed) + AMBIGUOUS_PENALTY * (start_ambiguous + end_ambiguous)
        return Candidate(relation, start_id, end_id, props, {"sentence": sentence, "start": s_start, "end": s_end},
                         round(max(confidence, 0.05), 2), cue, document_id,
                         {"from": start_span.name, "to": end_span.name}, proposed)


def _one_per_pair(found: list[Candidate], c: Cues) -> list[Candidate]:
    """A sentence's candidates without a catch-all type's where another fact of it shares an end, and
    one type per pair (the first in the cue file's order)."""
    others = [x for x in found if x.type not in c.yields]
    ends = {e for x in others for e in (x.start, x.end)}
    kept = others + [x for x in found if x.type in c.yields and x.start not in ends and x.end not in ends]
    by_pair = {}
    for candidate in sorted(kept, key=lambda x: (c.order.index(x.type), -x.confidence)):
        pair = frozenset((candidate.start, candidate.end))
        if pair not in by_pair:
            by_pair[pair] = candidate
    return list(by_pair.values())


# -------------------------------------------------------------------------------------------- reading

def read(path: Path) -> document.Article:
    """The article at path as `kb load document` reads it; BadDocument, in one line, for a file that is
    not text or holds no text."""
    path = Path(path)
    if not path.is_file():
        raise BadDocument(f"{path}: no such file")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\x00" in head:
        raise BadDocument(f"{path}: not a text file (it holds NUL bytes: binary data?)")
    try:
        article = document.read_article(path)
    except InvalidRecord as error:
        raise BadDocument("; ".join(error.problems)) from None
    if not article.body.strip():
        raise BadDocument(f"{path}: empty article (no text after the front matter)")
    return article


def source_records(article: document.Article) -> list[dict]:
    """The Source and Document records of the article, as `kb load document` writes them (checked)."""
    validator = Validator(schema())
    records = list(document._records_of(article, validator))
    if validator.problems:
        raise BadDocument("; ".join(validator.problems))
    return [{"type": record.type, **record.props} for record in records]
