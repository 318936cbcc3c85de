import pytest

from kb.errors import SchemaError
from kb.schema import coerce, parse, schema, Property

SEED_TYPES = {"Country", "Region", "City", "Organization", "Company", "Person", "Event", "Document", "Source"}


def test_project_schema_declares_the_seed_types():
    assert SEED_TYPES <= set(schema().entities)
    for relation in schema().relations.values():
        assert relation.sources and relation.targets, relation.name
        assert "sources" in relation.properties and relation.properties["sources"].required, relation.name


def test_sources_do_not_cite_themselves():
    assert "sources" not in schema().entity("Source").properties
    assert schema().entity("City").properties["sources"].required


@pytest.mark.parametrize("document, fault", [
    ({"entities": {"City": {"properties": {"size": {"type": "bigint"}}}}}, "type must be one of"),
    ({"entities": {"Bad Name": {}}}, "not a valid name"),
    ({"entities": {"City": {}}, "relations": {"IN": {"from": ["City"], "to": ["Planet"]}}}, "unknown or missing"),
    ({"entities": {"City": {}}, "relations": {"IN": {"from": ["City"]}}}, "unknown or missing"),
    ({"entities": {"City": {}}, "relations": {"IN": {"from": ["City"], "to": ["City"], "key": "role"}}},
     "must be a required property"),
    ({"entities": {"City": {}, "Firm": {}}, "relations": {"TWIN": {"from": ["City"], "to": ["Firm"], "symmetric": True}}},
     "same types at both ends"),
    ({"entities": {"Entity": {}}}, "reserved"),
    ({"entities": {"LoadInProgress": {}}}, "reserved for the node that orders"),
])
def test_broken_schema_is_refused_with_the_part_named(document, fault):
    with pytest.raises(SchemaError, match=fault):
        parse(document)


@pytest.mark.parametrize("prop_type, raw, expected", [
    ("int", "43", 43), ("float", "540", 540.0), ("boolean", "true", True), ("date", "2019", "2019"),
    ("date", "2016-05-31", "2016-05-31"), ("string[]", "one", ["one"]), ("string[]", ["a", 2], ["a", "2"]),
])
def test_values_are_coerced_to_the_schema_type(prop_type, raw, expected):
    assert coerce(Property("p", prop_type), raw) == expected


@pytest.mark.parametrize("prop_type, raw", [
    ("int", "forty"), ("int", 4.5), ("float", "n/a"), ("boolean", "maybe"), ("date", "2019-13"),
    ("date", "2019-02-30"), ("date", "19.05.2019"), ("string", ["a"]),
])
def test_bad_values_are_refused(prop_type, raw):
    with pytest.raises(ValueError):
        coerce(Property("p", prop_type), raw)
