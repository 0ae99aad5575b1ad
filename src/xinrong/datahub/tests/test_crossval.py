import io

import pytest

from xinrong.datahub.models import Conflict
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.tests.factories import MarketEntityFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def src(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="gov",
        name="部门",
        organisation=dept.organisation,
        categories=["tax", "social_security", "utility"],
    )


def _deliver(src, category, text):
    return batch_ingest(
        source=src,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )


def test_legal_representative_differing_from_registry_is_flagged_once(src):
    entity = MarketEntityFactory(legal_representative=PersonFactory(name="马明"))
    text = f"统一社会信用代码,所属期,实缴税额（元）,法定代表人\n{entity.uscc},2024-06,1,韩梅\n"
    batch = _deliver(src, "tax", text)
    assert batch.conflicts == 1
    conflict = Conflict.objects.get()
    assert (conflict.rule, conflict.severity) == ("legal_rep_mismatch", "high")
    assert conflict.detail["registry"] == "马明" and conflict.detail["tax"] == "韩梅"
    assert conflict.sources == ["registry", "gov"]
    again = _deliver(src, "tax", text.replace("2024-06,1", "2024-06,2"))
    assert again.conflicts == 0 and Conflict.objects.count() == 1


def test_same_legal_representative_written_differently_is_not_a_conflict(src):
    entity = MarketEntityFactory(
        legal_representative=PersonFactory(name="马明"), name="西宁鑫源（集团）有限责任公司"
    )
    _deliver(
        src,
        "tax",
        "统一社会信用代码,主体名称,所属期,实缴税额（元）,法定代表人\n"
        f"{entity.uscc},西宁鑫源(集团)有限公司,2024-06,1, 马明\n",
    )
    assert not Conflict.objects.exists()


def test_declared_employees_far_above_insured_headcount(src):
    entity = MarketEntityFactory()
    _deliver(
        src, "tax", f"统一社会信用代码,所属期,实缴税额（元）,从业人数\n{entity.uscc},2024-06,1,40\n"
    )
    batch = _deliver(
        src, "social_security", f"统一社会信用代码,所属期,参保人数\n{entity.uscc},2024-06,6\n"
    )
    assert batch.conflicts == 1
    assert Conflict.objects.get().rule == "employees_vs_insured"


def test_small_headcount_gaps_are_normal(src):
    entity = MarketEntityFactory()
    _deliver(
        src, "tax", f"统一社会信用代码,所属期,实缴税额（元）,从业人数\n{entity.uscc},2024-06,1,12\n"
    )
    _deliver(src, "social_security", f"统一社会信用代码,所属期,参保人数\n{entity.uscc},2024-06,8\n")
    assert not Conflict.objects.exists()


def test_deregistered_entity_still_billed_for_utilities(src):
    entity = MarketEntityFactory(registration_status="cancelled")
    batch = _deliver(
        src,
        "utility",
        f"统一社会信用代码,类别,所属期,应缴金额（元）\n{entity.uscc},electricity,2024-09,320\n",
    )
    assert batch.conflicts == 1
    assert Conflict.objects.get().detail == {"last_period": "2024-09"}


def test_name_in_tax_data_differing_from_registry(src):
    entity = MarketEntityFactory(name="青海甲公司")
    _deliver(
        src,
        "tax",
        f"统一社会信用代码,主体名称,所属期,实缴税额（元）\n{entity.uscc},青海乙公司,2024-06,1\n",
    )
    assert Conflict.objects.get().rule == "name_mismatch"


def test_every_rule_reads_fields_that_exist():
    from xinrong.datahub.categories import CATEGORIES
    from xinrong.datahub.crossval import RULES

    for rule in RULES:
        assert rule.reads
        for category, key in rule.reads:
            assert key in CATEGORIES[category].by_key, (rule.id, category, key)
