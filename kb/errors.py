"""Named errors of the knowledge base; each message says what was wrong and where."""


class KBError(Exception):
    """Base of every error the knowledge base reports to a user."""


class SchemaError(KBError):
    """The schema file itself is broken."""


class InvalidRecord(KBError):
    """An input record breaks the schema; the message names file, record or line, and field."""

    def __init__(self, problems, total: int | None = None):
        self.problems = list(problems)
        self.total = total or len(self.problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = self.total - min(50, len(self.problems))
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{self.total} problem(s) in the input, nothing was written:\n{shown}{tail}")


class QueryRefused(KBError):
    """A user's Cypher was refused before it ran (not read-only, or not valid)."""


class QueryTimeout(KBError):
    """A user's Cypher ran past the server-side timeout and was stopped."""


class RunawayQuery(QueryTimeout):
    """A user's Cypher ran past its timeout and grace period and the server goes on computing it."""


class ReadTimedOut(KBError):
    """One of the knowledge base's own reads (a page, a CLI command) ran past KB_READ_TIMEOUT and was stopped."""


class DatabaseUnavailable(KBError):
    """The Neo4j database cannot be reached."""


class DatabaseRefused(KBError):
    """Neo4j answered a request with an error that no other error here explains."""


class OutputFolderInUse(KBError):
    """An output folder holds files that writing into it would overwrite or mix with."""


class ServerError(KBError):
    """The local Neo4j server could not be built, started or stopped."""


class ToolError(KBError):
    """A Neo4j command-line tool (cypher-shell, neo4j-admin) could not be built or failed."""


class BackupError(KBError):
    """A backup could not be written or restored, or a restore does not match its manifest."""


class LoadInterrupted(KBError):
    """A load stopped because the database changed under it (an entity it needs deleted, or created by
    someone else meanwhile); running it again completes it."""


class BulkLoadError(KBError):
    """A bulk load was refused, or its offline import failed (the database is then left empty)."""


class SearchUnavailable(KBError):
    """The full-text search index is missing (a first load builds it when it has written)."""


class SettingError(KBError):
    """A setting has a value that cannot be used."""


class AnalysisError(KBError):
    """An analysis was asked for an unknown measure, entity type or relation type."""


class StoryError(KBError):
    """A story file is broken or names an entity the database does not hold; the message names file, step and field."""


class FetchError(KBError):
    """A public service did not answer a request with what was asked for (refused, timed out, malformed)."""
