"""Permissions of the insight app (each subject declares its own in a module here)."""

from xinrong.insight.rules import grid, heatmap, statistics  # noqa: F401  (declare on import)
