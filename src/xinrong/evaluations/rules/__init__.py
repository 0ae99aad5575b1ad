"""Permissions of the evaluations app (each subject declares its own in a module here)."""
