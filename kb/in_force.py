"""The one rule for "in force in $year", as a Cypher condition: Explore, Paths, Overview and the saved
queries all use it. It imports nothing of the database, so reading the saved queries (every `kb`
command does) does not load the driver."""
from __future__ import annotations


def in_force(tie: str) -> str:
    """Cypher condition on the relationship variable tie: in force in $year, i.e. begun that year or
    before (`since`) and not ended before it (`until`); compared on the year, as dates are written year
    first. An undated tie (no `since`) passes when $undated is true; its `until` still rules it out.
    With $year null every tie passes."""
    return (f"($year IS NULL OR (({tie}.since IS NOT NULL OR $undated) "
            f"AND coalesce(toInteger(left({tie}.since, 4)) <= $year, true) "
            f"AND coalesce(toInteger(left({tie}.until, 4)) >= $year, true)))")
