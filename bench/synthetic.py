"""A synthetic graph shaped like the domain, for scale tests and benchmarks.

`generate(entities, relations, seed, out)` writes node and relationship CSV files in neo4j-admin
import's header convention (what loaders/csv.py reads): countries, regions, cities, firms with
ownership chains and joint ventures, people holding offices, events with participants, documents
and the sources every fact cites. Degrees are heavy-tailed: a few hubs (a Foshan, a Volkswagen)
draw a large share of the ties. The same arguments give byte-identical files.

Files stream row by row: besides the open file, only per-type counts and a few index lists per
country are kept. Derived facts (a city's country, a firm's head office) are functions of the
entity's index, so the node and relationship passes agree without remembering each other.
"""
from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from kb import types
from kb.errors import OutputFolderInUse
from kb.schema import schema

# Lists the files a run wrote: a later run into the same folder may replace those and nothing else
# (`kb export --format csv` writes files of the same names, which must not be lost).
MARK = ".kb-generated"

# (code, English name, other names); CN and DE first: they carry most of the graph.
COUNTRIES = [
    ("CN", "China", ["中国", "Volksrepublik China"]), ("DE", "Germany", ["Deutschland", "德国"]),
    ("FR", "France", ["法国"]), ("IT", "Italy", ["Italien"]), ("US", "United States", ["美国"]),
    ("JP", "Japan", ["日本"]), ("KR", "South Korea", ["Südkorea"]), ("GB", "United Kingdom", ["英国"]),
    ("NL", "Netherlands", ["Niederlande"]), ("AT", "Austria", ["Österreich"]), ("CH", "Switzerland", ["Schweiz"]),
    ("PL", "Poland", ["Polen"]), ("CZ", "Czechia", ["Tschechien"]), ("HU", "Hungary", ["Ungarn"]),
    ("ES", "Spain", ["Spanien"]), ("SE", "Sweden", ["Schweden"]), ("BR", "Brazil", ["Brasilien"]),
    ("IN", "India", ["Indien"]), ("VN", "Vietnam", ["越南"]), ("SG", "Singapore", ["新加坡"]),
]
# Share of places and firms per country: CN, DE, then the rest evenly.
COUNTRY_WEIGHTS = [0.45, 0.35] + [0.20 / (len(COUNTRIES) - 2)] * (len(COUNTRIES) - 2)

HUB_CITIES = [("Foshan", "佛山", "CN"), ("Wolfsburg", None, "DE"), ("Shanghai", "上海", "CN"),
              ("Göttingen", "哥廷根", "DE"), ("Shenyang", "沈阳", "CN"), ("Ingolstadt", None, "DE")]
HUB_COMPANIES = [("Volkswagen", "大众汽车", "DE", "automotive"), ("Midea", "美的", "CN", "home appliances"),
                 ("Siemens", "西门子", "DE", "electronics"), ("BASF", "巴斯夫", "DE", "chemicals"),
                 ("SAIC Motor", "上汽集团", "CN", "automotive"), ("Bosch", "博世", "DE", "automotive")]

SYLLABLES = [("an", "安"), ("bei", "北"), ("chang", "长"), ("dong", "东"), ("feng", "丰"), ("guang", "广"),
             ("hai", "海"), ("he", "河"), ("hua", "华"), ("jiang", "江"), ("jin", "金"), ("kai", "开"),
             ("lan", "兰"), ("long", "龙"), ("ming", "明"), ("nan", "南"), ("ning", "宁"), ("ping", "平"),
             ("qing", "青"), ("shan", "山"), ("tai", "泰"), ("tian", "天"), ("xin", "新"), ("yang", "阳"),
             ("zhou", "州"), ("fo", "佛"), ("wu", "武"), ("su", "苏"), ("hang", "杭"), ("de", "德")]
SURNAMES = [("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
            ("Zhao", "赵"), ("Huang", "黄"), ("Zhou", "周"), ("Wu", "吴")]
GERMAN_STEMS = ["Gött", "Wolfs", "Ingol", "Stutt", "Mün", "Dres", "Lüne", "Rosen", "Heil", "Kling", "Erlan",
                "Würz", "Bam", "Pass", "Görl", "Jüter", "Böbl", "Tübi", "Ober", "Nieder"]
GERMAN_ENDINGS = ["ingen", "burg", "stadt", "heim", "dorf", "hausen", "feld", "bach", "au", "hof"]
GIVEN_NAMES = ["Anna", "Jürgen", "Katrin", "Lukas", "Sabine", "Matthias", "Jörg", "Birgit", "Felix", "Ute"]
FAMILY_NAMES = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
                "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann"]
