"""The schema as data: reads kb/schema.yaml once and answers every question about types."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml

from kb import types
from kb.errors import SchemaError
from kb.types import shown

SCHEMA_FILE = Path(__file__).with_name("schema.yaml")
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Computed at load time, never given in input; the loaders add them.
COMPUTED_PROPERTIES = ("search_keys", "search_text")
ENTITY_LABEL = "Entity"
# The languages every display text (a type's caption, a relation's label) is given in; the first is the default.
LANGUAGES = ("en", "de", "zh")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
# vis-network's shapes that draw the label under the node, so every type's node keeps one size.
SHAPES = ("dot", "square", "diamond", "triangle", "triangleDown", "star", "hexagon")
DEFAULT_COLOR = "#999999"
DEFAULT_EDGE_COLOR = "#888888"


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    required: bool = False
    values: tuple = ()
    help: str = ""
    format: str = ""        # a name of FORMATS: a string the format's check must accept
    link: str = ""          # where a value's record can be read: a URL with {} for the value


class _WithProperties:
    properties: dict

    @functools.cached_property
    def required(self) -> tuple:
        """The names of the required properties."""
        return tuple(name for name, prop in self.properties.items() if prop.required)


@dataclass(frozen=True)
class EntityType(_WithProperties):
    name: str
    color: str
    help: str
    properties: dict
    cited: bool = True
    shape: str = "dot"
    caption: dict = field(default_factory=dict)     # language -> how the type is called

    def shown(self, language: str) -> str:
        """The type's caption in the language (its name where the schema gives none)."""
        return self.caption.get(language) or self.name


@dataclass(frozen=True)
class RelationType(_WithProperties):
    name: str
    help: str
    sources: frozenset
    targets: frozenset
    properties: dict
    key: str | None = None
    symmetric: bool = False     # stored once, ends in id order; read in both directions
    label: dict = field(default_factory=dict)       # language -> display label ("headquartered in")
    color: str = DEFAULT_EDGE_COLOR
    dash: bool = False
    # The map draws few types at once and tells them by colour alone, so it takes a colour per type
    # where the drawings' colours go by family; None: the map picks one of its spare colours.
    map_color: str | None = None

    def shown(self, language: str) -> str:
        """The relation's display label in the language (English where that language has none)."""
        return self.label.get(language) or self.label.get(LANGUAGES[0]) or self.name


@dataclass(frozen=True)
class Schema:
    entities: dict = field(default_factory=dict)
    relations: dict = field(default_factory=dict)

    def entity(self, name: str) -> EntityType:
        """The entity type called name; SchemaError if the schema has none (the label allow-list)."""
        if name not in self.entities:
            raise SchemaError(f"unknown entity type {shown(name)}; known: {', '.join(sorted(self.entities))}")
        return self.entities[name]

    def relation(self, name: str) -> RelationType:
        """The relation type called name; SchemaError if the schema has none (the type allow-list)."""
        if name not in self.relations:
            raise SchemaError(f"unknown relation type {shown(name)}; known: {', '.join(sorted(self.relations))}")
        return self.relations[name]

    @functools.cached_property
    def source_type(self) -> str:
        """The entity type of the records that facts cite (the one not cited itself: Source)."""
        return next(name for name, entity in self.entities.items() if not entity.cited)

    @functools.cached_property
    def external_ids(self) -> tuple[str, ...]:
        """The entity properties that identify an entity outside the graph: those with a format."""
        return tuple(sorted({name for entity in self.entities.values()
                             for name, prop in entity.properties.items() if prop.format}))

    def color(self, entity_type: str) -> str:
        return self.entities[entity_type].color if entity_type in self.entities else DEFAULT_COLOR

    def relation_label(self, relation_type: str, language: str = LANGUAGES[0]) -> str:
        """How a relation type is shown (never its raw name when the schema knows it)."""
        known = self.relations.get(relation_type)
        return known.shown(language) if known else relation_type

    def entity_caption(self, entity_type: str, language: str = LANGUAGES[0]) -> str:
        known = self.entities.get(entity_type)
        return known.shown(language) if known else entity_type

    def links(self, entity_type: str, props: dict) -> list[tuple[str, str, str]]:
        """(property, value, URL) of each of the entity's values whose property declares a link."""
        declared = self.entities[entity_type].properties if entity_type in self.entities else {}
        return [(name, str(props[name]), prop.link.format(quote(str(props[name]), safe="")))
                for name, prop in declared.items() if prop.link and props.get(name)]


