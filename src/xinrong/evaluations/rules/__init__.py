"""Permissions of the evaluations app (each subject declares its own in a module here)."""

from xinrong.evaluations.rules import ratings  # noqa: F401