SECTORS = ["automotive", "chemicals", "machinery", "electronics", "logistics", "home appliances", "batteries",
           "robotics", "medical devices", "renewable energy"]
SECTOR_WORDS = {"automotive": "Auto", "chemicals": "Chemie", "machinery": "Maschinenbau",
                "electronics": "Elektronik", "logistics": "Logistik", "home appliances": "Hausgeräte",
                "batteries": "Batterie", "robotics": "Robotik", "medical devices": "Medizintechnik",
                "renewable energy": "Energie"}
ROLES = ["chairman", "chief executive", "board member", "mayor", "party secretary", "director",
         "general manager", "supervisory board member", "consul", "delegate"]
PARTICIPANT_ROLES = ["participant", "speaker", "exhibitor", "delegate", "host"]
EVENT_KINDS = ["expo", "meeting", "forum", "delegation visit", "signing ceremony"]
ORG_KINDS = ["city alliance", "industrial zone", "innovation cluster", "chamber of commerce", "association"]
DOCUMENT_KINDS = ["report", "agreement", "memorandum", "strategy paper"]
SOURCE_KINDS = ["news", "report", "dataset", "reference"]
PUBLISHERS = ["Xinhua", "Handelsblatt", "GTAI", "MERICS", "Rhodium Group", "Caixin", "FAZ", "People's Daily"]

# Where a place of a country is drawn on the Map: (south, north, west, east) in degrees, roughly the
# country's extent; places of the other countries anywhere in this box around Eurasia.
PLACE_BOXES = {"CN": (22.0, 45.0, 100.0, 122.0), "DE": (47.5, 54.8, 6.0, 14.9)}
ELSEWHERE_BOX = (-35.0, 60.0, -100.0, 140.0)

# Entity types: (name, id prefix, share of the entities). Countries take a fixed number first.
ENTITY_SHARES = [("Source", "src", 0.03), ("Region", "reg", 0.01), ("City", "city", 0.05),
                 ("Organization", "org", 0.03), ("Company", "co", 0.45), ("Person", "per", 0.30),
                 ("Event", "ev", 0.07), ("Document", "doc", 0.06)]

# The properties the generator fills, in column order; their types (and so the headers) are the schema's.
NODE_PROPERTIES = ["name", "aliases", "country", "note"]
CITED_PROPERTIES = ["sources"]
TYPE_PROPERTIES = {
    "Country": [], "Person": [],
    "City": ["lat", "lon"],
    "Region": ["kind", "lat", "lon"],
    "Organization": ["kind", "member_count"],
    "Company": ["kind", "sector"],
    "Event": ["kind", "date", "exhibitor_count", "area_m2"],
    "Document": ["kind", "date"],
    "Source": ["title", "kind", "publisher", "date", "language"],
}
RELATION_PROPERTIES = ["sources", "since", "until", "note"]
RELATION_EXTRA_PROPERTIES = {"OWNS": ["share"], "MEMBER_OF": ["founding"], "COOPERATES_WITH": ["sector"],
                             "HOLDS_OFFICE": ["role"], "PARTICIPATED_IN": ["role"], "CONSOLIDATES": ["level"],
                             "MENTIONS": ["count"], "SITE_IN": ["kind"]}


def _header(declared, names: list[str]) -> list[str]:
    return [types.header_field(name, declared.properties[name].type) for name in names]


def entity_header(type_name: str) -> list[str]:
    """The columns of an entity type's file: the import convention's specials, then its properties."""
    declared = schema().entity(type_name)
    cited = CITED_PROPERTIES if declared.cited else []
    return ["id:ID", ":LABEL", *_header(declared, NODE_PROPERTIES + cited + TYPE_PROPERTIES[type_name])]


