"""The map's data: the places that carry coordinates (City and Region, `lat` and `lon`) and the ties
between them. A tie is drawn between two places when each of its ends is a place with coordinates or
is headquartered in one (a firm's plant in Changchun is drawn from its head office in Wolfsburg);
ties of one end to its own place (a firm to its head office, a city to its province) are not drawn."""
from __future__ import annotations

from dataclasses import dataclass, field

from kb import db
from kb.in_force import NOT_IN_FORCE, in_force
from kb.names import entity_name
from kb.schema import ENTITY_LABEL, LANGUAGES, schema

PLACE_TYPES = ("City", "Region")
# What places the other ties: a firm stands where its head office is. Ties of a place to the place that
# contains it, or of a firm to its home, are where things are, not ties between places.
ANCHOR = "HEADQUARTERED_IN"
NOT_DRAWN = ("LOCATED_IN", "HEADQUARTERED_IN", "FOUNDED_IN", "HOME_COUNTRY", "MENTIONS")

# One read per place type, so that each is a label scan of its own and not of every entity; at most
# $limit rows.
PLACES_QUERY = "CALL () { " + " UNION ALL ".join(
    f"MATCH (p:`{place_type}`) WHERE p.lat IS NOT NULL AND p.lon IS NOT NULL RETURN p, '{place_type}' AS type"
    for place_type in PLACE_TYPES) + " } WITH p, type LIMIT $limit " \
    "RETURN p.id AS id, p.name AS name, p.aliases AS aliases, type, p.country AS country, p.lat AS lat, p.lon AS lon"
# The places at the ends of the arcs drawn, when there are too many places to draw them all.
PLACES_BY_ID_QUERY = (
    f"UNWIND $ids AS place_id MATCH (p:{ENTITY_LABEL} {{id: place_id}}) "
    "RETURN p.id AS id, p.name AS name, p.aliases AS aliases, [l IN labels(p) WHERE l IN $types][0] AS type, "
    "p.country AS country, p.lat AS lat, p.lon AS lon"
)


def _standing(entity: str) -> str:
    """Where an entity stands: itself when it is a place with coordinates (only places carry them), else
    its head office when that has coordinates; null when neither."""
    return (f"CASE WHEN {entity}.lat IS NOT NULL THEN {entity} ELSE "
            f"head([({entity})-[:`{ANCHOR}`]->(o:{ENTITY_LABEL}) WHERE o.lat IS NOT NULL | o]) END")


def _named_end(end: str) -> str:
    """What names a tie's end in each language: its name, aliases, type and country."""
    return f"[coalesce({end}.name, {end}.id), {end}.aliases, [l IN labels({end}) WHERE l IN $entity_types][0], {end}.country]"


# Read from the ties of the types asked for (a scan of those types, not of every entity), and summed up in
# the database: per pair of places and relation type, how many ties, how many never held and a few to name.
# A symmetric type's pair is put in id order so that both directions make one arc. Ties whose far end
# stands nowhere are counted (unplaced), as are all arcs, but only the max_arcs largest are returned.
TIES_QUERY = (
    "MATCH (a:{entity})-[r:{types}]->(b:{entity}) WHERE {in_force} WITH a, r, b LIMIT $max_ties "
    "WITH collect([a, r, b]) AS found UNWIND found AS tie WITH size(found) AS read, tie[0] AS a, tie[1] AS r, tie[2] AS b "
    f"WITH read, a, r, b, {_standing('a')} AS at_a "
    f"WITH read, a, r, b, at_a, CASE WHEN at_a IS NOT NULL THEN {_standing('b')} END AS at_b "
    # A tie from a start that stands nowhere, or within one place, falls into a group without a start that is
    # neither drawn nor counted; kept, not filtered out, so that a row (and `read`) is left when all are such.
    "WITH read, a, r, b, at_b, CASE WHEN at_b IS NULL OR at_a <> at_b THEN at_a END AS at_a "
    "WITH read, a, r, b, type(r) IN $symmetric AND at_b IS NOT NULL AND at_b.id < at_a.id AS turned, at_a, at_b "
    "WITH read, CASE WHEN turned THEN at_b.id ELSE at_a.id END AS start_id, "
    "CASE WHEN turned THEN at_a.id ELSE at_b.id END AS end_id, type(r) AS type, "
    "count(*) AS ties, sum(CASE WHEN r.status IN $never_held THEN 1 ELSE 0 END) AS never_held, "
    "collect([a, b, r.since, r.status])[..$named] AS named "
    "ORDER BY ties DESC, type, start_id, end_id "
    "WITH read, collect(CASE WHEN start_id IS NOT NULL AND end_id IS NOT NULL THEN {{start: start_id, end: end_id, "
    "type: type, ties: ties, never_held: never_held, named: named}} END) AS arcs, "
    "sum(CASE WHEN start_id IS NOT NULL AND end_id IS NULL THEN ties ELSE 0 END) AS unplaced "
    # The names of the ties' ends are read for the arcs returned only, not for every tie summed up.
    "RETURN [arc IN arcs[..$max_arcs] | arc {{.start, .end, .type, .ties, .never_held, named: "
    f"[tie IN arc.named | [{_named_end('tie[0]')}, {_named_end('tie[1]')}, tie[2], tie[3]]]}}}}] AS arcs, "
    "size(arcs) AS arc_count, "
    "reduce(total = 0, arc IN arcs | total + arc.ties) AS tie_count, unplaced, read"
)
# Ties read at most, like the node cap of a neighbourhood: on a graph of millions of ties, a map of every
# type would sum up half of them (tens of seconds, more memory than a transaction may take). The page
# says when the cap bit; a relation type or a year chosen reads fewer.
MAX_TIES = 50_000
# The most tied pairs are drawn: a map of a large graph would be a blot of thousands of arcs, and its
# page megabytes.
MAX_ARCS = 600
# Places drawn at most whether tied or not; beyond, only those at the ends of the drawn arcs (a graph of
# 10,000 cities would be a page of megabytes of dots).
MAX_PLACES = 2000
# Ties named per arc (in its tooltip and table row); the rest are counted.
NAMED_TIES = 12


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    type: str
    country: str | None
    lat: float
    lon: float
    aliases: tuple = ()

    def shown_name(self, language: str = LANGUAGES[0]) -> str:
        """Its name in the language where it has one (kb.names.entity_name), as Explore names it."""
        return entity_name(self.name, self.aliases, self.type, self.country, language)


