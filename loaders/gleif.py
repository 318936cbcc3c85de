"""GLEIF golden copy CSV files: Level 1 LEI records (who is who) and Level 2 relationship records
(who consolidates whom), each file recognised by its header.

Layout followed: the golden copy's CSV edition as GLEIF publishes it, "LEI2" (LEI-CDF 3.1) and
"RR" (RR-CDF 2.1) files, whose columns are the XML paths joined by dots with numbered repeats:
`LEI`, `Entity.LegalName`, `Entity.LegalAddress.City`, `Entity.LegalAddress.Country`,
`Entity.HeadquartersAddress.City`, `Entity.HeadquartersAddress.Country`, `Entity.EntityStatus`, ...;
`Relationship.StartNode.NodeID`, `Relationship.StartNode.NodeIDType`, `Relationship.EndNode.NodeID`,
`Relationship.RelationshipType`, `Relationship.RelationshipStatus`, `Relationship.Period.1.startDate`,
`Relationship.Period.1.endDate`, `Relationship.Period.1.periodType` (up to 5 periods), ...
Columns are found by name, so the two hundred others of a full file may stand anywhere.

Only what touches China or Germany is kept: entities with a CN or DE legal or headquarters
address, and the firms tied to them by a relationship record. A full golden copy holds millions
of rows, so the files stream: a first pass notes the LEIs to keep (a set of the kept ones only),
the second yields their records.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InvalidRecord
from kb.schema import schema
from loaders.source import RecordSource
from loaders.records import Validator

SOURCE_NAME = "gleif"
COUNTRIES = frozenset({"CN", "DE"})
LEI = "LEI"
NAME = "Entity.LegalName"
LEGAL_CITY, LEGAL_COUNTRY = "Entity.LegalAddress.City", "Entity.LegalAddress.Country"
HQ_CITY, HQ_COUNTRY = "Entity.HeadquartersAddress.City", "Entity.HeadquartersAddress.Country"
STATUS = "Entity.EntityStatus"
LEVEL1_COLUMNS = (LEI, NAME, LEGAL_CITY, LEGAL_COUNTRY, HQ_CITY, HQ_COUNTRY, STATUS)
START, START_TYPE = "Relationship.StartNode.NodeID", "Relationship.StartNode.NodeIDType"
END, END_TYPE = "Relationship.EndNode.NodeID", "Relationship.EndNode.NodeIDType"
KIND, RELATION_STATUS = "Relationship.RelationshipType", "Relationship.RelationshipStatus"
PERIOD = "Relationship.Period.{}.{}"
PERIODS = range(1, 6)
LEVEL2_COLUMNS = (START, START_TYPE, END, END_TYPE, KIND, RELATION_STATUS,
                  PERIOD.format(1, "startDate"), PERIOD.format(1, "endDate"), PERIOD.format(1, "periodType"))
# The start node is the child (or the branch); the tie is stored from the parent (or from the branch).
RELATIONS = {
    "IS_DIRECTLY_CONSOLIDATED_BY": ("CONSOLIDATES", {"level": "direct"}, True),
    "IS_ULTIMATELY_CONSOLIDATED_BY": ("CONSOLIDATES", {"level": "ultimate"}, True),
    "IS_INTERNATIONAL_BRANCH_OF": ("BRANCH_OF", {}, False),
}
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def company_id(lei: str) -> str:
    return f"lei-{lei}"


def city_id(name: str, country: str) -> str:
    """A proposed id for a city (reconciliation matches it to a stored city of that name and country)."""
    slug = re.sub(r"\W+", "-", name.casefold()).strip("-")
    return f"city-gleif-{country.lower()}-{slug}"


def _city_name(name: str) -> str:
    # Many registries write cities in capitals (HANNOVER); a name is shown as a name.
    return name.title() if name.isupper() else name


@dataclass(frozen=True)
class GleifFile:
    path: Path
    level: int              # 1: LEI records, 2: relationship records
    columns: dict           # column name -> index

    @property
    def source_id(self) -> str:
        return "src-gleif-" + re.sub(r"[^a-z0-9]+", "-", self.path.stem.lower()).strip("-")

    def source(self) -> dict:
        what = "LEI records (Level 1)" if self.level == 1 else "relationship records (Level 2)"
        return {"id": self.source_id, "name": f"GLEIF golden copy, {what}: {self.path.name}",
                "title": f"GLEIF golden copy, {what}: {self.path.name}", "kind": "dataset",
                "publisher": "Global Legal Entity Identifier Foundation (GLEIF)"}

    def rows(self):
        """(origin, row as a dict of the columns read) of each data row, streamed."""
        wanted = LEVEL1_COLUMNS if self.level == 1 else self.level2_columns
        with open(self.path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            width = len(self.columns)
            for row in reader:
                if not row:
                    continue
                origin = f"{self.path} line {reader.line_num}"
                if len(row) != width:
                    raise InvalidRecord([f"{origin}: expected {width} columns, found {len(row)}"])
                yield origin, {name: row[self.columns[name]].strip() for name in wanted}

    @property
    def level2_columns(self) -> tuple:
        periods = tuple(PERIOD.format(n, part) for n in PERIODS for part in ("startDate", "endDate", "periodType")
                        if PERIOD.format(n, part) in self.columns)
        return (START, START_TYPE, END, END_TYPE, KIND, RELATION_STATUS) + periods


def inspect(path: Path) -> GleifFile:
    """The file with its header read; InvalidRecord if it is neither GLEIF layout."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise InvalidRecord([f"{path}: no such file"]) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidRecord([f"{path} line 1: not a GLEIF CSV file: {error}"]) from None
    columns = {name: index for index, name in enumerate(header or [])}
    for level, needed in ((2, LEVEL2_COLUMNS), (1, LEVEL1_COLUMNS)):
        if needed[0] in columns:
            missing = [name for name in needed if name not in columns]
            if missing:
                raise InvalidRecord([f"{path} line 1: a GLEIF {'relationship record' if level == 2 else 'LEI record'} "
                                     f"file lacks the columns {', '.join(missing)}"])
            return GleifFile(path, level, columns)
    raise InvalidRecord([f"{path} line 1: not a GLEIF golden copy CSV file (no column {LEI} or {START})"])