def relation_header(type_name: str) -> list[str]:
    declared = schema().relation(type_name)
    return [":START_ID", ":END_ID", ":TYPE",
            *_header(declared, RELATION_PROPERTIES + RELATION_EXTRA_PROPERTIES.get(type_name, []))]


@dataclass(frozen=True)
class Spec:
    """One family of ties: relation type, start and end entity types, share of the relation budget."""
    type: str
    start: str
    end: str
    share: float
    chain: bool = False     # targets lie just after the start in index order: ownership chains
    jv_targets: bool = False  # targets are the joint ventures among the firms


# Structural ties (exactly one per start entity, derived from its index) come first; the rest
# share what is left of the budget.
STRUCTURAL = [("LOCATED_IN", "Region", "Country"), ("LOCATED_IN", "City", "Region"),
              ("HOME_COUNTRY", "Company", "Country"), ("HEADQUARTERED_IN", "Company", "City"),
              ("HELD_IN", "Event", "City")]
SPECS = [
    Spec("LOCATED_IN", "Organization", "City", 0.01),
    Spec("HEADQUARTERED_IN", "Organization", "City", 0.01),
    Spec("PRODUCTION_BASE_IN", "Company", "City", 0.08),
    Spec("OWNS", "Company", "Company", 0.09, chain=True),
    Spec("ACQUIRED", "Company", "Company", 0.02),
    Spec("PARENT_OF", "Company", "Company", 0.04, jv_targets=True),
    Spec("COOPERATES_WITH", "Company", "City", 0.04),
    Spec("COOPERATES_WITH", "Organization", "Company", 0.02),
    Spec("COOPERATES_WITH", "City", "City", 0.02),
    Spec("SISTER_CITY_OF", "City", "City", 0.01),
    Spec("CONSOLIDATES", "Company", "Company", 0.01, chain=True),
    Spec("BRANCH_OF", "Company", "Company", 0.004),
    Spec("MENTIONS", "Document", "Company", 0.02),
    Spec("MEMBER_OF", "City", "Organization", 0.02),
    Spec("MEMBER_OF", "Company", "Organization", 0.04),
    Spec("FOUNDED_IN", "Company", "City", 0.02),
    Spec("SECRETARIAT_AT", "Organization", "City", 0.004),
    Spec("PART_OF", "Organization", "Organization", 0.006),
    Spec("HOLDS_OFFICE", "Person", "Company", 0.08),
    Spec("HOLDS_OFFICE", "Person", "City", 0.02),
    Spec("HOLDS_OFFICE", "Person", "Organization", 0.02),
    Spec("PARTICIPATED_IN", "Person", "Event", 0.12),
    Spec("PARTICIPATED_IN", "Company", "Event", 0.06),
    Spec("PARTICIPATED_IN", "City", "Event", 0.02),
    Spec("PARTICIPATED_IN", "Organization", "Event", 0.02),
    Spec("SPOKE_AT", "Person", "Event", 0.05),
    Spec("EXHIBITED_AT", "Company", "Event", 0.12),
    Spec("MEETING_OF", "Event", "Organization", 0.02),
    Spec("RELEASED_AT", "Document", "Event", 0.02),
    Spec("PUBLISHED_BY", "Document", "Organization", 0.02),
    Spec("PUBLISHED_BY", "Document", "Company", 0.02),
    Spec("SITE_IN", "Company", "City", 0.03),
    Spec("REGION_PARTNER_OF", "Region", "Region", 0.002),
    Spec("DISTRICT_PARTNER_OF", "Region", "City", 0.002),
    Spec("ORGANIZED_BY", "Event", "Organization", 0.01),
    Spec("EDITION_OF", "Event", "Event", 0.01),
]
TARGET_SKEW = 2.5     # index = n * u**skew: higher means fatter hubs at the low indices
OUT_DEGREE_ALPHA = 1.6  # Pareto shape of how many ties each start entity has
JV_EVERY = 8          # every 8th firm is a joint venture


