"""The reconciliation report a load writes (`kb load ... --report FILE`) and the decisions file a
researcher gives back (`--decisions FILE`): one format, CSV or JSON by the file's suffix.

Each line is a reconcile.Outcome; in a decisions file the researcher has filled the column
`decision` of some lines with `same-as <id>` (the record is that stored entity) or `new` (it is
an entity of its own). Lines with an empty decision are ignored.
"""
from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from collections import Counter

from kb.errors import InvalidRecord
from loaders.reconcile import AMBIGUOUS, CREATED, HELD, MATCHED, NEW, SAME_AS, Decision, Outcome

COLUMNS = tuple(f.name for f in dataclasses.fields(Outcome))
SUFFIXES = (".csv", ".json")


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidRecord([f"{path}: a report or decisions file is .csv or .json"])


def summary(outcomes: list) -> str:
    """One line: how many records were created, matched (on what), held back as ambiguous."""
    counts = Counter(outcome.outcome for outcome in outcomes)
    on = Counter(outcome.matched_on for outcome in outcomes if outcome.outcome == MATCHED)
    matched_on = ", ".join(f"{count} on {name}" for name, count in sorted(on.items()))
    text = (f"Reconciliation: {counts[CREATED]} created, {counts[MATCHED]} matched"
            f"{f' ({matched_on})' if matched_on else ''}, {counts[AMBIGUOUS]} ambiguous (not written)")
    if counts[HELD]:
        text += f", {counts[HELD]} relations touching them not written"
    return text + (" (see --report)" if counts[AMBIGUOUS] else "")


def write_report(path: Path, outcomes: list) -> None:
    """Write the outcomes to path, as CSV or JSON by its suffix."""
    path = Path(path)
    _check_suffix(path)
    rows = [dataclasses.asdict(outcome) for outcome in outcomes]
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_decisions(path: Path) -> dict:
    """The researcher's decisions in a report-format file: (source, proposed id) -> Decision."""
    path = Path(path)
    _check_suffix(path)
    if not path.is_file():
        raise InvalidRecord([f"{path}: no such file"])
    decisions, problems = {}, []
    for where, row in _rows(path):
        text = str(row.get("decision") or "").strip()
        if not text:
            continue
        missing = [name for name in ("source", "proposed_id") if not str(row.get(name) or "").strip()]
        verdict, _, target = text.partition(" ")
        if missing:
            problems.append(f"{where}, field '{missing[0]}': is required with a decision")
        elif verdict == SAME_AS and target.strip() and " " not in target.strip():
            decisions[(row["source"].strip(), row["proposed_id"].strip())] = Decision(SAME_AS, target.strip(), where)
        elif text == NEW:
            decisions[(row["source"].strip(), row["proposed_id"].strip())] = Decision(NEW, origin=where)
        else:
            problems.append(f"{where}, field 'decision': {text!r} is neither '{SAME_AS} <id>' nor '{NEW}'")
    if problems:
        raise InvalidRecord(problems)
    return decisions


def _rows(path: Path):
    """(where, row) of each line of the file, where naming the file and the line or record."""
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidRecord([f"{path}: not valid JSON: {error}"]) from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidRecord([f"{path}: a decisions file in JSON is a list of objects, as the report is"])
        for number, row in enumerate(rows, 1):
            yield f"{path} record {number}", row
        return
    with path.open(encoding="utf-8", newline="") as lines:
        reader = csv.DictReader(lines)
        if "decision" not in (reader.fieldnames or ()):
            raise InvalidRecord([f"{path} line 1: a decisions file needs the report's columns and 'decision'"])
        for row in reader:
            yield f"{path} line {reader.line_num}", row
