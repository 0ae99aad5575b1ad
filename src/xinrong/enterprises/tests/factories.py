"""Factories for the registry: valid codes, people and market entities."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import factory

from xinrong.enterprises.models import MarketEntity, Person
from xinrong.enterprises.names import name_key
from xinrong.reference import idcard
from xinrong.reference import uscc as uscc_codec


def valid_uscc(*, seed: int, division: str = "630102", individual: bool = False) -> str:
    """Return a valid USCC, the same for the same seed."""
    return uscc_codec.generate(
        random.Random(seed), division_code=division, entity_type="2" if individual else "1"
    )


def valid_id_number(*, seed: int, division: str = "630102") -> str:
    """Return a valid 18-digit ID number, the same for the same seed."""
    return idcard.generate(random.Random(seed), division_code=division, birth=dt.date(1985, 6, 1))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"张{n}")
    id_number = factory.Sequence(lambda n: valid_id_number(seed=10_000 + n))


class MarketEntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketEntity

    uscc = factory.Sequence(lambda n: valid_uscc(seed=100_000 + n))
    name = factory.Sequence(lambda n: f"青海测试{n}有限公司")
    name_key = factory.LazyAttribute(lambda o: name_key(o.name))
    entity_type = "enterprise"
    industry_code = "F51"
    division_code = "630102"
    legal_representative = factory.SubFactory(PersonFactory)
    employees = 5
    annual_revenue = Decimal("200.00")
    total_assets = Decimal("150.00")
