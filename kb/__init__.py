"""Sino-German Ties knowledge base: a cited graph of industrial ties on Neo4j."""
