"""Unified sign-on: the platform as an OpenID Connect relying party (docs/sign-on.md)."""
