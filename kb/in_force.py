"""The one rule for "in force in $year", as a Cypher condition: Explore, Paths, Overview and the saved
queries all use it. It imports nothing of the database, so reading the saved queries (every `kb`
command does) does not load the driver."""
from __future__ import annotations

# Statuses (of the schema's status properties) under which a tie never held: a plan, a deal that
# did not close, a GLEIF record that has lapsed, contacts that no one signed.
NOT_IN_FORCE = ("planned", "announced", "abandoned", "pending", "blocked", "withdrawn", "inactive", "informal")


def in_force(tie: str) -> str:
    """Cypher condition on the relationship variable tie: in force in $year, i.e. begun that year or
    before (`since`), not ended before it (`until`) and not a plan or a failed deal (`status`);
    compared on the year, as dates are written year first. An undated tie (no `since`) passes when
    $undated is true; its `until` and `status` still rule it out. With $year null every tie passes."""
    statuses = ", ".join(f"'{status}'" for status in NOT_IN_FORCE)
    return (f"($year IS NULL OR (({tie}.since IS NOT NULL OR $undated) "
            f"AND coalesce(toInteger(left({tie}.since, 4)) <= $year, true) "
            f"AND coalesce(toInteger(left({tie}.until, 4)) >= $year, true) "
            f"AND NOT coalesce({tie}.status, '') IN [{statuses}]))")
