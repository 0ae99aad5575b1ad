"""Selectors (reads) of 融资评价."""
