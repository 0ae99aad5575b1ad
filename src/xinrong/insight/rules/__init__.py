"""Permissions of the insight app (each subject declares its own in a module here)."""

from xinrong.insight.rules import statistics  # noqa: F401  (统计分析)
