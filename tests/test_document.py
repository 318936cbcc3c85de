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
    rows = mentioned(doc_id(article))
    assert rows["firm-faw-vw"]["count"] == 2, rows
    assert rows["firm-vw"]["count"] == 1, rows     # the one standing alone, not the two inside FAW-Volkswagen
    assert rows["firm-faw"]["count"] == 1, rows
    assert "firm-kuka" not in rows


def test_latin_names_match_whole_words_only(seeded_db, tmp_path):
    article = tmp_path / "words.txt"
    article.write_text("Words\n\nThe Augsburger Puppenkiste and a Kukamonga shop in Germanyville.\n", encoding="utf-8")
    load(article)
    assert mentioned(doc_id(article)) == {}


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
    row = db.read("MATCH (d:Document {id: $id}) RETURN d.name AS name, d.sources AS sources", id=doc_id(article))[0]
    assert row["name"] == "Taicang joins the alliance", row
    assert set(mentioned(doc_id(article))) == {"city-taicang", "city-foshan"}


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


def article_at(folder: Path, name: str, title: str, body: str, url: str | None = None) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    front = f"---\ntitle: {title}\n" + (f"url: {url}\n" if url else "") + "---\n"
    path.write_text(front + body, encoding="utf-8")
    return path


def documents() -> dict:
    return {row["id"]: row["p"] for row in db.read("MATCH (d:Document) RETURN d.id AS id, properties(d) AS p")}


def offsets_point_into(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for entity_id, row in mentioned(doc_id(path)).items():
        names = set(keys.keys_for(row["name"], *(row["aliases"] or [])))
        for span in row["offsets"]:
            start, end = map(int, span.split(":"))
            assert mentions.fold(text[start:end])[0] in names, (path, entity_id, span, text[start:end])


@pytest.mark.parametrize("with_urls", [True, False], ids=["with URLs", "without URLs"])
def test_two_articles_that_share_a_file_name_stay_two_documents(seeded_db, tmp_path, with_urls):
    older = article_at(tmp_path / "news" / "2019", "article.md", "Foshan meets Hanover",
                       "Mayors of Foshan and Hanover met in Foshan.\n",
                       "https://example.org/2019/foshan" if with_urls else None)
    newer = article_at(tmp_path / "news" / "2024", "article.md", "Taicang welcomes firms",
                       "Taicang welcomed more German firms this year.\n",
                       "https://example.org/2024/taicang" if with_urls else None)
    before = set(documents())
    load(older)
    load(newer)
    found = documents()
    assert set(found) - before == {doc_id(older), doc_id(newer)} and doc_id(older) != doc_id(newer), found
    assert found[doc_id(older)]["name"] == "Foshan meets Hanover"
    assert found[doc_id(newer)]["name"] == "Taicang welcomes firms"
    assert set(mentioned(doc_id(older))) == {"city-foshan", "city-hanover"}
    assert set(mentioned(doc_id(newer))) == {"city-taicang"}
    offsets_point_into(older)
    offsets_point_into(newer)


def test_the_same_text_under_two_file_names_is_one_document(seeded_db, tmp_path):
    body = "Mayors of Foshan and Hanover met in Foshan.\n"
    first = article_at(tmp_path, "first.md", "Foshan meets Hanover", body)
    copy = article_at(tmp_path / "copies", "copy.txt", "Foshan meets Hanover", body)
    load(first)
    counts, rows = graph_counts(), mentioned(doc_id(first))
    load(copy)
    load(first, copy)
    assert doc_id(copy) == doc_id(first)
    assert graph_counts() == counts and mentioned(doc_id(first)) == rows


def test_a_new_version_of_an_article_replaces_its_mentions(seeded_db, tmp_path):
    url = "https://example.org/news/alliance"
    old = article_at(tmp_path / "v1", "alliance.md", "Hanover joins", "Foshan and Hanover signed in Foshan.\n", url)
    new = article_at(tmp_path / "v2", "alliance.md", "Taicang joins",
                     "Correction: Taicang, Augsburg's partner, signed with Foshan.\nFoshan hosted.\n",
                     "HTTPS://Example.org/news/alliance#update")
    assert doc_id(old) == doc_id(new)
    load(old)
    nodes_before = graph_counts()[0]
    assert set(mentioned(doc_id(old))) == {"city-foshan", "city-hanover"}

    pipeline.load(document.reader([new]), dry_run=True, show_progress=False)
    assert set(mentioned(doc_id(old))) == {"city-foshan", "city-hanover"}     # a dry run changes nothing

    load(new)
    rows = mentioned(doc_id(new))
    assert set(rows) == {"city-foshan", "city-taicang", "city-augsburg"}, rows   # Hanover's stale mention is gone
    assert rows["city-foshan"]["count"] == 2, rows
    offsets_point_into(new)
    found = documents()[doc_id(new)]
    assert (found["name"], found["text_sha256"]) == ("Taicang joins", document.read_article(new).text_sha256)
    assert graph_counts()[0] == nodes_before

    load(new)                       # the same version again: nothing changes
    assert mentioned(doc_id(new)) == rows


def test_two_versions_of_an_article_in_one_load_are_refused(seeded_db, tmp_path):
    url = "https://example.org/news/alliance"
    old = article_at(tmp_path / "v1", "alliance.md", "Hanover joins", "Foshan and Hanover signed.\n", url)
    new = article_at(tmp_path / "v2", "alliance.md", "Taicang joins", "Foshan and Taicang signed.\n", url)
    before = graph_counts()
    result = CliRunner().invoke(main, ["load", "document", str(old), str(new)])
    assert result.exit_code == 1, result.output
    assert f"{new} front matter, field 'url': {url} is also the url of {old}, whose text differs" in result.output, \
        result.output
    assert graph_counts() == before
