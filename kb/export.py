"""Export the whole graph as JSON lines, import-convention CSV (loads back) or GraphML."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from networkx.readwrite.graphml import GraphML

from kb import db, types
from kb.schema import ENTITY_LABEL, schema
from kb.subgraph import HIDDEN_PROPERTIES

FORMATS = ("jsonl", "csv", "graphml")

ENTITIES_QUERY = (f"MATCH (n:{ENTITY_LABEL}) RETURN [l IN labels(n) WHERE l <> '{ENTITY_LABEL}'][0] AS type, "
                  "properties(n) AS props ORDER BY n.id")
RELATIONS_QUERY = (f"MATCH (a:{ENTITY_LABEL})-[r]->(b:{ENTITY_LABEL}) RETURN elementId(r) AS rid, type(r) AS type, "
                   "a.id AS start, b.id AS end, properties(r) AS props ORDER BY start, type, end")


def _stream(query: str, handle_record) -> int:
    """Feed every record of a read query to handle_record inside one read transaction."""
    def work(tx):
        count = 0
        for record in tx.run(query):
            handle_record(record)
            count += 1
        return count
    return db.read_tx(work)


def _shown(props: dict) -> dict:
    return {k: v for k, v in props.items() if k not in HIDDEN_PROPERTIES}


def export(fmt: str, out: Path) -> dict:
    """Write the graph to out (a file, or a folder for csv); returns the counts written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return {"jsonl": _jsonl, "csv": _csv, "graphml": _graphml}[fmt](Path(out))


def _jsonl(out: Path) -> dict:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        def entity(r):
            handle.write(json.dumps({"kind": "entity", "type": r["type"], "properties": _shown(r["props"])},
                                    ensure_ascii=False) + "\n")

        def relation(r):
            handle.write(json.dumps({"kind": "relation", "type": r["type"], "start": r["start"], "end": r["end"],
                                     "properties": dict(r["props"])}, ensure_ascii=False) + "\n")
        return {"entities": _stream(ENTITIES_QUERY, entity), "relations": _stream(RELATIONS_QUERY, relation)}


class _CsvWriters:
    """One open CSV file per entity or relation type, created with its header on first use."""

    def __init__(self, folder: Path, prefix: str, specials: list[str], declared: dict):
        self.folder, self.prefix, self.specials, self.declared = folder, prefix, specials, declared
        self.files, self.writers = {}, {}

    def writer(self, type_name: str):
        if type_name not in self.writers:
            props = [p for p in self.declared[type_name].properties.values() if p.name != "id"]
            handle = open(self.folder / f"{self.prefix}_{type_name}.csv", "w", newline="", encoding="utf-8")
            self.files[type_name] = handle
            writer = csv.writer(handle)
            writer.writerow(self.specials + [types.header_field(p.name, p.type) for p in props])
            self.writers[type_name] = (writer, [p.name for p in props])
        return self.writers[type_name]

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def _csv(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    nodes = _CsvWriters(out, "nodes", ["id:ID", ":LABEL"], schema().entities)
    relationships = _CsvWriters(out, "relationships", [":START_ID", ":END_ID", ":TYPE"], schema().relations)

    def entity(r):
        writer, names = nodes.writer(r["type"])
        writer.writerow([r["props"]["id"], r["type"]] + [types.csv_cell(r["props"].get(n)) for n in names])

    def relation(r):
        writer, names = relationships.writer(r["type"])
        writer.writerow([r["start"], r["end"], r["type"]] + [types.csv_cell(r["props"].get(n)) for n in names])
    try:
        return {"entities": _stream(ENTITIES_QUERY, entity), "relations": _stream(RELATIONS_QUERY, relation)}
    finally:
        nodes.close()
        relationships.close()


def _graphml_keys(kind: str, declared: dict) -> dict:
    """GraphML attribute keys: one per property name across the given types, plus the type itself."""
    keys = {"type": "string"}
    for type_ in declared.values():
        for prop in type_.properties.values():
            keys.setdefault(prop.name, types.of(prop.type).graphml)
    return {name: (f"{kind[0]}_{name}", graphml_type) for name, graphml_type in keys.items()}


def _graphml_value(value) -> str:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)  # GraphML has no list type
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _graphml_data(keys: dict, values: dict) -> str:
    return "".join(f"<data key={quoteattr(keys[name][0])}>{escape(_graphml_value(value))}</data>"
                   for name, value in values.items() if name in keys and value is not None)


def _graphml(out: Path) -> dict:
    out.parent.mkdir(parents=True, exist_ok=True)
    node_keys = _graphml_keys("node", schema().entities)
    edge_keys = _graphml_keys("edge", schema().relations)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="{GraphML.NS_GRAPHML}">\n')
        for kind, keys in (("node", node_keys), ("edge", edge_keys)):
            for name, (key_id, graphml_type) in keys.items():
                handle.write(f'<key id="{key_id}" for="{kind}" attr.name="{name}" attr.type="{graphml_type}"/>\n')
        handle.write('<graph id="sino-german-ties" edgedefault="directed">\n')

        def entity(r):
            values = {"type": r["type"], **_shown(r["props"])}
            handle.write(f"<node id={quoteattr(r['props']['id'])}>{_graphml_data(node_keys, values)}</node>\n")

        def relation(r):
            values = {"type": r["type"], **r["props"]}
            handle.write(f"<edge id={quoteattr(r['rid'])} source={quoteattr(r['start'])} "
                         f"target={quoteattr(r['end'])}>{_graphml_data(edge_keys, values)}</edge>\n")
        counts = {"entities": _stream(ENTITIES_QUERY, entity), "relations": _stream(RELATIONS_QUERY, relation)}
        handle.write("</graph>\n</graphml>\n")
    return counts
