"""The kb command, through click's runner, against the real database."""
import json
import re

import networkx as nx
import pytest
from click.testing import CliRunner

from bench.generate import main as generate
from kb.cli import main
from tests.conftest import SEEDS, graph_counts, seed_totals, wipe


def kb(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def stats() -> dict:
    result = kb("stats", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_init_load_stats_and_reload(empty_db):
    assert kb("init").exit_code == 0
    first = kb("load", SEEDS)
    entities, relations = seed_totals()
    assert first.exit_code == 0 and f"{entities} entities and {relations} relations loaded" in first.output
    assert re.search(r"\(the input read and checked in \d+\.\d s\)", first.output), first.output
    counts = stats()
    assert (sum(counts["entities"].values()), sum(counts["relations"].values())) == (entities, relations)
    assert kb("load", SEEDS).exit_code == 0
    assert stats() == counts
    table = kb("stats").output
    assert "entity type" in table and "City" in table and "total" in table


@pytest.mark.parametrize("text, first", [("Gottingen", "city-goettingen"), ("哥廷根", "city-goettingen"),
                                         ("Hannover", "city-hanover")])
def test_search_puts_the_right_city_first(seeded_readonly, text, first):
    result = kb("search", text)
    assert result.exit_code == 0
    assert result.output.splitlines()[2].split()[0] == first, result.output


def test_query_refuses_writes_with_exit_code(seeded_readonly):
    before = graph_counts()
    result = CliRunner().invoke(main, ["query", "CREATE (n) RETURN n"])
    assert result.exit_code == 1 and "only read-only queries" in result.output
    assert graph_counts() == before


def test_query_formats_params_and_truncation(seeded_readonly):
    as_json = kb("query", "MATCH (c:City {id: $id}) RETURN c.name AS name", "--param", "id=city-foshan",
                 "--format", "json")
    assert json.loads(as_json.output) == [{"name": "Foshan"}]
    as_csv = kb("query", "CALL db.labels()", "--format", "csv")
    assert as_csv.output.splitlines()[0] == "label" and "City" in as_csv.output.splitlines()
    capped = CliRunner().invoke(main, ["query", "MATCH (n:Entity) RETURN n.id", "--max-rows", "3"])
    assert "Truncated at 3 rows" in capped.output


def test_query_from_file_and_timeout(seeded_readonly, tmp_path):
    path = tmp_path / "q.cypher"
    path.write_text("MATCH (p:Person) RETURN count(p) AS people", encoding="utf-8")
    assert "5" in kb("query", "--file", path, "--format", "csv").output
    slow = CliRunner().invoke(main, ["query", "UNWIND range(1, 2000000000) AS x WITH x WHERE x % 1000000007 = 3 "
                                     "RETURN count(*)", "--timeout", "1"])
    assert slow.exit_code == 1 and "timed out after 1 s" in slow.output


def test_bad_input_exits_non_zero_and_writes_nothing(seeded_readonly, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  - {id: x, type: Planet, name: X, sources: [src-reference]}\n", encoding="utf-8")
    before = graph_counts()
    result = CliRunner().invoke(main, ["load", str(bad)])
    assert result.exit_code == 1 and "unknown entity type 'Planet'" in result.output and "line 2" in result.output
    assert graph_counts() == before
    assert CliRunner().invoke(main, ["validate", str(bad)]).exit_code == 1
    assert kb("validate", SEEDS).exit_code == 0


def test_graphml_export_reads_in_networkx_with_the_stats_counts(seeded_readonly, tmp_path):
    out = tmp_path / "graph.graphml"
    assert kb("export", "--format", "graphml", "--out", out).exit_code == 0
    graph = nx.read_graphml(out)
    counts = stats()
    assert graph.number_of_nodes() == sum(counts["entities"].values())
    assert graph.number_of_edges() == sum(counts["relations"].values())
    assert graph.nodes["city-goettingen"]["type"] == "City"


def test_jsonl_export_has_one_line_per_entity_and_relation(seeded_readonly, tmp_path):
    out = tmp_path / "graph.jsonl"
    assert kb("export", "--format", "jsonl", "--out", out).exit_code == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    kinds = [line["kind"] for line in lines]
    assert (kinds.count("entity"), kinds.count("relation")) == seed_totals()


def test_csv_export_loads_back_into_an_empty_database(seeded_db, tmp_path):
    before = stats()
    assert kb("export", "--format", "csv", "--out", tmp_path / "csv").exit_code == 0
    wipe()
    assert graph_counts() == (0, 0)
    result = kb("load", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    assert stats() == before


def test_every_command_has_help():
    for command in ["server", "server start", "init", "load", "validate", "search", "query", "stats", "export",
                    "demo"]:
        result = kb(*command.split(), "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_generate_writes_a_graph_that_loads(empty_db, tmp_path):
    out = tmp_path / "synthetic"
    made = CliRunner().invoke(generate, ["--entities", "300", "--relations", "1200", "--seed", "3", "--out", str(out)])
    assert made.exit_code == 0 and "300 entities and 1200 relations" in made.output
    assert kb("load", out).exit_code == 0
    counts = stats()
    assert (sum(counts["entities"].values()), sum(counts["relations"].values())) == (300, 1200)
    too_small = CliRunner().invoke(generate, ["--entities", "50", "--out", str(out)])
    assert too_small.exit_code == 2 and "50 is not in the range x>=100" in too_small.output