def _fraction(seed: int, salt: str, index: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, salt, index): derived facts need no memory."""
    digest = hashlib.blake2b(f"{seed}:{salt}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2 ** 64


def _skewed(u: float, n: int) -> int:
    """An index in [0, n) that favours low indices (the hubs)."""
    return min(int(n * u ** TARGET_SKEW), n - 1)


@dataclass
class Plan:
    """How many entities of each type, and the per-country index lists derived facts need."""
    seed: int
    counts: dict
    prefixes: dict = field(default_factory=dict)
    regions_by_country: dict = field(default_factory=dict)
    cities_by_country: dict = field(default_factory=dict)

    def id(self, type_name: str, index: int) -> str:
        if type_name == "Country":
            return f"country-{COUNTRIES[index][0].lower()}"
        return f"{self.prefixes[type_name]}-{index}"

    def _weighted_country(self, salt: str, index: int) -> int:
        u, total = _fraction(self.seed, salt, index), 0.0
        weights = COUNTRY_WEIGHTS[:self.counts["Country"]]
        u *= sum(weights)
        for country, weight in enumerate(weights):
            total += weight
            if u < total:
                return country
        return len(weights) - 1

    def region_country(self, region: int) -> int:
        return self._weighted_country("region-country", region)

    def city_country(self, city: int) -> int:
        if city < len(HUB_CITIES):
            return [c[0] for c in COUNTRIES].index(HUB_CITIES[city][2]) % self.counts["Country"]
        return self._weighted_country("city-country", city)

    def city_region(self, city: int) -> int:
        regions = self.regions_by_country.get(self.city_country(city)) or range(self.counts["Region"])
        return regions[int(_fraction(self.seed, "city-region", city) * len(regions))]

    def headquarters(self, type_name: str, index: int) -> int:
        """The city of a firm's or organisation's head office (hubs attract most)."""
        if type_name == "Company" and index < len(HUB_COMPANIES):
            cities = self.cities_by_country.get(self._country_index(HUB_COMPANIES[index][2])) or [0]
            return cities[0]
        return _skewed(_fraction(self.seed, f"{type_name}-hq", index), self.counts["City"])

    def event_city(self, event: int) -> int:
        return _skewed(_fraction(self.seed, "event-city", event), self.counts["City"])

    def _country_index(self, code: str) -> int:
        return [c[0] for c in COUNTRIES].index(code) % self.counts["Country"]

    def country_of(self, type_name: str, index: int) -> int:
        if type_name == "Country":
            return index
        if type_name == "Region":
            return self.region_country(index)
        if type_name == "City":
            return self.city_country(index)
        if type_name in ("Company", "Organization"):
            return self.city_country(self.headquarters(type_name, index))
        if type_name == "Event":
            return self.city_country(self.event_city(index))
        return self._weighted_country(f"{type_name}-country", index)


def _plan(entities: int, seed: int) -> Plan:
    countries = min(len(COUNTRIES), max(2, entities // 100))
    rest = entities - countries
    counts = {"Country": countries}
    for type_name, _, share in ENTITY_SHARES:
        counts[type_name] = max(2, int(rest * share))
    counts["Company"] += entities - sum(counts.values())   # rounding goes to the firms
    if counts["Company"] < len(HUB_COMPANIES) + JV_EVERY:
        raise ValueError(f"entities={entities} is too small for the domain's shape; use at least 100")
    plan = Plan(seed, counts, {name: prefix for name, prefix, _ in ENTITY_SHARES})
    for region in range(counts["Region"]):
        plan.regions_by_country.setdefault(plan.region_country(region), []).append(region)
    for city in range(counts["City"]):
        plan.cities_by_country.setdefault(plan.city_country(city), []).append(city)
    return plan


class _Names:
    """Names and other-language aliases: pinyin with characters for Chinese entities, German otherwise."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chinese(self, syllables: int) -> tuple[str, str]:
        parts = [self.rng.choice(SYLLABLES) for _ in range(syllables)]
        return "".join(p for p, _ in parts).capitalize(), "".join(h for _, h in parts)

    def german(self) -> str:
        return self.rng.choice(GERMAN_STEMS) + self.rng.choice(GERMAN_ENDINGS)

    def place(self, chinese: bool) -> tuple[str, list]:
        if chinese:
            name, characters = self.chinese(2)
            return name, [characters]
        return self.german(), []

    def person(self, chinese: bool) -> tuple[str, list]:
        if chinese:
            surname, character = self.rng.choice(SURNAMES)
            given, given_characters = self.chinese(self.rng.choice((1, 2)))
            return f"{surname} {given}", [character + given_characters]
        return f"{self.rng.choice(GIVEN_NAMES)} {self.rng.choice(FAMILY_NAMES)}", []


