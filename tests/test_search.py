import pytest

from kb import ddl
from kb.errors import SearchUnavailable
from kb.search import search
from tests.conftest import graph_counts


@pytest.mark.parametrize("text, expected", [
    ("Gottingen", "city-goettingen"), ("Goettingen", "city-goettingen"), ("Göttingen", "city-goettingen"),
    ("哥廷根", "city-goettingen"), ("Hannover", "city-hanover"), ("Hanover", "city-hanover"),
    ("Sanlong", "org-sanlongwan"), ("Foshna", "city-foshan"), ("佛山", "city-foshan"), ("Kuka", "firm-kuka"),
    ("Midea Group", "firm-midea"), ("Deutschland", "country-de"), ("Niedersachsen", "region-lower-saxony"),
    ("Koehler", "person-rolf-georg-koehler"), ("FAW-VW", "firm-faw-vw"), ("一汽-大众", "firm-faw-vw"),
])
def test_right_entity_ranks_first(seeded_readonly, text, expected):
    hits = search(text)
    assert hits and hits[0].id == expected, (text, [h.id for h in hits])


def test_hits_carry_type_and_country(seeded_readonly):
    hit = search("Kuka")[0]
    assert (hit.type, hit.country, hit.label()) == ("Company", "DE", "Kuka (Company, DE)")


@pytest.mark.parametrize("text", ['") DETACH DELETE n //', "*", "name:Foshan OR", "'; MATCH (n) DELETE n", ""])
def test_search_text_is_data_not_cypher(seeded_db, text):
    before = graph_counts()
    hits = search(text)
    assert all(h.id for h in hits)
    assert graph_counts() == before


def test_unrelated_text_finds_nothing(seeded_readonly):
    assert search("xyzzy quux") == []


def test_search_without_its_index_says_how_it_comes_back(seeded_db):
    ddl.drop_search_index()
    with pytest.raises(SearchUnavailable, match="kb init"):
        search("Foshan")
    ddl.init()
    assert search("Foshan")[0].id == "city-foshan"
