"""Operations: the local server, Neo4j's tools, backup and restore; asked for, never done behind a read."""
