"""The map's data: the places that carry coordinates (City and Region, `lat` and `lon`) and the ties
between them. A tie is drawn between two places when each of its ends is a place with coordinates or
is headquartered in one (a firm's plant in Changchun is drawn from its head office in Wolfsburg);
ties of one end to its own place (a firm to its head office, a city to its province) are not drawn."""
from __future__ import annotations

from dataclasses import dataclass, field

from kb import db
from kb.in_force import NOT_IN_FORCE, in_force
from kb.schema import ENTITY_LABEL, schema

PLACE_TYPES = ("City", "Region")
# What places the other ties: a firm stands where its head office is. Ties of a place to the place that
# contains it, or of a firm to its home, are where things are, not ties between places.
ANCHOR = "HEADQUARTERED_IN"
NOT_DRAWN = ("LOCATED_IN", "HEADQUARTERED_IN", "FOUNDED_IN", "HOME_COUNTRY", "MENTIONS")

PLACES_QUERY = (
    f"MATCH (p:{ENTITY_LABEL}) WHERE (p:City OR p:Region) AND p.lat IS NOT NULL AND p.lon IS NOT NULL "
    "RETURN p.id AS id, p.name AS name, [l IN labels(p) WHERE l IN $types][0] AS type, p.country AS country, "
    "p.lat AS lat, p.lon AS lon"
)
# Entities that stand at a place: the place itself, and whatever has its head office there.
ANCHORED_QUERY = (
    f"UNWIND $places AS place_id MATCH (p:{ENTITY_LABEL} {{id: place_id}}) "
    "RETURN p.id AS id, p.id AS place, p.name AS name "
    "UNION ALL "
    f"UNWIND $places AS place_id MATCH (x:{ENTITY_LABEL})-[:`{ANCHOR}`]->(p:{ENTITY_LABEL} {{id: place_id}}) "
    "RETURN x.id AS id, p.id AS place, x.name AS name"
)
# The ties out of every anchored entity, of the types asked for and in force as asked; the far end
# is checked against the anchored ids here, in Python's set, not in Cypher.
TIES_QUERY = (
    f"UNWIND $ids AS anchored_id MATCH (a:{ENTITY_LABEL} {{id: anchored_id}})-[r]->(b:{ENTITY_LABEL}) "
    f"WHERE type(r) IN $relation_types AND {in_force('r')} "
    "RETURN a.id AS start, b.id AS end, b.name AS end_name, type(r) AS type, r.since AS since, "
    "r.status AS status"
)


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    type: str
    country: str | None
    lat: float
    lon: float


@dataclass
class Arc:
    """The ties of one relation type between two places (in id order when the type is symmetric)."""
    start: str
    end: str
    type: str
    ties: list = field(default_factory=list)   # "Volkswagen → FAW-Volkswagen (1991)", one per tie
    never_held: int = 0                        # of them, plans and failed deals (kb.in_force.NOT_IN_FORCE)

    @property
    def count(self) -> int:
        return len(self.ties)

    @property
    def only_never_held(self) -> bool:
        """Every tie of the arc a plan or a deal that did not close (blocked, withdrawn ...)."""
        return self.never_held == self.count


@dataclass
class MapData:
    places: dict            # id -> Place, every place with coordinates
    arcs: list              # Arc, largest first
    unplaced: int = 0       # ties of the types asked for from a drawn place to an entity without one

    def tie_counts(self) -> dict:
        """Place id -> how many drawn ties end there."""
        counts = dict.fromkeys(self.places, 0)
        for arc in self.arcs:
            counts[arc.start] += arc.count
            counts[arc.end] += arc.count
        return counts

    def relation_types(self) -> list[str]:
        return sorted({arc.type for arc in self.arcs})


def drawable_relations() -> list[str]:
    """The relation types a map can draw: every type of the schema but those that say where a thing is."""
    return sorted(name for name in schema().relations if name not in NOT_DRAWN)


def map_data(relation_types=None, year: int | None = None, undated: bool = True) -> MapData:
    """Places with coordinates and the ties between them, of relation_types (default: every drawable
    type), in force in year when one is given (undated ties too unless undated is false)."""
    chosen = [schema().relation(name).name for name in relation_types] if relation_types else drawable_relations()
    places = {}
    for r in db.read(PLACES_QUERY, types=list(PLACE_TYPES)):
        places[r["id"]] = Place(r["id"], r["name"] or r["id"], r["type"], r["country"], float(r["lat"]),
                                float(r["lon"]))
    found = MapData(places, [])
    if not places:
        return found
    where, names = {}, {}
    for r in db.read(ANCHORED_QUERY, places=list(places)):
        where.setdefault(r["id"], r["place"])
        names[r["id"]] = r["name"]
    arcs = {}
    for r in db.read(TIES_QUERY, ids=list(where), relation_types=chosen, year=year, undated=undated):
        start, end = where[r["start"]], where.get(r["end"])
        if end is None:
            found.unplaced += 1
            continue
        if start == end:
            continue
        if schema().relation(r["type"]).symmetric:
            start, end = sorted((start, end))
        arc = arcs.setdefault((start, end, r["type"]), Arc(start, end, r["type"]))
        arc.never_held += r["status"] in NOT_IN_FORCE
        arc.ties.append(_tie_text(names.get(r["start"], r["start"]), r["end_name"] or r["end"], r["since"],
                                  r["status"]))
    found.arcs = sorted(arcs.values(), key=lambda arc: (-arc.count, arc.type, arc.start, arc.end))
    return found


def _tie_text(start: str, end: str, since, status) -> str:
    details = ", ".join(str(part) for part in (since, status) if part)
    return f"{start} → {end}" + (f" ({details})" if details else "")
