"""The demo Qinghai policy set: valid, realistic, idempotent, and every screen gets data."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from xinrong.accounts.choices import OrgKind
from xinrong.accounts.models import Organisation
from xinrong.policies import conditions as cond
from xinrong.policies.choices import Delivery, MeasureKind, MeasureStatus, PolicyLevel
from xinrong.policies.demo import seed_policies
from xinrong.policies.demo.catalogue import (
    check_policy_data,
    load_policy_data,
    seed_policy_catalogue,
)
from xinrong.policies.models import Measure, MeasureVersion, PolicyDocument


def test_data_file_is_valid():
    data = load_policy_data()
    assert check_policy_data(data) == []
    docs = data["documents"]
    measures = [m for d in docs for m in d["measures"]]
    assert 10 <= len(docs) <= 15
    assert 30 <= len(measures) <= 40
    assert {d["level"] for d in docs} == set(PolicyLevel.values)
    assert {m["kind"] for m in measures} == set(MeasureKind.values)
    assert len({d["department"] for d in docs}) >= 8
    assert any(d.get("is_pboc") for d in docs)
    assert sum(m.get("delivery") == Delivery.AUTOMATIC for m in measures) >= 3
    assert sum(m["kind"] == MeasureKind.INTEREST_SUBSIDY for m in measures) >= 3


def test_check_reports_bad_rows():
    data = {
        "documents": [
            {
                "title": "坏文件",
                "level": "galactic",
                "department": "x",
                "measures": [
                    {"code": "A", "kind": "subsidy", "ratio": "1.5", "window": [5, 1]},
                    {"code": "A", "kind": "gift", "conditions": [{"field": "nope"}]},
                ],
            }
        ]
    }
    problems = check_policy_data(data)
    text = "\n".join(problems)
    for needle in ("level galactic", "ratio 1.5", "window 5>1", "duplicate code", "kind gift"):
        assert needle in text
    assert any("nope" in p for p in problems)


@pytest.mark.django_db
def test_seed_creates_published_catalogue_once():
    today = dt.date(2026, 6, 1)
    n = seed_policy_catalogue(today=today)
    assert n == Measure.objects.count() >= 30
    assert MeasureVersion.objects.filter(version=1).count() == n
    assert not Measure.objects.exclude(status=MeasureStatus.PUBLISHED).exists()
    # the departments the file needs exist, with their regions
    golmud = Organisation.objects.get(name="格尔木市人民政府")
    assert golmud.kind == OrgKind.GOVERNMENT and golmud.region_code == "632801"
    # windows are relative to the day of seeding
    m = Measure.objects.get(code="QH-GX-2024-02")
    assert m.window_start == today - dt.timedelta(days=30)
    assert m.window_end == today + dt.timedelta(days=90)
    assert m.ratio == Decimal("0.30") and m.cap == Decimal("500000.00")
    assert m.budget == Decimal("8000000.00")
    assert "项目申报书" in m.materials
    # conditions are valid data and read back as Chinese sentences
    for measure in Measure.objects.all():
        assert cond.validate(measure.conditions) == []
        assert cond.sentence(measure.conditions).endswith("。")
    version = MeasureVersion.objects.get(measure=m)
    assert version.terms["budget"] == "8000000.00" and version.terms["kind"] == "subsidy"
    pboc = PolicyDocument.objects.filter(is_pboc=True)
    assert pboc.count() == 2
    assert set(pboc.values_list("department__name", flat=True)) == {"中国人民银行青海省分行"}
    # idempotent
    orgs = Organisation.objects.count()
    assert seed_policy_catalogue(today=today) == 0
    assert Measure.objects.count() == n and Organisation.objects.count() == orgs
    assert PolicyDocument.objects.count() == len(load_policy_data()["documents"])


@pytest.mark.django_db
def test_seed_uses_given_departments():
    existing = Organisation.objects.create(name="青海省工业和信息化厅", kind=OrgKind.GOVERNMENT)
    seed_policy_catalogue(orgs={existing.name: existing})
    assert Organisation.objects.filter(name=existing.name).count() == 1
    by_dept = Counter(Measure.objects.values_list("document__department__name", flat=True))
    assert by_dept["青海省工业和信息化厅"] == 5


@pytest.mark.django_db
def test_seed_policies_reports():
    report = seed_policies(7)
    assert report["seed"] == 7 and report["measures"] >= 30
    assert seed_policies(7)["measures"] == 0