def _properties(raw, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: properties must be a mapping")
    props = {}
    for name, spec in raw.items():
        _check_name(name, where)
        if not isinstance(spec, dict) or spec.get("type") not in types.REGISTRY:
            raise SchemaError(f"{where}.{name}: type must be one of {', '.join(types.REGISTRY)}")
        format_name = spec.get("format", "")
        if format_name and (format_name not in FORMATS or spec["type"] != "string"):
            raise SchemaError(f"{where}.{name}: format must be one of {', '.join(FORMATS)}, on a string property")
        link = spec.get("link", "")
        if link and (not isinstance(link, str) or link.count("{}") != 1):
            raise SchemaError(f"{where}.{name}: link must be a URL with one {{}} for the value")
        props[name] = Property(name, spec["type"], bool(spec.get("required", False)),
                               tuple(spec.get("values", ())), spec.get("help", ""), format_name, link)
    return props


def _texts(raw, where: str, required: bool) -> dict:
    """A display text per language ({en: ..., de: ..., zh: ...}); SchemaError names what is missing."""
    if raw is None and not required:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: required, a mapping of {', '.join(LANGUAGES)} to text")
    missing = [language for language in LANGUAGES if not isinstance(raw.get(language), str) or not raw[language].strip()]
    if missing:
        raise SchemaError(f"{where}: missing the text in {', '.join(missing)}")
    unknown = sorted(set(raw) - set(LANGUAGES))
    if unknown:
        raise SchemaError(f"{where}: unknown language {unknown[0]!r} (known: {', '.join(LANGUAGES)})")
    return {language: raw[language].strip() for language in LANGUAGES}


def _color(raw, where: str, default: str) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or not COLOR_PATTERN.match(raw):
        raise SchemaError(f"{where}: {raw!r} is not a colour (#rrggbb)")
    return raw


def _check_name(name: str, where: str) -> None:
    # Names go into Cypher text as labels, types and keys, so only plain identifiers are allowed.
    if not NAME_PATTERN.match(str(name)):
        raise SchemaError(f"{where}: {name!r} is not a valid name (letters, digits, underscore)")


def parse(document: dict) -> Schema:
    """Build a Schema from the parsed YAML; SchemaError names the broken part."""
    common_entity = _properties(document.get("entity_properties"), "entity_properties")
    common_relation = _properties(document.get("relation_properties"), "relation_properties")
    entities = {}
    for name, spec in (document.get("entities") or {}).items():
        _check_name(name, "entities")
        spec = spec or {}
        props = dict(common_entity)
        cited = spec.get("cited", True)
        if not cited:
            props.pop("sources", None)
        props.update(_properties(spec.get("properties"), f"entities.{name}"))
        shape = spec.get("shape", "dot")
        if shape not in SHAPES:
            raise SchemaError(f"entities.{name}.shape: {shape!r} is not one of {', '.join(SHAPES)}")
        entities[name] = EntityType(name, _color(spec.get("color"), f"entities.{name}.color", DEFAULT_COLOR),
                                    spec.get("help", ""), props, cited, shape,
                                    _texts(spec.get("caption"), f"entities.{name}.caption", required=False))
    relations = {}
    for name, spec in (document.get("relations") or {}).items():
        _check_name(name, "relations")
        spec = spec or {}
        for end in ("from", "to"):
            unknown = [t for t in spec.get(end, []) if t not in entities]
            if unknown or not spec.get(end):
                raise SchemaError(f"relations.{name}.{end}: unknown or missing entity types {unknown}")
        props = dict(common_relation)
        props.update(_properties(spec.get("properties"), f"relations.{name}"))
        key = spec.get("key")
        if key is not None and (key not in props or not props[key].required):
            raise SchemaError(f"relations.{name}.key: {key!r} must be a required property of the relation")
        symmetric = bool(spec.get("symmetric", False))
        if symmetric and set(spec["from"]) != set(spec["to"]):
            raise SchemaError(f"relations.{name}.symmetric: a symmetric relation needs the same types at both ends")
        dash = spec.get("dash", False)
        if not isinstance(dash, bool):
            raise SchemaError(f"relations.{name}.dash: true (a dashed line) or false")
        relations[name] = RelationType(name, spec.get("help", ""), frozenset(spec["from"]), frozenset(spec["to"]),
                                       props, key, symmetric,
                                       _texts(spec.get("label"), f"relations.{name}.label", required=True),
                                       _color(spec.get("color"), f"relations.{name}.color", DEFAULT_EDGE_COLOR), dash,
                                       _color(spec.get("map_color"), f"relations.{name}.map_color", None))
    if ENTITY_LABEL in entities:
        raise SchemaError(f"entities: {ENTITY_LABEL!r} is reserved for the label every entity carries")
    if sum(1 for entity in entities.values() if not entity.cited) != 1:
        raise SchemaError("entities: exactly one type must be `cited: false`, the sources that facts cite")
    return Schema(entities, relations)


# libyaml's parser reads the schema in about a tenth of the pure-Python parser's CPU time: every command reads it.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, error: type[Exception]):
    """A data file of the project, parsed; error (one line naming the file) if it is not valid YAML."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML: {problem}") from None


@functools.lru_cache(maxsize=1)
def schema() -> Schema:
    """The project's schema, read once per process."""
    return parse(read_yaml(SCHEMA_FILE, SchemaError) or {})


def coerce(prop: Property, value):
    """The value converted to the property's type; ValueError says why it cannot be."""
    # Text already of the declared kind, the bulk of any file, needs no conversion.
    if type(value) is str and prop.type == "string" and not prop.values and not prop.format:
        return value
    property_type = types.of(prop.type)
    if property_type.is_list:
        return property_type.parse(value)
    if isinstance(value, (list, dict)):
        raise ValueError(f"expected a single {prop.type}, got {shown(value)}")
    converted = property_type.parse(value)
    if prop.values and converted not in prop.values:
        raise ValueError(f"{shown(converted)} is not one of {', '.join(prop.values)}")
    if prop.format:
        converted = FORMATS[prop.format](converted)
    return converted


WIKIDATA_ID = re.compile(r"^Q[1-9][0-9]*$")
LEI_PATTERN = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


def check_wikidata_id(text: str) -> str:
    """A Wikidata item id (Q followed by digits, no leading zero), returned as given; ValueError otherwise."""
    text = text.strip()
    if not WIKIDATA_ID.match(text):
        raise ValueError(f"{shown(text)} is not a Wikidata item id (Q followed by digits, e.g. Q64)")
    return text


def check_lei(text: str) -> str:
    """An ISO 17442 Legal Entity Identifier in upper case; ValueError unless its two check digits
    are right (ISO 7064 mod 97-10: letters count as 10 to 35, the whole number leaves 1 mod 97)."""
    text = text.strip().upper()
    if not LEI_PATTERN.match(text):
        raise ValueError(f"{shown(text)} is not a LEI (18 letters or digits, then 2 check digits)")
    if int("".join(str(int(ch, 36)) for ch in text)) % 97 != 1:
        raise ValueError(f"{shown(text)} is not a LEI: its check digits are wrong")
    return text


# Formats a string property may declare (`format:` in schema.yaml); each check returns the value
# to store or raises ValueError saying why it cannot be.
FORMATS = {"wikidata-id": check_wikidata_id, "lei": check_lei}
