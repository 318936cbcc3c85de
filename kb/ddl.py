"""Constraints and indexes, all derived from the schema; `kb init` runs them, idempotently."""
from __future__ import annotations

from kb import db
from kb.schema import ENTITY_LABEL, schema

SEARCH_INDEX = "entity_search"


def statements() -> list[str]:
    """Every DDL statement of the knowledge base (labels come from the schema's allow-list)."""
    found = [f"CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:{ENTITY_LABEL}) REQUIRE n.id IS UNIQUE"]
    for name in schema().entities:
        found.append(f"CREATE CONSTRAINT {name.lower()}_id IF NOT EXISTS FOR (n:`{name}`) REQUIRE n.id IS UNIQUE")
    # Eventually consistent: Lucene updates leave the commit path (large loads commit faster);
    # loaders wait for the refresh at the end, so a load's entities are searchable when it returns.
    found.append(f"CREATE FULLTEXT INDEX {SEARCH_INDEX} IF NOT EXISTS FOR (n:{ENTITY_LABEL}) "
                 "ON EACH [n.name, n.aliases, n.search_text] "
                 "OPTIONS {indexConfig: {`fulltext.eventually_consistent`: true}}")
    return found


def await_search_index() -> None:
    """Wait until the full-text index has caught up with every committed write."""
    db.write("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()")


def init(wait_seconds: int = 300) -> int:
    """Create every constraint and index that is missing and wait until they are online."""
    for statement in statements():
        db.write(statement)
    db.write("CALL db.awaitIndexes($seconds)", seconds=wait_seconds)
    return len(statements())
