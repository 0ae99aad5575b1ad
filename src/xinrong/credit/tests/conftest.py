import io

import pytest

from xinrong.datahub.services import batch_ingest, source_create


@pytest.fixture
def entity(enterprise_user):
    return enterprise_user.organisation.market_entity


@pytest.fixture
def facts(entity, make_user):
    """A tax fact (non-public), a penalty (public) and an old negative tax fact."""
    dept = make_user("government", ["data_provider"])
    src = source_create(
        code="tax", name="税务", organisation=dept.organisation, categories=["tax", "penalty"]
    )
    tax = (
        "统一社会信用代码,所属期,实缴税额（元）,欠税金额（元）\n"
        f"{entity.uscc},2024-06,1000,0\n{entity.uscc},2015-06,0,300\n"
    )
    batch_ingest(
        source=src,
        category="tax",
        fileobj=io.BytesIO(tax.encode()),
        filename="t.csv",
        channel="cli",
    )
    pen = (
        "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
        f"{entity.uscc},青罚〔2024〕1号,minor,2024-05-01\n"
    )
    batch_ingest(
        source=src,
        category="penalty",
        fileobj=io.BytesIO(pen.encode()),
        filename="p.csv",
        channel="cli",
    )
