"""The synthetic generator: deterministic for a seed, writes the CSV convention, loads cleanly."""
from __future__ import annotations

import csv
import filecmp
from collections import Counter

import pytest

from bench import synthetic
from kb import db
from kb.schema import schema
from loaders import csv as csv_loader
from loaders import pipeline
from tests.conftest import graph_counts

ENTITIES, RELATIONS = 400, 1500


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    return out, synthetic.generate(ENTITIES, RELATIONS, 11, out)


def rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def test_counts_are_as_asked(generated):
    out, summary = generated
    assert (summary["entities"], summary["relations"]) == (ENTITIES, RELATIONS), summary
    assert set(summary["entity_counts"]) == set(schema().entities), summary["entity_counts"]
    assert set(summary["relation_counts"]) == set(schema().relations), summary["relation_counts"]


def test_same_seed_same_files_other_seed_other_files(generated, tmp_path):
    out, summary = generated
    again = synthetic.generate(ENTITIES, RELATIONS, 11, tmp_path / "again")
    other = synthetic.generate(ENTITIES, RELATIONS, 12, tmp_path / "other")
    assert again == summary
    _, mismatch, errors = filecmp.cmpfiles(out, tmp_path / "again", summary["files"], shallow=False)
    assert (mismatch, errors) == ([], []), (mismatch, errors)
    differing = filecmp.cmpfiles(out, tmp_path / "other", other["files"], shallow=False)[1]
    assert differing, "another seed gave the same files"


def test_files_follow_the_convention(generated):
    out, summary = generated
    for name in summary["files"]:
        header, data = rows(out / name)
        if name.startswith("nodes_"):
            assert header[:2] == ["id:ID", ":LABEL"], (name, header)
            labels = {row[1] for row in data}
            assert len(labels) == 1 and labels <= set(schema().entities), (name, labels)
            declared = schema().entities[labels.pop()].properties
        else:
            assert name.startswith("relationships_") and header[:3] == [":START_ID", ":END_ID", ":TYPE"], name
            types = {row[2] for row in data}
            assert len(types) == 1 and types <= set(schema().relations), (name, types)
            declared = schema().relations[types.pop()].properties
        properties = [h.split(":")[0] for h in header if not h.startswith(":") and h != "id:ID"]
        assert set(properties) <= set(declared), (name, set(properties) - set(declared))
        if "sources" in declared:
            at = header.index("sources:string[]")
            assert all(row[at] for row in data), f"{name}: a row cites no source"


def test_every_tie_is_unique_and_offices_have_roles(generated):
    out, summary = generated
    ties = Counter()
    for name in summary["files"]:
        if name.startswith("relationships_"):
            header, data = rows(out / name)
            role = header.index("role") if "role" in header else None
            for row in data:
                ties[(row[0], row[2], row[1], row[role] if role is not None else None)] += 1
                if row[2] == "HOLDS_OFFICE":
                    assert row[role], f"{name}: HOLDS_OFFICE without a role: {row}"
    assert max(ties.values()) == 1, [t for t, n in ties.items() if n > 1][:5]


def test_degrees_are_heavy_tailed(generated):
    out, summary = generated
    degree = Counter()
    for name in summary["files"]:
        if name.startswith("relationships_"):
            for row in rows(out / name)[1]:
                degree[row[0]] += 1
                degree[row[1]] += 1
    mean = sum(degree.values()) / len(degree)
    top = degree.most_common(30)
    assert top[0][1] > 10 * mean, (top[:5], mean)
    assert {"city-0", "co-0"} <= {entity for entity, _ in top}, top


def test_output_loads_with_the_csv_loader(empty_db, generated):
    out, summary = generated
    report = pipeline.load(csv_loader.reader([out]), show_progress=False)
    assert (report.entities, report.relations) == (ENTITIES, RELATIONS), report.describe()
    assert graph_counts() == (ENTITIES, RELATIONS)
    pipeline.load(csv_loader.reader([out]), show_progress=False)
    assert graph_counts() == (ENTITIES, RELATIONS), "a second load changed the graph"
    foshan = db.read("MATCH (c:City {id: 'city-0'}) RETURN c.name AS name, c.search_keys AS keys")[0]
    assert foshan["name"] == "Foshan" and "foshan" in foshan["keys"], dict(foshan)
