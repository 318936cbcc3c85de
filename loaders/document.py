"""News articles and reports, plain text or Markdown: each file becomes a Document citing a Source
of its own, and MENTIONS ties to every entity of the graph it names (loaders/mentions.py).

A document is what its URL names (front matter), else its text: the ids come from a hash of either,
never from the file's name, so two articles that share a file name stay two, the same text loaded
again changes nothing, and a new text at a known URL is a new version of that Document: its
mentions replace the old ones, and those the new text no longer makes go.

A file may open with YAML front matter between two `---` lines (title, publisher, date, url,
language); without it, or without a title in it, the first line of the text is the title.
The names come from the database, read once per load: what the graph knows when the file is loaded.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from kb import db
from kb.errors import InvalidRecord
from kb.schema import ENTITY_LABEL, schema
from loaders.mentions import Matcher, unknown_names
from loaders.source import RecordSource
from loaders.records import Validator

SUFFIXES = (".md", ".markdown", ".txt")
FRONT_MATTER_LINE = "---"
FRONT_MATTER_FIELDS = ("title", "publisher", "date", "url", "language")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
SOURCE_KIND = "news"
DOCUMENT_KIND = "article"
# How many unknown names the review list shows per file, most frequent first.
REVIEW_SHOWN = 30


# The mentions a document's own source states that its text no longer makes; a tie others cite stays.
STALE_MENTIONS = """UNWIND $rows AS row
MATCH (:Document {id: row.doc})-[m:MENTIONS]->(e)
WHERE row.source IN m.sources AND NOT e.id IN row.kept
DELETE m"""


def known_names_query() -> str:
    """Cypher: id, name and aliases of every entity a text can name (every entity but Sources)."""
    source = schema().source_type
    return (f"MATCH (e:{ENTITY_LABEL}) WHERE NOT e:`{source}` "
            "RETURN e.id AS id, e.name AS name, e.aliases AS aliases")


@dataclass(frozen=True)
class Article:
    path: Path
    meta: dict          # front matter fields given, title always set (may be empty)
    text: str           # the whole file
    body_start: int     # where the text after the front matter begins

    @property
    def body(self) -> str:
        return self.text[self.body_start:]

    @property
    def url(self) -> str | None:
        """The front matter's URL as one address: scheme and host in lower case, without a #fragment."""
        given = str(self.meta.get("url") or "").strip()
        if not given:
            return None
        parts = urlsplit(given)
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))

    @property
    def text_sha256(self) -> str:
        """The body's hash, line ends and surrounding white space aside: the version of the text."""
        body = self.body.replace("\r\n", "\n").strip()
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @property
    def identity(self) -> str:
        """What makes the document itself: its URL, else its text (hashed, 16 hex digits)."""
        key = f"url {self.url}" if self.url else f"text {self.text_sha256}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @property
    def document_id(self) -> str:
        return f"doc-{self.identity}"

    @property
    def source_id(self) -> str:
        return f"src-doc-{self.identity}"


def document_files(paths) -> list[Path]:
    """The files named, and the text and Markdown files inside named folders, in a stable order."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidRecord([f"{path}: no such file or folder"])
    if not found:
        raise InvalidRecord([f"{', '.join(map(str, paths))}: no document (.md, .markdown, .txt) found"])
    return found


def _first_line_title(body: str) -> str:
    for line in body.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""


def _front_matter(path: Path, lines: list[str]) -> tuple[dict, int]:
    """The front matter's fields and the number of lines it takes, closing line included."""
    closing = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip("\r\n") == FRONT_MATTER_LINE), None)
    if closing is None:
        raise InvalidRecord([f"{path} line 1, field 'front matter': no closing '{FRONT_MATTER_LINE}' line"])
    try:
        meta = yaml.safe_load("".join(lines[1:closing]))
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 2 if error.problem_mark else 1
        raise InvalidRecord([f"{path} line {line}, field 'front matter': malformed YAML: {error.problem}"]) from None
    except yaml.YAMLError as error:
        raise InvalidRecord([f"{path}, field 'front matter': malformed YAML: {error}"]) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise InvalidRecord([f"{path}, field 'front matter': must be a mapping of "
                             f"{', '.join(FRONT_MATTER_FIELDS)}"])
    problems = [f"{path} front matter, field '{name}': not a front matter field; allowed: "
                f"{', '.join(FRONT_MATTER_FIELDS)}" for name in meta if name not in FRONT_MATTER_FIELDS]
    language = meta.get("language")
    if language is not None and not LANGUAGE_CODE.match(str(language)):
        problems.append(f"{path} front matter, field 'language': {language!r} is not an ISO 639-1 code (en, de, zh, ...)")
    if problems:
        raise InvalidRecord(problems)
    return meta, closing + 1


