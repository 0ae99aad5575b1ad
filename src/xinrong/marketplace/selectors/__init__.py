"""Reads of the marketplace, one module per subdomain (import the submodule you need)."""
