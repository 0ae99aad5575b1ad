"""Permissions of the insight app (each subject declares its own in a module here)."""