def _date(rng: random.Random, first: int = 1990, last: int = 2024) -> str:
    """A date at the precision a source might give: year, month or day."""
    year, precision = rng.randint(first, last), rng.random()
    if precision < 0.4:
        return str(year)
    if precision < 0.7:
        return f"{year}-{rng.randint(1, 12):02d}"
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


class _Writer:
    """One CSV file of the convention, counting its rows."""

    def __init__(self, path: Path, header: list[str]):
        self.path = path
        self.handle = open(path, "w", newline="", encoding="utf-8")
        self.csv = csv.writer(self.handle, lineterminator="\n")
        self.csv.writerow(header)
        self.rows = 0

    def write(self, row: list) -> None:
        self.csv.writerow([types.csv_cell(v) for v in row])
        self.rows += 1

    def close(self) -> int:
        self.handle.close()
        return self.rows


class _Generator:
    def __init__(self, plan: Plan, rng: random.Random, out: Path):
        self.plan = plan
        self.rng = rng
        self.names = _Names(rng)
        self.out = out

    def citations(self) -> list[str]:
        """One or two Source ids; a few sources are cited very often."""
        n = self.plan.counts["Source"]
        first = _skewed(self.rng.random(), n)
        if self.rng.random() < 0.3:
            second = _skewed(self.rng.random(), n)
            if second != first:
                return [self.plan.id("Source", first), self.plan.id("Source", second)]
        return [self.plan.id("Source", first)]

    # --- entities -------------------------------------------------------------------------
    def write_entities(self) -> dict:
        counts = {}
        for type_name in ["Source", "Country", "Region", "City", "Organization", "Company", "Person",
                          "Event", "Document"]:
            writer = _Writer(self.out / f"nodes_{type_name}.csv", entity_header(type_name))
            for index in range(self.plan.counts[type_name]):
                writer.write(self.entity_row(type_name, index))
            counts[type_name] = writer.close()
        return counts

    def entity_row(self, type_name: str, index: int) -> list:
        plan, rng = self.plan, self.rng
        country = plan.country_of(type_name, index)
        code = COUNTRIES[country][0]
        chinese = code == "CN"
        name, aliases, extra = self._name_and_extra(type_name, index, chinese)
        note = "synthetic" if rng.random() < 0.1 else None
        row = [plan.id(type_name, index), type_name, name, aliases, code, note]
        if type_name != "Source":
            row.append(self.citations())
        return row + extra

    def _name_and_extra(self, type_name: str, index: int, chinese: bool) -> tuple[str, list, list]:
        rng = self.rng
        if type_name == "Country":
            return COUNTRIES[index][1], list(COUNTRIES[index][2]), []
        if type_name == "City":
            at = self.coordinates(type_name, index)
            if index < len(HUB_CITIES):
                name, characters, _ = HUB_CITIES[index]
                return name, [characters] if characters else [], at
            name, aliases = self.names.place(chinese)
            return f"{name} {index}", aliases, at
        if type_name == "Region":
            name, aliases = self.names.place(chinese)
            return f"{name} Region {index}", aliases, ["province" if chinese else "state",
                                                         *self.coordinates(type_name, index)]
        if type_name == "Company":
            sector = SECTORS[_skewed(rng.random(), len(SECTORS))]
            kind = "joint venture" if index % JV_EVERY == JV_EVERY - 1 else "manufacturer"
            if index < len(HUB_COMPANIES):
                name, characters, _, sector = HUB_COMPANIES[index]
                return name, [characters], [kind, sector]
            stem, aliases = self.names.place(chinese)
            suffix = "Co., Ltd." if chinese else rng.choice(("GmbH", "AG", "SE"))
            return f"{stem} {SECTOR_WORDS[sector]} {index} {suffix}", aliases, [kind, sector]
        if type_name == "Organization":
            stem, aliases = self.names.place(chinese)
            kind = rng.choice(ORG_KINDS)
            return f"{stem} {kind.title()} {index}", aliases, [kind, rng.randint(5, 400)]
        if type_name == "Person":
            name, aliases = self.names.person(chinese)
            return name, aliases, []
        if type_name == "Event":
            kind = rng.choice(EVENT_KINDS)
            stem, aliases = self.names.place(chinese)
            expo = kind == "expo"
            return (f"{stem} {kind.title()} {index}", aliases,
                    [kind, _date(rng, 2000), rng.randint(20, 3000) if expo else None,
                     float(rng.randint(1000, 200000)) if expo else None])
        if type_name == "Document":
            kind = rng.choice(DOCUMENT_KINDS)
            return f"{kind.title()} on Sino-German cooperation {index}", [], [kind, _date(rng, 2000)]
        kind = SOURCE_KINDS[index % len(SOURCE_KINDS)]
        publisher = rng.choice(PUBLISHERS)
        return (f"{publisher} {kind} {index}", [],
                [f"{publisher}: Sino-German ties, item {index}", kind, publisher, _date(rng, 2005),
                 rng.choice(("de", "zh", "en"))])

    def coordinates(self, type_name: str, index: int) -> list[float]:
        """A place's (lat, lon) in its country's box, from its index (the random stream is left as it was)."""
        code = COUNTRIES[self.plan.country_of(type_name, index)][0]
        south, north, west, east = PLACE_BOXES.get(code, ELSEWHERE_BOX)
        seed = self.plan.seed
        return [round(south + (north - south) * _fraction(seed, f"{type_name}-lat", index), 4),
                round(west + (east - west) * _fraction(seed, f"{type_name}-lon", index), 4)]

    # --- relations ------------------------------------------------------------------------
    def write_relations(self, budget: int) -> dict:
        groups: dict[str, list] = {}
        for type_name, start, end in STRUCTURAL:
            groups.setdefault(type_name, []).append(("structural", start, end))
        for spec in SPECS:
            groups.setdefault(spec.type, []).append(spec)
        structural_total = min(budget, sum(self.plan.counts[start] for _, start, _ in STRUCTURAL))
        remaining = budget - structural_total
        shares = sum(spec.share for spec in SPECS)
        allowances = {spec: int(remaining * spec.share / shares) for spec in SPECS}
        allowances[SPECS[-1]] += remaining - sum(allowances.values())   # rounding
        structural_left = structural_total
        counts = {}
        for type_name, members in groups.items():
            writer = _Writer(self.out / f"relationships_{type_name}.csv", relation_header(type_name))
            for member in members:
                if isinstance(member, Spec):
                    self._spec_rows(writer, member, allowances[member])
                else:
                    _, start, end = member
                    take = min(structural_left, self.plan.counts[start])
                    self._structural_rows(writer, type_name, start, end, take)
                    structural_left -= take
            counts[type_name] = writer.close()
        return counts

    def _structural_target(self, start: str, end: str, index: int) -> int:
        plan = self.plan
        if end == "Country":
            return plan.country_of(start, index)
        if start == "City":
            return plan.city_region(index)
        if start == "Company":
            return plan.headquarters("Company", index)
        return plan.event_city(index)

    def _structural_rows(self, writer: _Writer, type_name: str, start: str, end: str, take: int) -> None:
        for index in range(take):
            target = self._structural_target(start, end, index)
            writer.write(self._relation_row(type_name, self.plan.id(start, index), self.plan.id(end, target)))

    def _relation_row(self, type_name: str, start_id: str, end_id: str) -> list:
        rng = self.rng
        since = _date(rng) if rng.random() < 0.6 else None
        until = str(rng.randint(int(since[:4]), 2025)) if since and rng.random() < 0.15 else None
        note = "synthetic tie" if rng.random() < 0.1 else None
        row = [start_id, end_id, type_name, self.citations(), since, until, note]
        if type_name == "OWNS":
            row.append(round(rng.uniform(0.05, 1.0), 3))
        elif type_name == "MEMBER_OF":
            row.append("true" if rng.random() < 0.1 else "false")
        elif type_name == "COOPERATES_WITH":
            row.append(rng.choice(SECTORS))
        elif type_name == "HOLDS_OFFICE":
            row.append(rng.choice(ROLES))
        elif type_name == "PARTICIPATED_IN":
            row.append(rng.choice(PARTICIPANT_ROLES))
        elif type_name == "CONSOLIDATES":
            row.append(rng.choice(("direct", "ultimate")))
        elif type_name == "MENTIONS":
            row.append(rng.randint(1, 5))
        elif type_name == "SITE_IN":
            row.append(rng.choice(schema().relation("SITE_IN").properties["kind"].values))
        return row

    def _targets(self, spec: Spec, start: int, degree: int, slots: int, to_index, taken=frozenset()) -> list[int]:
        """degree distinct targets for one start entity (distinct, so every tie is unique), none
        of them in taken (the entities already tied to it by a symmetric tie).

        One spare is drawn in case the start itself is among them (no tie from a firm to itself).
        """
        rng, chosen = self.rng, set()
        if degree * 2 > slots:
            offset = rng.randrange(slots)
            chosen = {to_index((offset + k) % slots) for k in range(degree + 1)} - taken
        while len(chosen) < degree + 1:
            if spec.chain and not chosen:
                chosen.add((start + 1 + int(rng.expovariate(1 / 3))) % slots)
            else:
                candidate = to_index(_skewed(rng.random(), slots))
                if candidate not in taken:
                    chosen.add(candidate)
        if spec.start == spec.end:
            chosen.discard(start)
        return sorted(chosen)[:degree]

    def _spec_rows(self, writer: _Writer, spec: Spec, allowance: int) -> None:
        n_start = self.plan.counts[spec.start]
        if spec.jv_targets:
            slots = self.plan.counts[spec.end] // JV_EVERY

            def to_index(slot):
                return slot * JV_EVERY + JV_EVERY - 1
        else:
            slots = self.plan.counts[spec.end]

            def to_index(slot):
                return slot
        cap = max(1, (slots - 1) // 2)
        # A symmetric tie is one tie whichever end draws it: each pair is drawn once.
        partners = {} if schema().relation(spec.type).symmetric else None
        # Heavy-tailed out-degrees: Pareto weights; degree i = its share of the allowance, the
        # rounding (and any cap) carried forward so the allowance is met exactly when possible.
        weights = [self.rng.paretovariate(OUT_DEGREE_ALPHA) for _ in range(n_start)]
        total, cumulative, emitted = sum(weights), 0.0, 0
        for index, weight in enumerate(weights):
            cumulative += weight
            degree = min(cap, round(allowance * cumulative / total) - emitted)
            if degree <= 0:
                continue
            start_id = self.plan.id(spec.start, index)
            taken = frozenset()
            if partners is not None:
                taken = frozenset(partners.get(index, ()))
                degree = min(degree, slots - 1 - len(taken))
                if degree <= 0:
                    continue
            for target in self._targets(spec, index, degree, slots, to_index, taken):
                writer.write(self._relation_row(spec.type, start_id, self.plan.id(spec.end, target)))
                if partners is not None:
                    partners.setdefault(target, set()).add(index)
            emitted += degree


def _clear_earlier_run(out: Path) -> None:
    """Empty out if it holds only an earlier run's files; refuse a folder holding anything else."""
    present = {p.name for p in out.iterdir()} - {MARK}
    earlier = set((out / MARK).read_text(encoding="utf-8").split()) if (out / MARK).is_file() else set()
    foreign = sorted(present - earlier)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise OutputFolderInUse(f"{out} holds files that bench.generate did not write ({shown}): "
                                "choose a new or empty folder")
    for name in present:
        (out / name).unlink()
    (out / MARK).unlink(missing_ok=True)


def generate(entities: int, relations: int, seed: int, out: Path) -> dict:
    """Write nodes_<Type>.csv and relationships_<TYPE>.csv into out (a new or empty folder, or one holding only
    an earlier run's files, which are replaced); returns what was written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clear_earlier_run(out)
    plan = _plan(entities, seed)
    generator = _Generator(plan, random.Random(seed), out)
    entity_counts = generator.write_entities()
    relation_counts = generator.write_relations(relations)
    (out / MARK).write_text("".join(f"{p.name}\n" for p in sorted(out.iterdir()) if p.name != MARK),
                            encoding="utf-8")
    return {
        "seed": seed,
        "entities": sum(entity_counts.values()),
        "relations": sum(relation_counts.values()),
        "entity_counts": entity_counts,
        "relation_counts": relation_counts,
        "files": sorted(p.name for p in out.glob("*.csv")),
    }
