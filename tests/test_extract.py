"""`kb extract`: candidate ties from articles, measured against hand-made fact lists of the test articles
(tests/data/articles), and its parts: sentences, directions, dates, shares, status, new names, the cue
file, bad input."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import main
from loaders import extract
from tests import articles
from tests.conftest import graph_counts

ROBOT = articles.ARTICLES / "robot-deal-en.md"


@pytest.fixture(scope="module")
def extractor(seeded_readonly):
    return extract.Extractor(extract.Linker.from_database())


def language(code: str) -> extract.Language:
    return extract.cues().languages[code]


def test_quality_on_the_test_articles(extractor):
    found = articles.scores(extractor)
    report = {code: score.figures() for code, score in found.items()}
    overall = found["all"]
    context = f"{json.dumps(report, indent=1)}\nwrong: {overall.wrong}\nmissed: {overall.missed}\n" \
              f"years wrong: {overall.years_wrong}"
    print(context)
    assert set(found) == {"all", "en", "de", "zh"}, context
    assert overall.precision >= 0.8, context
    assert overall.recall >= 0.7, context
    for code in ("en", "de", "zh"):
        assert found[code].recall >= 0.5, (code, context)
    assert overall.year_accuracy >= 0.9, context


def test_every_test_article_has_its_fact_list_and_the_languages_asked_for():
    counts = {}
    for article in articles.articles():
        assert articles.expected(article), article
        code = extract.read(article).meta["language"]
        counts[code] = counts.get(code, 0) + 1
    assert counts.get("en", 0) >= 3 and counts.get("de", 0) >= 2 and counts.get("zh", 0) >= 2, counts


SENTENCES = [
    ("en", "Dr. Anna Keller of Siemens Co. Ltd. spoke. She left at 5 p.m. on Monday. Then it rained!",
     ["Dr. Anna Keller of Siemens Co. Ltd. spoke.", "She left at 5 p.m. on Monday.", "Then it rained!"]),
    ("en", "# A heading\n\nThe first sentence runs\nover two lines. Second one?\n\n- A list item\n- Another",
     ["# A heading", "The first sentence runs\nover two lines.", "Second one?", "- A list item", "- Another"]),
    ("de", "Preh beschäftigt z. B. in Mexiko viele Menschen. Am 3. Mai 2016 kam das Angebot. Es folgte u. a. Kritik.",
     ["Preh beschäftigt z. B. in Mexiko viele Menschen.", "Am 3. Mai 2016 kam das Angebot.", "Es folgte u. a. Kritik."]),
    ("zh", "美的集团收购了库卡。这笔交易引发讨论！你同意吗？当然。",
     ["美的集团收购了库卡。", "这笔交易引发讨论！", "你同意吗？", "当然。"]),
]


@pytest.mark.parametrize("code, text, expected", SENTENCES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(SENTENCES)])
def test_sentences_split_on_the_language_s_punctuation(code, text, expected):
    found = [text[s:e] for s, e in extract.sentences(text, 0, len(text), language(code))]
    assert found == expected


DIRECTIONS = [
    ("en", "Midea bought Kuka in 2016.", ("firm-midea", "firm-kuka")),
    ("en", "Kuka was bought by Midea in 2016.", ("firm-midea", "firm-kuka")),
    ("de", "Midea übernahm 2016 den Roboterbauer Kuka.", ("firm-midea", "firm-kuka")),
    ("de", "Kuka wurde 2016 von Midea übernommen.", ("firm-midea", "firm-kuka")),
    ("zh", "2016年美的收购KUKA。", ("firm-midea", "firm-kuka")),
    ("zh", "2016年KUKA被美的收购。", ("firm-midea", "firm-kuka")),
]


@pytest.mark.parametrize("code, text, ends", DIRECTIONS, ids=[t for _, t, _ in DIRECTIONS])
def test_direction_comes_from_the_cue_active_or_passive(extractor, code, text, ends):
    found = extractor.candidates(text, 0, language(code), "doc-test")
    ties = [(c.type, c.start, c.end, c.props.get("since")) for c in found]
    assert ties == [("ACQUIRED", *ends, "2016")], ties


def test_a_symmetric_type_needs_no_direction(extractor):
    found = extractor.candidates("Leipzig and Nanjing have been sister cities since 1988.", 0, language("en"), "d")
    assert [(c.type, {c.start, c.end}, c.props) for c in found] == \
           [("SISTER_CITY_OF", {"city-leipzig", "city-nanjing"}, {"since": "1988"})]


PROPERTIES = [
    ("en", "Weichai Power bought 25 percent of Kion Group in 2012.", {"share": 0.25, "since": "2012"}),
    ("en", "Weichai Power bought a 25 % stake in Kion Group.", {"share": 0.25}),
    ("en", "In June 2018, Geely bought a 9.69% stake in Daimler for $9 billion.",
     {"share": 0.0969, "since": "2018-06", "value_usd_m": 9000.0}),
    ("de", "Am 3. Mai 2012 stieg Weichai Power mit 25,1 Prozent bei der Kion Group ein.",
     {"share": 0.251, "since": "2012-05-03"}),
    ("zh", "2012年9月，潍柴动力(Weichai Power)收购了凯傲集团25%的股份。", None),    # 凯傲集团 is new: see below
    ("en", "The government blocked the takeover of Aixtron by Fujian Grand Chip in 2016.",
     {"status": "blocked", "since": "2016"}),
    ("en", "Yantai Taihai Group withdrew its bid for Leifeld Metal Spinning in 2018.",
     {"status": "withdrawn", "since": "2018"}),
    ("de", "Die Übernahme von Aixtron durch Fujian Grand Chip ist 2016 gescheitert.",
     {"status": "withdrawn", "since": "2016"}),
    ("zh", "吉利控股已完成对Daimler的收购。", {"status": "completed"}),
]


@pytest.mark.parametrize("code, text, props", PROPERTIES, ids=[t[:40] for _, t, _ in PROPERTIES])
def test_the_sentence_gives_date_share_value_and_status(extractor, code, text, props):
    found = extractor.candidates(text, 0, language(code), "doc-test")
    assert len(found) == 1, [(c.type, c.start, c.end) for c in found]
    if props is None:
        assert found[0].props == {"share": 0.25, "since": "2012-09"}, found[0].props
        assert {p["name"] for p in found[0].proposed} == {"凯傲集团"}, found[0].proposed
        return
    assert found[0].props == props, found[0].props


NEW_NAMES = [
    ("en", "Hengtong Optic Group bought Wuhan Laser Systems GmbH in 2021.",
     {"Hengtong Optic Group": "Company", "Wuhan Laser Systems GmbH": "Company"}),
    ("en", "Foshan has been twinned with the city of Kleinostheim since 2020.", {"Kleinostheim": "City"}),
    ("de", "Die Kessler Antriebstechnik GmbH hat ihren Sitz in Abtsgmünd und ein Werk in Taicang.",
     {"Kessler Antriebstechnik GmbH": "Company"}),
    ("zh", "2018年，烟台台海集团对莱菲尔德有限公司的收购被叫停。", {"烟台台海集团": "Company", "莱菲尔德有限公司": "Company"}),
]


@pytest.mark.parametrize("code, text, names", NEW_NAMES, ids=[t[:40] for _, t, _ in NEW_NAMES])
def test_names_the_graph_lacks_become_proposed_entities_typed_by_their_name(extractor, code, text, names):
    found = extractor.candidates(text, 0, language(code), "doc-test")
    proposed = {p["name"]: p["type"] for c in found for p in c.proposed}
    assert proposed == names, [(c.type, c.start, c.end, c.proposed) for c in found]
    for candidate in found:
        for new in candidate.proposed:
            assert new["id"] in (candidate.start, candidate.end)
            assert re.match(r"^(firm|city|org|person|region)-[a-z0-9-]+$", new["id"]), new


def test_candidate_json_has_the_seed_relation_shape_and_evidence(seeded_readonly):
    result = CliRunner().invoke(main, ["extract", str(ROBOT), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    text = ROBOT.read_text(encoding="utf-8")
    assert found, result.output
    for record in found:
        assert {"type", "from", "to", "evidence", "confidence", "cue", "document"} <= set(record), record
        start, end = record["evidence"]["start"], record["evidence"]["end"]
        assert text[start:end] == record["evidence"]["sentence"], record
        assert 0 < record["confidence"] <= 1, record
        assert record["document"] == extract.read(ROBOT).document_id
    deal = next(r for r in found if r["type"] == "ACQUIRED" and r["from"] == "firm-chemchina")
    assert (deal["to"], deal["since"], deal["value_usd_m"]) == ("firm-kraussmaffei", "2016", 1000.0), deal


def test_table_lists_each_candidate_on_a_line(seeded_readonly):
    result = CliRunner().invoke(main, ["extract", str(ROBOT)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"ACQUIRED\s+firm-midea\s+firm-kuka", result.stdout), result.stdout
    assert "candidates (en)" in result.stderr, result.stderr


def _bad_inputs(tmp_path: Path) -> list[tuple[Path, str]]:
    binary = tmp_path / "picture.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Die Übernahme".encode("latin-1"))
    empty = tmp_path / "empty.md"
    empty.write_text("---\ntitle: Nothing here\nlanguage: en\n---\n\n   \n", encoding="utf-8")
    french = tmp_path / "french.md"
    french.write_text("---\ntitle: Rachat\nlanguage: fr\n---\nMidea a racheté Kuka en 2016.\n", encoding="utf-8")
    unknown = tmp_path / "numbers.txt"
    unknown.write_text("12 34 56\n78 90\n", encoding="utf-8")
    return [(binary, "not a text file"), (latin1, "not UTF-8"), (empty, "empty article"),
            (french, "language 'fr' has no cues"), (unknown, "cannot tell the language"),
            (tmp_path / "missing.md", "no such file")]


@pytest.mark.parametrize("case", range(6), ids=["binary", "latin1", "empty", "french", "no-language", "missing"])
@pytest.mark.parametrize("queue", [False, True], ids=["print", "queue"])
def test_bad_input_is_one_line_naming_the_file_and_nothing_is_written(seeded_readonly, tmp_path, case, queue):
    path, message = _bad_inputs(tmp_path)[case]
    before = graph_counts()
    result = CliRunner().invoke(main, ["extract", str(ROBOT), str(path)] + (["--queue"] if queue else []))
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and message in lines[0], result.stderr
    assert result.stdout == "", result.stdout
    assert graph_counts() == before


BROKEN_CUES = [
    ({"languages": {"en": {}}}, "`languages:` and `relations:`"),
    ({"languages": {"en": {}}, "relations": {"BOUGHT": {}}}, "relations.BOUGHT"),
    ({"languages": {"en": {}}, "relations": {"ACQUIRED": {"fr": ["{from} a racheté {to}"]}}}, "relations.ACQUIRED.fr"),
    ({"languages": {"en": {}}, "relations": {"ACQUIRED": {"en": ["{from} bought"]}}}, "exactly two slots"),
    ({"languages": {"en": {}}, "relations": {"ACQUIRED": {"en": ["{a} bought {b}"]}}}, "{from} and {to}"),
    ({"languages": {"en": {}}, "relations": {"SISTER_CITY_OF": {"en": ["{from} twinned with {to}"]}}},
     "symmetric"),
    ({"languages": {"en": {}}, "relations": {"HOLDS_OFFICE": {"en": ["{from}, mayor of {to}"]}}}, "must set role"),
    ({"languages": {"en": {}}, "relations": {"ACQUIRED": {"en": ["{from} (bought {to}"]}}}, "pattern 1"),
    ({"languages": {"en": {}}, "relations": {"ACQUIRED": {"types": {"from": ["City"]}}}}, "not allowed by the schema"),
]


@pytest.mark.parametrize("data, message", BROKEN_CUES, ids=[m for _, m in BROKEN_CUES])
def test_a_broken_cue_file_is_refused_naming_the_part_at_fault(data, message):
    with pytest.raises(extract.CueError) as refused:
        extract.parse_cues(data, "cues.yaml")
    assert message in str(refused.value) and "cues.yaml" in str(refused.value), str(refused.value)


def test_the_project_cue_file_covers_every_language_for_the_types_news_states():
    found = extract.cues()
    for code in ("en", "de", "zh"):
        types = {p.relation for p in found.patterns[code]}
        assert {"ACQUIRED", "PARENT_OF", "PRODUCTION_BASE_IN", "HEADQUARTERED_IN", "MEMBER_OF",
                "HOLDS_OFFICE", "COOPERATES_WITH"} <= types, (code, types)
    assert "SISTER_CITY_OF" in found.anywhere
