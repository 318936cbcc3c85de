"""Entity search: any spelling (English, German, Chinese, with or without umlauts), typos and prefixes."""
from __future__ import annotations

import re
from dataclasses import dataclass

from neo4j.exceptions import ClientError
from rapidfuzz import fuzz

from kb import db, keys
from kb.ddl import SEARCH_INDEX
from kb.errors import SearchUnavailable
from kb.schema import ENTITY_LABEL

LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')
CANDIDATES = 50

SEARCH_QUERY = (
    "CALL db.index.fulltext.queryNodes($index, $lucene, {limit: $limit}) YIELD node, score "
    f"RETURN node.id AS id, node.name AS name, [l IN labels(node) WHERE l <> '{ENTITY_LABEL}'][0] AS type, "
    "node.country AS country, node.search_keys AS search_keys, score"
)


@dataclass(frozen=True)
class Hit:
    id: str
    name: str
    type: str
    country: str | None
    score: float

    def label(self) -> str:
        country = f", {self.country}" if self.country else ""
        return f"{self.name} ({self.type}{country})"


def _token_clause(token: str, loose: bool, last: bool) -> str:
    """A token as an exact term; when loose, also with a typo allowed and, for the last word (the
    one still being typed), as a prefix. Prefixes of earlier words would make Lucene visit every
    term that starts like "co" or "gmbh": that is what makes a search slow on a large graph."""
    term = LUCENE_SPECIAL.sub(r"\\\1", token)
    variants = [f"{term}^4"]
    if loose and not keys.CJK.search(token) and not token.isdigit():
        if last and len(token) >= 3:
            variants.append(f"{term}*^2")
        if len(token) >= 4:
            # One edit (a transposition counts as one) catches most typos; two only in long words.
            variants.append(f"{term}~{1 if len(token) < 8 else 2}")
    return "(" + " OR ".join(variants) + ")" if len(variants) > 1 else variants[0]


def _lucene_keys(text: str, query_keys: list[str]) -> list[str]:
    """The keys worth asking Lucene for."""
    if keys.CJK.search(text):
        # Single pinyin syllables match far too much; the joined form and the characters suffice.
        return [key for key in query_keys if " " not in key]
    return query_keys


SEARCH_STAGES = ("exact", "every_word", "any_word")


def lucene_query(lucene_keys: list[str], stage: str = "exact") -> str:
    """A Lucene query for the folded forms of a text, at one of the search's stages.

    exact: every word of some spelling, as typed; every_word: the same words, allowing typos and
    a prefix for the last word; any_word: any one of those words.
    """
    clauses = []
    for key in lucene_keys:
        words = key.split()
        terms = [_token_clause(w, stage != "exact", i == len(words) - 1) for i, w in enumerate(words)]
        clauses += terms if stage == "any_word" else ["(" + " AND ".join(terms) + ")"]
    return " OR ".join(sorted(set(clauses)))


def _closeness(query_keys: list[str], entity_keys: list[str]) -> float:
    """How well the best pair of keys matches: exact, then prefix, then edit similarity."""
    best = 0.0
    for q in query_keys:
        for k in entity_keys:
            if q == k:
                return 200.0
            if k.startswith(q):
                best = max(best, 150.0 + 50.0 * len(q) / len(k))
            else:
                best = max(best, fuzz.ratio(q, k), 0.9 * fuzz.partial_ratio(q, k) if len(q) >= 4 else 0)
    return best


def _coverage(query_keys: list[str], entity_keys: list[str]) -> float:
    """The share of the query's words that some word of the entity matches (exactly, as prefix or nearly)."""
    words = {w for k in entity_keys for w in k.split()}
    best = 0.0
    for q in query_keys:
        tokens = q.split()
        matched = sum(1 for t in tokens if any(w.startswith(t) or fuzz.ratio(t, w) >= 80 for w in words))
        best = max(best, matched / len(tokens))
    return best


def _rank_key(query_keys: list[str], record) -> tuple:
    entity_keys = record["search_keys"] or []
    return (-_coverage(query_keys, entity_keys), -_closeness(query_keys, entity_keys), -record["score"], record["id"])


def _relevant(rank_key: tuple) -> bool:
    """Drop candidates that share only a stray syllable or a distant fuzzy term with the query."""
    coverage, closeness = -rank_key[0], -rank_key[1]
    return coverage >= 0.5 or closeness >= 70


def _candidates(lucene: str) -> list:
    try:
        return db.read(SEARCH_QUERY, index=SEARCH_INDEX, lucene=lucene, limit=CANDIDATES)
    except ClientError as error:
        if f"no such fulltext schema index: {SEARCH_INDEX}" not in (error.message or ""):
            raise
        raise SearchUnavailable("the search index is not there yet: a load into an empty database builds it "
                                "once it has written everything (try again in a moment); otherwise run "
                                "`kb init`") from None


def search(text: str, limit: int = 10) -> list[Hit]:
    """Entities matching text, best first."""
    query_keys = keys.query_keys(text or "")
    lucene_keys = _lucene_keys(text or "", query_keys)
    if not lucene_keys:
        return []
    records = []
    # Cheap, strict queries first: the looser ones run only when the stricter found nothing.
    for stage in SEARCH_STAGES:
        records = _candidates(lucene_query(lucene_keys, stage))
        if records:
            break
    scored = sorted(((_rank_key(query_keys, r), r) for r in records), key=lambda pair: pair[0])
    return [Hit(r["id"], r["name"], r["type"], r["country"], round(r["score"], 3))
            for rank, r in scored if _relevant(rank)][:limit]
