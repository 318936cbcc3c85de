"""`kb load document`: articles become Documents with MENTIONS of the entities they name, measured
against hand-made lists of what each fixture article names (tests/data/documents/*.expected.yaml)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb import db, keys
from kb.cli import main
from kb.errors import InvalidRecord
from loaders import document, mentions, pipeline
from tests.conftest import graph_counts

DOCUMENTS = Path(__file__).parent / "data" / "documents"
ARTICLES = sorted(DOCUMENTS.glob("*.md"))
ENGLISH = DOCUMENTS / "foshan-alliance-2019.md"

MENTIONED = """MATCH (d:Document {id: $doc})-[m:MENTIONS]->(e)
RETURN e.id AS id, e.name AS name, e.aliases AS aliases, m.count AS count, m.offsets AS offsets, m.sources AS sources"""


def expected(article: Path) -> dict:
    return yaml.safe_load(article.with_suffix(".expected.yaml").read_text(encoding="utf-8"))


def load(*paths):
    return pipeline.load(document.reader(paths), show_progress=False)


def mentioned(doc_id: str) -> dict:
    return {row["id"]: row.data() for row in db.read(MENTIONED, doc=doc_id)}


def doc_id(path: Path) -> str:
    return document.read_article(path).document_id


@pytest.mark.parametrize("article", ARTICLES, ids=lambda p: p.stem)
def test_article_links_the_entities_it_names(seeded_db, article):
    hand = expected(article)
    named, findable = set(hand["names"]), set(hand["names"]) - set(hand.get("unfindable") or ())
    load(article)
    found = set(mentioned(doc_id(article)))
    true_positives = found & named
    recall, recall_findable = len(true_positives) / len(named), len(found & findable) / len(findable)
    precision = len(true_positives) / len(found) if found else 0.0
    context = (f"{article.name}: recall {recall:.3f} ({len(true_positives)}/{len(named)}), precision {precision:.3f}; "
               f"missed {sorted(named - found)}, wrong {sorted(found - named)}")
    print(context)
    assert precision >= 0.90, context
    assert recall_findable >= 0.95, context
    if article == ENGLISH:
        assert recall >= 0.95, context


@pytest.mark.parametrize("article", ARTICLES, ids=lambda p: p.stem)
def test_counts_and_offsets_point_at_the_names(seeded_db, article):
    load(article)
    text = article.read_text(encoding="utf-8")
    rows = mentioned(doc_id(article))
    assert rows, article
    for entity_id, row in rows.items():
        assert row["count"] == len(row["offsets"]), (entity_id, row)
        assert row["sources"] == [document.read_article(article).source_id], row
        names = set(keys.keys_for(row["name"], *(row["aliases"] or [])))
        for span in row["offsets"]:
            start, end = map(int, span.split(":"))
            assert mentions.fold(text[start:end])[0] in names, (entity_id, span, text[start:end])


def test_english_article_counts_each_name_where_it_stands(seeded_db):
    load(ENGLISH)
    text = ENGLISH.read_text(encoding="utf-8")
    body = text[document.read_article(ENGLISH).body_start:]
    rows = mentioned(doc_id(ENGLISH))
    # Every "Foshan" of the body counts, the heading's, "FOSHAN", "Foshan's" and "Foshan-based" included.
    assert rows["city-foshan"]["count"] == body.casefold().count("foshan"), rows["city-foshan"]
    # Hanover is named once in English and once as "Hannover" (an alias).
    assert rows["city-hanover"]["count"] == 2, rows["city-hanover"]


def test_a_name_inside_a_longer_name_is_not_counted_again(seeded_db, tmp_path):
    article = tmp_path / "joint-venture.txt"
    article.write_text("FAW-Volkswagen builds cars\n\nFAW-Volkswagen, the joint venture of FAW Group and Volkswagen, "
                       "builds cars in Foshan.\n", encoding="utf-8")
    load(article)
    rows = mentioned("doc-joint-venture")
    assert rows["firm-faw-vw"]["count"] == 2, rows
    assert rows["firm-vw"]["count"] == 1, rows     # the one standing alone, not the two inside FAW-Volkswagen
    assert rows["firm-faw"]["count"] == 1, rows
    assert "firm-kuka" not in rows


def test_latin_names_match_whole_words_only(seeded_db, tmp_path):
    article = tmp_path / "words.txt"
    article.write_text("Words\n\nThe Augsburger Puppenkiste and a Kukamonga shop in Germanyville.\n", encoding="utf-8")
    load(article)
    assert mentioned("doc-words") == {}


def test_unknown_names_are_listed(seeded_db):
    report = load(ENGLISH)
    review = "\n".join(report.review)
    for name in expected(ENGLISH)["unknown"]:
        assert f"{name} (1)" in review, review
    # A known name is never on the review list.
    assert "Zhu Wei" not in review and "Deutsche Messe" not in review, review


def test_cli_loads_documents_and_prints_the_review_list(seeded_db):
    result = CliRunner().invoke(main, ["load", "document", str(ENGLISH)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 entities and" in result.output, result.output
    assert "Lingnan Robotics Institute" in result.output, result.output


def test_loading_twice_changes_nothing(seeded_db):
    load(*ARTICLES)
    first = graph_counts(), {path: mentioned(doc_id(path)) for path in ARTICLES}
    load(*ARTICLES)
    second = graph_counts(), {path: mentioned(doc_id(path)) for path in ARTICLES}
    assert second == first


def test_document_and_source_carry_the_front_matter(seeded_db):
    load(ENGLISH)
    row = db.read("MATCH (d:Document {id: $id}) MATCH (s:Source {id: $src}) "
                  "RETURN d.name AS title, d.date AS date, s.publisher AS publisher, s.url AS url, "
                  "s.language AS language, s.kind AS kind",
                  id=doc_id(ENGLISH), src=document.read_article(ENGLISH).source_id)[0]
    front = yaml.safe_load(ENGLISH.read_text(encoding="utf-8").split("---")[1])
    assert row["title"] == front["title"], row
    assert row["date"] == str(front["date"]), row
    assert (row["publisher"], row["url"], row["language"], row["kind"]) == \
           (front["publisher"], front["url"], front["language"], "news"), row


def test_without_front_matter_the_first_line_is_the_title(seeded_db, tmp_path):
    article = tmp_path / "plain.txt"
    article.write_text("\n# Taicang joins the alliance\n\nTaicang became a member in Foshan.\n", encoding="utf-8")
    load(article)
    row = db.read("MATCH (d:Document {id: 'doc-plain'}) RETURN d.name AS name, d.sources AS sources")[0]
    assert row["name"] == "Taicang joins the alliance", row
    assert set(mentioned("doc-plain")) == {"city-taicang", "city-foshan"}


MALFORMED = [
    ("---\ntitle: A\nauthor: B\n---\nText\n", "field 'author'"),
    ("---\ntitle: A\ndate: 14 June 2019\n---\nText\n", "field 'date'"),
    ("---\ntitle: A\nlanguage: English\n---\nText\n", "field 'language'"),
    ("---\ntitle: A\ndate: 2019\nText without a closing line\n", "field 'front matter'"),
    ("---\ntitle: [A\n---\nText\n", "field 'front matter'"),
    ("---\n- title\n- date\n---\nText\n", "field 'front matter'"),
]


@pytest.mark.parametrize("text, field", MALFORMED, ids=[f for _, f in MALFORMED])
def test_malformed_front_matter_is_refused_with_file_and_field(seeded_db, tmp_path, text, field):
    good = tmp_path / "good.md"
    good.write_text(ENGLISH.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text(text, encoding="utf-8")
    before = graph_counts()
    with pytest.raises(InvalidRecord) as refused:
        load(good, bad)
    assert str(bad) in str(refused.value) and field in str(refused.value), str(refused.value)
    assert graph_counts() == before


def test_overview_lists_documents_and_their_mentions(seeded_db):
    from tests.test_app import open_page
    load(ENGLISH)
    rows = mentioned(doc_id(ENGLISH))
    at = open_page("overview")
    tables = [frame.value for frame in at.dataframe if "mentions" in frame.value.columns]
    assert len(tables) == 1, [frame.value.columns for frame in at.dataframe]
    listed = tables[0].set_index("id")
    assert listed.loc[doc_id(ENGLISH), "mentions"] == sum(row["count"] for row in rows.values())
    assert listed.loc[doc_id(ENGLISH), "entities named"] == len(rows)
