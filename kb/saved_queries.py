"""Saved queries researchers run often; each is plain read-only Cypher with named parameters."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from kb.in_force import in_force

# What a saved query that takes a year adds to its parameters: no year (every tie), undated ties kept.
# `kb query NAME --year Y --undated hide` sets them.
YEAR_PARAMS = {"year": None, "undated": True}


def parameter_value(text: str):
    """A parameter value as typed (on the command line, in a form or a URL): JSON if it reads as JSON,
    so `5` is a number and `["a"]` a list, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class SavedQuery:
    name: str
    title: str
    cypher: str
    params: dict = field(default_factory=dict)   # name -> default value
    # Whether the query keeps only the ties in force in $year (its Cypher holds in_force of its tie r).
    takes_year: bool = False

    def __post_init__(self):
        if self.takes_year:
            object.__setattr__(self, "params", {**self.params, **YEAR_PARAMS})

    def param_texts(self) -> dict:
        """The default values as typed in a form or a URL: text as it is, anything else as JSON
        (parameter_value reads them back)."""
        return {name: value if isinstance(value, str) else json.dumps(value) for name, value in self.params.items()}


SAVED_QUERIES = [
    SavedQuery(
        "german-firms-chinese-owners", "German firms owned or acquired by Chinese firms",
        "MATCH (buyer:Company)-[r:OWNS|ACQUIRED]->(firm:Company) "
        f"WHERE buyer.country = 'CN' AND firm.country = 'DE' AND {in_force('r')} "
        "RETURN buyer.name AS owner, type(r) AS tie, firm.name AS german_firm, r.since AS since, "
        "r.until AS until, r.sources AS sources ORDER BY owner, german_firm LIMIT 500", takes_year=True),
    SavedQuery(
        "alliance-members", "Members of a city alliance and since when",
        f"MATCH (m)-[r:MEMBER_OF]->(o:Organization {{id: $organization}}) WHERE {in_force('r')} "
        "RETURN m.name AS member, m.country AS country, r.since AS since, r.founding AS founding, "
        "r.sources AS sources ORDER BY since, member LIMIT 500",
        {"organization": "org-sgica"}, takes_year=True),
    SavedQuery(
        "who-met-whom", "Who met whom at which event",
        "MATCH (a:Person)-[:PARTICIPATED_IN|SPOKE_AT]->(e:Event)<-[:PARTICIPATED_IN|SPOKE_AT]-(b:Person) "
        "WHERE a.id < b.id "
        "RETURN e.name AS event, e.date AS date, a.name AS person, b.name AS met ORDER BY date, event, person "
        "LIMIT 500"),
    SavedQuery(
        "located-in-region", "Everything located in a region (directly or through its cities)",
        "MATCH (region:Entity {id: $region}) "
        "MATCH (x)-[:LOCATED_IN|HELD_IN|HEADQUARTERED_IN|PRODUCTION_BASE_IN*1..3]->(region) "
        "RETURN DISTINCT x.name AS name, [l IN labels(x) WHERE l <> 'Entity'][0] AS type, x.id AS id "
        "ORDER BY type, name LIMIT 500",
        {"region": "region-guangdong"}),
    SavedQuery(
        "city-ties", "All ties of a city",
        f"MATCH (c:City {{id: $city}})-[r]-(other) WHERE {in_force('r')} "
        "RETURN type(r) AS tie, startNode(r) = c AS outgoing, other.name AS other, "
        "[l IN labels(other) WHERE l <> 'Entity'][0] AS other_type, r.since AS since, r.until AS until, "
        "r.sources AS sources ORDER BY tie, other LIMIT 500",
        {"city": "city-foshan"}, takes_year=True),
    SavedQuery(
        "sister-cities", "Sister cities of a city, in both directions",
        f"MATCH (c:City {{id: $city}})-[r:SISTER_CITY_OF]-(twin:City) WHERE {in_force('r')} "
        "RETURN twin.name AS sister_city, twin.country AS country, twin.id AS id, r.since AS since, "
        "r.sources AS sources ORDER BY since, sister_city LIMIT 500",
        {"city": "city-wuhan"}, takes_year=True),
    SavedQuery(
        "chinese-acquisitions-by-year", "Chinese acquisitions of and stakes in German firms, by year",
        "MATCH (buyer:Company)-[r:ACQUIRED]->(target:Company) "
        "WHERE buyer.country = 'CN' AND target.country = 'DE' "
        "RETURN r.since AS year, buyer.name AS buyer, target.name AS german_firm, r.share AS share, "
        "r.status AS status, r.value_usd_m AS value_usd_m, r.sources AS sources "
        "ORDER BY year, buyer LIMIT 500"),
    SavedQuery(
        "german-ventures-in-province", "German firms' ventures and production bases in a Chinese province",
        "MATCH (region:Region {id: $region})<-[:LOCATED_IN*1..2]-(city:City) "
        "CALL (city) { "
        "MATCH (german:Company {country: 'DE'})-[r:PRODUCTION_BASE_IN]->(city) "
        "RETURN german, null AS venture, r "
        "UNION "
        "MATCH (german:Company {country: 'DE'})-[r:PARENT_OF]->(venture:Company)"
        "-[:PRODUCTION_BASE_IN|HEADQUARTERED_IN]->(city) "
        "RETURN german, venture, r } "
        "RETURN DISTINCT german.name AS german_firm, venture.name AS venture, city.name AS city, "
        "r.since AS since, r.share AS share, r.sources AS sources ORDER BY german_firm, city LIMIT 500",
        {"region": "region-guangdong"}),
]


def saved_query(name: str) -> SavedQuery:
    for query in SAVED_QUERIES:
        if query.name == name:
            return query
    raise KeyError(f"no saved query named {name!r}; known: {', '.join(q.name for q in SAVED_QUERIES)}")