def read_article(path: Path) -> Article:
    """The file's front matter and text; InvalidRecord names the file, line and field at fault."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidRecord([f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"]) from None
    lines = text.splitlines(keepends=True)
    meta, front_lines = {}, 0
    if lines and lines[0].rstrip("\r\n") == FRONT_MATTER_LINE:
        meta, front_lines = _front_matter(path, lines)
    body_start = sum(len(line) for line in lines[:front_lines])
    meta = dict(meta)
    meta["title"] = str(meta.get("title") or "").strip() or _first_line_title(text[body_start:])
    return Article(path, meta, text, body_start)


def _records_of(article: Article, validator: Validator):
    origin = f"{article.path} (front matter)"
    meta = article.meta
    source = {"id": article.source_id, "name": meta["title"], "title": meta["title"], "kind": SOURCE_KIND,
              **{name: meta.get(name) for name in ("publisher", "date", "url", "language")}}
    document = {"id": article.document_id, "name": meta["title"], "kind": DOCUMENT_KIND, "date": meta.get("date"),
                "text_sha256": article.text_sha256, "sources": [article.source_id]}
    for type_name, props in ((schema().source_type, source), ("Document", document)):
        record = validator.entity(type_name, props, origin)
        if record:
            yield record


class DocumentReader:
    """Documents and their mentions as records, and the review list of names the graph lacks."""

    def __init__(self, paths):
        # Every file is read and its front matter checked before the load starts.
        self.articles = _one_per_document([read_article(path) for path in document_files(paths)])
        self.review: list[str] = []
        self.mentioned: dict[str, list[str]] = {}      # document id -> the entities its text names now

    def entities(self, validator: Validator):
        for article in self.articles:
            yield from _records_of(article, validator)

    def relations(self, validator: Validator):
        matcher = Matcher((row["id"], row["name"], row["aliases"]) for row in db.read(known_names_query()))
        for article in self.articles:
            mentions = matcher.find(article.body, skip=frozenset({article.document_id}))
            self.mentioned[article.document_id] = sorted(mentions)
            self._note_unknown(article, unknown_names(article.body, mentions))
            for entity_id, mention in sorted(mentions.items()):
                shift = article.body_start
                props = {"sources": [article.source_id], "count": mention.count,
                         "offsets": [f"{start + shift}:{end + shift}" for start, end in mention.spans]}
                record = validator.relation("MENTIONS", article.document_id, entity_id, props,
                                            f"{article.path} (mention of {entity_id})")
                if record:
                    yield record

    def _note_unknown(self, article: Article, found) -> None:
        if not found:
            return
        names = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{name} ({count})" for name, count in names[:REVIEW_SHOWN])
        more = f" and {len(names) - REVIEW_SHOWN} more" if len(names) > REVIEW_SHOWN else ""
        self.review.append(f"{article.path}: names the graph does not know: {shown}{more}")

    def drop_stale_mentions(self) -> None:
        """Once written: a document's mentions that its text (a new version) no longer makes go."""
        rows = [{"doc": article.document_id, "source": article.source_id, "kept": self.mentioned[article.document_id]}
                for article in self.articles if article.document_id in self.mentioned]
        if rows:
            db.write(STALE_MENTIONS, rows=rows)

    def source(self) -> RecordSource:
        return RecordSource.of(self.entities, self.relations, review=lambda: self.review,
                               after_write=self.drop_stale_mentions)


def _one_per_document(articles: list[Article]) -> list[Article]:
    """Each document once: the same text given twice is read once; two texts with one URL are refused."""
    first: dict[str, Article] = {}
    problems = []
    for article in articles:
        seen = first.setdefault(article.document_id, article)
        if seen is not article and seen.text_sha256 != article.text_sha256:
            problems.append(f"{article.path} front matter, field 'url': {article.url} is also the url of "
                            f"{seen.path}, whose text differs; load one version of an article at a time")
    if problems:
        raise InvalidRecord(problems)
    return list(first.values())


def reader(paths) -> RecordSource:
    """A record source over the documents named (files, or folders of .md/.txt files)."""
    return DocumentReader(paths).source()
