"""Fixtures of the marketplace tests."""

import pytest


@pytest.fixture
def other_enterprise_user(db):
    from conftest import PASSWORD
    from xinrong.enterprises.services import enterprise_register
    from xinrong.enterprises.tests.factories import valid_id_number, valid_uscc

    return enterprise_register(
        uscc=valid_uscc(seed=2),
        name="海东测试农牧有限公司",
        legal_rep_name="韩青",
        legal_rep_id_number=valid_id_number(seed=2),
        username="ent_other",
        password=PASSWORD,
        industry_code="A03",
        division_code="632801",
    )
