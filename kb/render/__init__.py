"""Rendering: drawings of the graph, stories and citations, from what the core computes."""
