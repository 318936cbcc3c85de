"""Result rows as table cells, CSV and JSON: one rendering for the CLI and the app."""
from __future__ import annotations

import csv
import io
import json


def cell(value):
    """A value as a table cell holds it: scalars as they are, lists and maps as JSON text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


def to_csv(columns: list, rows: list) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def records(columns: list, rows: list) -> list[dict]:
    """Rows as one mapping per row, column name to value."""
    return [dict(zip(columns, row)) for row in rows]
