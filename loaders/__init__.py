"""Loaders: one module per kind of source, all validating before they write."""
