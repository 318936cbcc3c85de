"""Choose the loader for each path by what it holds: YAML seed files or neo4j-admin style CSV files."""
from __future__ import annotations

from pathlib import Path

from kb.errors import InvalidRecord
from loaders import csv as csv_loader
from loaders import seed
from loaders.source import RecordSource, combine


def _kind(path: Path) -> set[str]:
    if path.is_dir():
        found = {p.suffix for p in path.rglob("*") if p.is_file()}
        return {"yaml" for s in found if s in seed.SUFFIXES} | {"csv" for s in found if s == ".csv"}
    if path.suffix in seed.SUFFIXES:
        return {"yaml"}
    if path.suffix == ".csv":
        return {"csv"}
    if not path.exists():
        raise InvalidRecord([f"{path}: no such file or folder"])
    raise InvalidRecord([f"{path}: not a seed file (.yaml, .yml) or a CSV file (.csv)"])


def reader_for(paths) -> RecordSource:
    """One record source over every YAML and CSV file among paths (folders are searched)."""
    yaml_paths, csv_paths = [], []
    for path in map(Path, paths):
        kinds = _kind(path)
        if not kinds:
            raise InvalidRecord([f"{path}: holds no .yaml, .yml or .csv file"])
        if "yaml" in kinds:
            yaml_paths.append(path)
        if "csv" in kinds:
            csv_paths.append(path)
    sources = []
    if yaml_paths:
        sources.append(seed.reader(yaml_paths))
    if csv_paths:
        sources.append(csv_loader.reader(csv_paths))
    return combine(sources)
