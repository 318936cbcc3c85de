"""Constraints and indexes, all derived from the schema; `kb init` runs them, idempotently."""
from __future__ import annotations

from kb import db
from kb.schema import ENTITY_LABEL, schema

SEARCH_INDEX = "entity_search"
# Only the computed search text is indexed: it already holds every folded spelling of the name and
# the aliases, so indexing those too would double Lucene's work on every load and every typo query.
SEARCH_PROPERTIES = ["search_text"]


def statements() -> list[str]:
    """Every DDL statement of the knowledge base (labels come from the schema's allow-list)."""
    found = [f"CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:{ENTITY_LABEL}) REQUIRE n.id IS UNIQUE"]
    for name in schema().entities:
        found.append(f"CREATE CONSTRAINT {name.lower()}_id IF NOT EXISTS FOR (n:`{name}`) REQUIRE n.id IS UNIQUE")
    # Reconciliation looks records up by their external ids (the properties with a format).
    for name in schema().external_ids:
        found.append(f"CREATE INDEX entity_{name} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON (n.`{name}`)")
    # Eventually consistent: Lucene updates leave the commit path (large loads commit faster);
    # loaders wait for the refresh at the end, so a load's entities are searchable when it returns.
    return found + [_search_index_statement()]


def _search_index_statement() -> str:
    indexed = ", ".join(f"n.`{name}`" for name in SEARCH_PROPERTIES)
    return (f"CREATE FULLTEXT INDEX {SEARCH_INDEX} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) ON EACH [{indexed}] "
            "OPTIONS {indexConfig: {`fulltext.eventually_consistent`: true}}")


def create_search_index() -> None:
    """Create the full-text index if it is missing; the server populates it in the background."""
    db.write(_search_index_statement())


def drop_search_index() -> None:
    """Drop the full-text index; init builds it again from what is stored."""
    db.write(f"DROP INDEX {SEARCH_INDEX} IF EXISTS")


def await_search_index() -> None:
    """Wait until the full-text index has caught up with every committed write."""
    db.write("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()")


def init(wait_seconds: int = 300) -> int:
    """Create every constraint and index that is missing and wait until they are online."""
    _drop_outdated_search_index()
    for statement in statements():
        db.write(statement)
    db.write("CALL db.awaitIndexes($seconds)", seconds=wait_seconds)
    return len(statements())


def _drop_outdated_search_index() -> None:
    """A database made by an earlier version indexed other properties; its index is rebuilt."""
    found = db.read("SHOW FULLTEXT INDEXES YIELD name, properties WHERE name = $name RETURN properties",
                    name=SEARCH_INDEX)
    if found and sorted(found[0]["properties"]) != sorted(SEARCH_PROPERTIES):
        db.write(f"DROP INDEX {SEARCH_INDEX}")
