import io

import pytest

from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create


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


# ---------------------------------------------------------------- disputes and credit repair


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Evidence files land in a per-test folder, not in var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tax_clerk(make_user):
    """A tax department's data provider with a source delivering tax and penalty data."""
    clerk = make_user("government", ["data_provider"], username="tax_clerk")
    clerk.source = source_create(
        code="tax-dept",
        name="国家税务总局青海省税务局",
        organisation=clerk.organisation,
        categories=["tax", "penalty"],
    )
    return clerk


def deliver(source, category, header, rows):
    """Ingest CSV rows of a category through the pipeline; return the new facts."""
    text = "\n".join([header, *rows]) + "\n"
    batch = batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )
    return list(batch.facts.order_by("id"))


@pytest.fixture
def tax_fact(entity, tax_clerk):
    """A tax fact of the enterprise: 2024-06, paid 1000.00, grade B, no arrears."""
    (fact,) = deliver(
        tax_clerk.source,
        "tax",
        "统一社会信用代码,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）",
        [f"{entity.uscc},2024-06,1000,B,0"],
    )
    return fact


@pytest.fixture
def make_penalty(entity, tax_clerk):
    """Return a factory delivering a penalty of a severity decided on a date."""
    counter = {"n": 0}

    def factory(severity: str, decided_on: str):
        counter["n"] += 1
        (fact,) = deliver(
            tax_clerk.source,
            "penalty",
            "统一社会信用代码,决定书文号,严重程度,处罚日期,罚没金额（元）",
            [f"{entity.uscc},青税罚〔2024〕{counter['n']}号,{severity},{decided_on},5000"],
        )
        return fact

    return factory


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name: str = "证明.pdf", content: bytes = PDF_BYTES):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")
