import pytest

from xinrong.datahub.services.sources import source_create


@pytest.fixture
def tax_source(make_user):
    provider = make_user("government", ["data_provider"])
    source = source_create(
        code="tax",
        name="国家税务总局青海省税务局",
        organisation=provider.organisation,
        categories=["tax", "penalty", "judicial", "utility"],
    )
    source.provider = provider
    return source
