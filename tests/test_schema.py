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


ENTITY_PROPERTIES = schema().entity("Company").properties


@pytest.mark.parametrize("name, raw, expected", [
    ("wikidata_id", "Q64", "Q64"), ("wikidata_id", " Q1009145 ", "Q1009145"),
    ("lei", "5493001KJTIIGC8Y1R12", "5493001KJTIIGC8Y1R12"), ("lei", "529900t8bm49aursdo55", "529900T8BM49AURSDO55"),
    ("lei", "7LTWFZYICNSX8D621K86", "7LTWFZYICNSX8D621K86"),
])
def test_external_ids_pass_their_format(name, raw, expected):
    assert coerce(ENTITY_PROPERTIES[name], raw) == expected


@pytest.mark.parametrize("name, raw, reason", [
    ("wikidata_id", "64", "Q followed by digits"), ("wikidata_id", "Q064", "Q followed by digits"),
    ("wikidata_id", "P190", "Q followed by digits"), ("wikidata_id", "Q64x", "Q followed by digits"),
    ("lei", "5493001KJTIIGC8Y1R13", "check digits are wrong"),      # last digit changed
    ("lei", "5493001KJTIIGC8Y1R21", "check digits are wrong"),      # check digits swapped
    ("lei", "5493001KJTIJGC8Y1R12", "check digits are wrong"),      # one letter changed
    ("lei", "5493001KJTIIGC8Y1R1", "18 letters or digits"), ("lei", "5493001KJTIIGC8Y1RAB", "18 letters or digits"),
    ("lei", "5493001KJTIIGC8Y-R12", "18 letters or digits"),
])
def test_external_ids_failing_their_format_are_refused(name, raw, reason):
    with pytest.raises(ValueError, match=reason):
        coerce(ENTITY_PROPERTIES[name], raw)


@pytest.mark.parametrize("spec", [{"type": "string", "format": "isbn"}, {"type": "int", "format": "lei"}])
def test_a_format_the_schema_does_not_know_is_refused(spec):
    with pytest.raises(SchemaError, match="format must be one of"):
        parse({"entities": {"Company": {"properties": {"code": spec}}}})


LABEL = {"en": "in", "de": "in", "zh": "在"}
ONE_SOURCE = {"Source": {"cited": False}}


def test_every_type_has_its_display_in_every_language():
    for entity in schema().entities.values():
        assert set(entity.caption) == {"en", "de", "zh"} and entity.shape, entity.name
    for relation in schema().relations.values():
        assert set(relation.label) == {"en", "de", "zh"}, relation.name
        assert relation.name not in relation.label.values(), f"{relation.name}: shown by its raw name"
    for language in ("en", "de", "zh"):
        labels = [relation.label[language] for relation in schema().relations.values()]
        assert len(set(labels)) == len(labels), f"two relation types share a label in {language}: a tie would be ambiguous"
    assert schema().relation_label("HEADQUARTERED_IN", "de") == "Hauptsitz in"
    assert schema().relation_label("HEADQUARTERED_IN", "zh") == "总部位于"


@pytest.mark.parametrize("relation, fault", [
    ({"from": ["City"], "to": ["City"]}, r"relations.IN.label: required"),
    ({"from": ["City"], "to": ["City"], "label": {"en": "in", "de": "in"}}, r"relations.IN.label: missing the text in zh"),
    ({"from": ["City"], "to": ["City"], "label": {**LABEL, "fr": "à"}}, "unknown language 'fr'"),
    ({"from": ["City"], "to": ["City"], "label": LABEL, "color": "blue"}, r"relations.IN.color: 'blue' is not a colour"),
    ({"from": ["City"], "to": ["City"], "label": LABEL, "dash": "yes"}, r"relations.IN.dash"),
])
def test_a_relation_without_its_display_is_refused(relation, fault):
    with pytest.raises(SchemaError, match=fault):
        parse({"entities": {"City": {}, **ONE_SOURCE}, "relations": {"IN": relation}})


@pytest.mark.parametrize("entity, fault", [
    ({"shape": "blob"}, r"entities.City.shape: 'blob' is not one of"),
    ({"caption": {"en": "City"}}, r"entities.City.caption: missing the text in de, zh"),
    ({"color": "#12345"}, r"entities.City.color"),
])
def test_an_entity_type_with_a_broken_display_is_refused(entity, fault):
    with pytest.raises(SchemaError, match=fault):
        parse({"entities": {"City": entity, **ONE_SOURCE}})