@dataclass
class Arc:
    """The ties of one relation type between two places (in id order when the type is symmetric)."""
    start: str
    end: str
    type: str
    count: int                                 # how many ties
    ties: list = field(default_factory=list)   # "Volkswagen → FAW-Volkswagen (1991)", the first NAMED_TIES
    never_held: int = 0                        # of them, plans and failed deals (kb.in_force.NOT_IN_FORCE)

    @property
    def only_never_held(self) -> bool:
        """Every tie of the arc a plan or a deal that did not close (blocked, withdrawn ...)."""
        return self.never_held == self.count


@dataclass
class MapData:
    places: dict            # id -> Place, every place with coordinates
    arcs: list              # Arc, largest first, the MAX_ARCS largest
    unplaced: int = 0       # ties of the types asked for from a drawn place to an entity without one
    arc_count: int = 0      # arcs in all, drawn or not
    tie_count: int = 0      # ties in all the arcs, drawn or not
    capped: bool = False    # MAX_TIES ties were read and more may exist: the counts are of those read
    all_places: bool = True  # every place with coordinates, or (more than MAX_PLACES) only the arcs' ends

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


def map_data(relation_types=None, year: int | None = None, undated: bool = True,
             language: str = LANGUAGES[0]) -> MapData:
    """Places with coordinates and the ties between them, of relation_types (default: every drawable
    type), in force in year when one is given (undated ties too unless undated is false); the ties an arc
    names are written in the language. Every place when there are at most MAX_PLACES, else those at the
    ends of the arcs drawn."""
    chosen = [schema().relation(name).name for name in relation_types] if relation_types else drawable_relations()
    found = MapData(_places(db.read(PLACES_QUERY, limit=MAX_PLACES + 1)), [])
    if not found.places:
        return found
    query = TIES_QUERY.format(entity=ENTITY_LABEL, types="|".join(f"`{name}`" for name in chosen),
                              in_force=in_force("r"))
    symmetric = [name for name in chosen if schema().relation(name).symmetric]
    summaries = db.read(query, symmetric=symmetric, never_held=list(NOT_IN_FORCE), named=NAMED_TIES,
                        entity_types=list(schema().entities),
                        max_arcs=MAX_ARCS, max_ties=MAX_TIES, year=year, undated=undated)
    if summaries:  # none when no tie of those types exists
        summary = summaries[0]
        found.arcs = [Arc(arc["start"], arc["end"], arc["type"], arc["ties"],
                          [_tie_text(*named, language) for named in arc["named"]], arc["never_held"])
                      for arc in summary["arcs"]]
        found.unplaced, found.arc_count, found.tie_count = summary["unplaced"], summary["arc_count"], summary["tie_count"]
        found.capped = summary["read"] == MAX_TIES
    if len(found.places) > MAX_PLACES:
        ends = sorted({place for arc in found.arcs for place in (arc.start, arc.end)})
        found.places = _places(db.read(PLACES_BY_ID_QUERY, ids=ends, types=list(PLACE_TYPES)))
        found.all_places = False
    return found


def _places(records) -> dict:
    return {r["id"]: Place(r["id"], r["name"] or r["id"], r["type"], r["country"], float(r["lat"]), float(r["lon"]),
                           tuple(r["aliases"] or ()))
            for r in records}


def _tie_text(start: list, end: list, since, status, language: str) -> str:
    """A tie as a line (Volkswagen → FAW-Volkswagen (1991)), its ends (name, aliases, type, country) named in the
    language."""
    start_name, end_name = (entity_name(name, aliases or (), entity_type, country, language)
                            for name, aliases, entity_type, country in (start, end))
    details = ", ".join(str(part) for part in (since, status) if part)
    return f"{start_name} → {end_name}" + (f" ({details})" if details else "")
