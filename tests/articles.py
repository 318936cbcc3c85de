"""Quality of `kb extract` against the test articles (tests/data/articles/*.md), each beside a hand-made
list of the facts it states (*.expected.yaml); used by tests/test_extract.py and bench/extract.py."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kb import keys
from kb.schema import schema
from loaders import extract

ARTICLES = Path(__file__).parent / "data" / "articles"
NEW = "new:"


def articles() -> list[Path]:
    return sorted(ARTICLES.glob("*.md"))


def expected(article: Path) -> list[dict]:
    return yaml.safe_load(article.with_suffix(".expected.yaml").read_text(encoding="utf-8"))["facts"]


def _end_matches(given: str, candidate, end: str) -> bool:
    found = candidate.start if end == "from" else candidate.end
    if not given.startswith(NEW):
        return found == given
    # A name the graph lacked when the list was written may be one it holds now: the name decides.
    return bool(set(keys.keys_for(given[len(NEW):])) & set(keys.keys_for(candidate.names[end])))


def matches(fact: dict, candidate) -> bool:
    """Whether the candidate states the fact: the same type and ends (either way round for a symmetric type)."""
    if fact["type"] != candidate.type:
        return False
    straight = _end_matches(fact["from"], candidate, "from") and _end_matches(fact["to"], candidate, "to")
    if straight or not schema().relation(fact["type"]).symmetric:
        return straight
    return _end_matches(fact["from"], candidate, "to") and _end_matches(fact["to"], candidate, "from")


@dataclass
class Score:
    found: int = 0              # candidates proposed
    right: int = 0              # of them, facts of the list
    facts: int = 0
    recalled: int = 0           # facts found
    dated: int = 0              # found facts that have a year in the list
    year_right: int = 0
    wrong: list = field(default_factory=list)
    missed: list = field(default_factory=list)
    years_wrong: list = field(default_factory=list)

    def add(self, other: "Score") -> None:
        for name in ("found", "right", "facts", "recalled", "dated", "year_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.wrong += other.wrong
        self.missed += other.missed
        self.years_wrong += other.years_wrong

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 0.0

    @property
    def recall(self) -> float:
        return self.recalled / self.facts if self.facts else 0.0

    @property
    def year_accuracy(self) -> float:
        return self.year_right / self.dated if self.dated else 1.0

    def figures(self) -> dict:
        return {"precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "year_right": round(self.year_accuracy, 3), "candidates": self.found, "correct": self.right,
                "facts": self.facts, "facts_found": self.recalled, "dated_found": self.dated}


def score(article: Path, extractor: extract.Extractor) -> tuple[str, Score]:
    """(language, score) of the extractor on one article."""
    _, language, candidates = extractor.article(article)
    facts = expected(article)
    result = Score(found=len(candidates), facts=len(facts))
    used = set()
    for candidate in candidates:
        hit = next((i for i, fact in enumerate(facts) if i not in used and matches(fact, candidate)), None)
        if hit is None:
            result.wrong.append(f"{article.name}: {candidate.type} {candidate.start} -> {candidate.end} "
                                f"({candidate.evidence['sentence'][:80]!r})")
            continue
        used.add(hit)
        result.right += 1
        result.recalled += 1
        since = facts[hit].get("since")
        if since:
            result.dated += 1
            if str(candidate.props.get("since", ""))[:4] == str(since)[:4]:
                result.year_right += 1
            else:
                result.years_wrong.append(f"{article.name}: {candidate.type} {candidate.start} -> {candidate.end}: "
                                          f"{candidate.props.get('since')} for {since}")
    result.missed = [f"{article.name}: {f['type']} {f['from']} -> {f['to']}" for i, f in enumerate(facts) if i not in used]
    return language.code, result


def scores(extractor: extract.Extractor) -> dict[str, Score]:
    """Scores per language and over all ("all") of the test articles."""
    by_language: dict = defaultdict(Score)
    for article in articles():
        code, result = score(article, extractor)
        by_language[code].add(result)
        by_language["all"].add(result)
    return dict(by_language)


def seed_linker() -> extract.Linker:
    """A linker over the seed files' entities, read from the files (no database): what the seeded graph holds."""
    from tests.conftest import seed_entities
    return extract.Linker.of([entity for entity in seed_entities() if entity["type"] not in ("Source", "Document")])
