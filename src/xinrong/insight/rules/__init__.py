"""Permissions of the insight app (each subject declares its own in a module here)."""

from xinrong.insight.rules import grid, heatmap  # noqa: F401  (heat maps, the grid programme)
