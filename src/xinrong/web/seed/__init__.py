"""Deterministic demo data: organisations, users for every role, the market-entity registry,
guarantees, public-credit facts, scores, products and a financing history.

``seed(scale=..., seed_value=...)`` creates the same rows for the same arguments and adds nothing on
a second run. One module per subject (``organisations``, ``registry``, ``guarantees``,
``scoring``, ``products``; ``run`` puts them in order); the literal tables (names, industries,
institutions, product templates, demo logins) are TOML files under ``data/``. Public credit facts
and the financing history are written by ``datahub.demo`` and ``marketplace.demo``.
"""

from xinrong.web.seed.base import DEMO_PASSWORD, SCALES, SeedReport
from xinrong.web.seed.organisations import DEMO_USERS, DemoLogin, demo_logins
from xinrong.web.seed.run import seed

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "SCALES",
    "DemoLogin",
    "SeedReport",
    "demo_logins",
    "seed",
]