def _tied(row: dict) -> bool:
    return row[LEGAL_COUNTRY].upper() in COUNTRIES or row[HQ_COUNTRY].upper() in COUNTRIES


def _period(row: dict) -> dict:
    """since/until from the relationship period (other periods are accounting or filing periods)."""
    for n in PERIODS:
        if row.get(PERIOD.format(n, "periodType")) == "RELATIONSHIP_PERIOD":
            return {"since": row[PERIOD.format(n, "startDate")][:10], "until": row[PERIOD.format(n, "endDate")][:10]}
    return {}


class GleifReader:
    """Companies, their head-office cities and their consolidation and branch ties, CN and DE only."""

    def __init__(self, paths):
        self.files = [inspect(Path(path)) for path in paths]
        self.kept: set[str] = set()         # LEIs with a CN or DE address
        self.written: set[str] = set()      # LEIs whose entity this load yields
        self.left_out = 0                   # relationship records kept whose other end no file gives
        self.head_offices: list[tuple] = []  # (file, proposed city id, LEI) for HEADQUARTERED_IN

    def _first_pass(self) -> set[str]:
        """The LEIs to load: those with a CN or DE address and their counterparts in relationships."""
        for file in self.files:
            if file.level == 1:
                self.kept.update(row[LEI].upper() for _, row in file.rows() if _tied(row))
        wanted = set(self.kept)
        for file in self.files:
            if file.level == 2:
                for _, row in file.rows():
                    start, end = row[START].upper(), row[END].upper()
                    if start in self.kept or end in self.kept:
                        wanted.update((start, end))
        return wanted

    def entities(self, validator: Validator):
        wanted = self._first_pass()
        for file in self.files:
            record = validator.entity(schema().source_type, file.source(), f"{file.path} (its source record)")
            if record:
                yield record
        cities: dict[str, tuple] = {}
        for file in self.files:
            if file.level == 1:
                yield from self._companies(file, wanted, cities, validator)
        for proposed, (name, country, origin, source_id) in cities.items():
            record = validator.entity("City", {"id": proposed, "name": name, "country": country,
                                               "sources": [source_id]}, origin)
            if record:
                yield record

    def _companies(self, file: GleifFile, wanted: set, cities: dict, validator: Validator):
        for origin, row in file.rows():
            lei = row[LEI].upper()
            if lei not in wanted:
                continue
            country = row[LEGAL_COUNTRY].upper()
            if country and not COUNTRY_CODE.match(country):
                validator.problem(origin, LEGAL_COUNTRY, f"{country!r} is not an ISO 3166 alpha-2 code")
                continue
            record = validator.entity("Company", {"id": company_id(lei), "name": row[NAME], "lei": row[LEI],
                                                  "country": country, "sources": [file.source_id]}, origin)
            if not record:
                continue
            self.written.add(lei)
            yield record
            city, city_country = row[HQ_CITY] or row[LEGAL_CITY], (row[HQ_COUNTRY] or row[LEGAL_COUNTRY]).upper()
            if city and COUNTRY_CODE.match(city_country):
                name = _city_name(city)
                proposed = city_id(name, city_country)
                cities.setdefault(proposed, (name, city_country, origin, file.source_id))
                self.head_offices.append((file, proposed, lei))

    def relations(self, validator: Validator):
        for file, proposed, lei in self.head_offices:
            record = validator.relation("HEADQUARTERED_IN", company_id(lei), proposed,
                                        {"sources": [file.source_id]}, f"{file.path} (head office of {lei})")
            if record:
                yield record
        for file in self.files:
            if file.level == 2:
                yield from self._relationships(file, validator)

    def _relationships(self, file: GleifFile, validator: Validator):
        for origin, row in file.rows():
            start, end = row[START].upper(), row[END].upper()
            if start not in self.kept and end not in self.kept:
                continue
            if row[START_TYPE] != LEI or row[END_TYPE] != LEI:
                self.left_out += 1      # a node known by another kind of id than a LEI
                continue
            mapped = RELATIONS.get(row[KIND])
            if mapped is None:
                validator.problem(origin, KIND, f"unknown relationship type {row[KIND]!r}; known: {', '.join(RELATIONS)}")
                continue
            if start not in self.written or end not in self.written:
                self.left_out += 1      # its other end is in no Level 1 file given (or was refused)
                continue
            type_name, fixed, parent_first = mapped
            props = {"sources": [file.source_id], "status": row[RELATION_STATUS].lower(), **fixed, **_period(row)}
            ends = (end, start) if parent_first else (start, end)
            record = validator.relation(type_name, company_id(ends[0]), company_id(ends[1]), props, origin)
            if record:
                yield record

    def review(self) -> list[str]:
        if not self.left_out:
            return []
        return [f"{self.left_out} GLEIF relationship record(s) of CN or DE firms left out: their other end is "
                "in no LEI record file given, or is not identified by a LEI"]

    def source(self) -> RecordSource:
        return RecordSource.of(self.entities, self.relations, review=self.review, source_name=SOURCE_NAME)


def reader(paths) -> RecordSource:
    """A record source over GLEIF golden copy CSV files (LEI records and relationship records)."""
    return GleifReader(paths).source()
