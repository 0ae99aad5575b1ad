"""Writes for accounts, by subject: ``organisations``, ``users``, ``login``, ``api_keys``,
``api_requests`` (signed requests, nonces, idempotency) and ``security`` (the security log).

Callers import the submodule they need:
``from xinrong.accounts.services.users import user_create``.
"""
