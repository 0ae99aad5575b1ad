"""Workflows of 融资评价."""

from xinrong.evaluations.workflows.appeals import APPEAL

__all__ = ["APPEAL"]
