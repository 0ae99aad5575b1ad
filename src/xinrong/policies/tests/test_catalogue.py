"""The policy catalogue: documents and measures, versions, publish/withdraw, pages and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.policies.choices import DocumentStatus, MeasureStatus
from xinrong.policies.models import Measure, MeasureEvent, MeasureVersion, PolicyDocumentEvent
from xinrong.policies.services import catalogue as svc

pytestmark = pytest.mark.django_db

DOC = {
    "title": "关于支持专精特新中小企业高质量发展的若干措施",
    "doc_number": "青工信发〔2026〕12号",
    "level": "provincial",
    "issued_on": dt.date(2026, 3, 1),
    "region_code": "630000",
}
TERMS = {
    "title": "专精特新中小企业一次性奖励",
    "kind": "award",
    "delivery": "apply",
    "amount": Decimal("200000"),
    "budget": Decimal("5000000"),
    "window_start": dt.date(2026, 3, 1),
    "window_end": dt.date(2026, 10, 31),
    "materials": "申请表，营业执照",
    "contact": "中小企业处 0971-0000000",
    "tags": "专精特新,奖励",
    "conditions": [
        {"field": "entity_type", "op": "in", "value": ["enterprise"]},
        {"field": "tax_grade", "op": ">=", "value": "B"},
        {"field": "dishonest", "op": "is", "value": False},
    ],
}


@pytest.fixture
def publisher(make_user):
    return make_user("government", ["policy_publisher"], username="pub1")


@pytest.fixture
def other_publisher(make_user):
    return make_user("government", ["policy_publisher"], username="pub2")


@pytest.fixture
def doc(publisher):
    return svc.document_create(actor=publisher, data=DOC)


@pytest.fixture
def measure(publisher, doc):
    return svc.measure_create(actor=publisher, document=doc, terms=TERMS)


def test_create_writes_version_one_and_events(publisher, doc, measure):
    assert doc.department_id == publisher.organisation_id
    assert doc.status == DocumentStatus.DRAFT
    assert measure.version == 1 and measure.status == MeasureStatus.DRAFT
    assert measure.materials == ["申请表", "营业执照"] and measure.tags == ["专精特新", "奖励"]
    v = MeasureVersion.objects.get(measure=measure)
    assert v.version == 1 and v.in_force_to is None
    assert v.terms["amount"] == "200000.00" and v.terms["window_end"] == "2026-10-31"
    assert PolicyDocumentEvent.objects.filter(document=doc, kind="created").count() == 1
    assert MeasureEvent.objects.filter(measure=measure, kind="created").count() == 1


def test_edit_bumps_version_closes_previous_and_only_when_changed(publisher, measure):
    terms = {**TERMS, "amount": Decimal("300000")}
    m = svc.measure_update(actor=publisher, measure=measure, terms=terms, note="提高标准")
    assert m.version == 2 and m.amount == Decimal("300000.00")
    v1, v2 = MeasureVersion.objects.filter(measure=m).order_by("version")
    assert v1.in_force_to is not None and v1.in_force_to == v2.in_force_from
    assert v2.in_force_to is None and v2.note == "提高标准"
    # the same terms again: no new version
    again = svc.measure_update(actor=publisher, measure=m, terms=terms)
    assert again.version == 2
    assert MeasureVersion.objects.filter(measure=m).count() == 2


def test_all_term_errors_at_once_naming_fields(publisher, doc):
    bad = {
        **TERMS,
        "title": "",
        "amount": Decimal("-1"),
        "ratio": Decimal("1.5"),
        "budget": "abc",
        "window_start": dt.date(2026, 12, 1),
        "window_end": dt.date(2026, 1, 1),
        "conditions": [{"field": "tax_grade", "op": ">=", "value": "Z"}],
    }
    with pytest.raises(ValidationError) as exc:
        svc.measure_create(actor=publisher, document=doc, terms=bad)
    fields = set(exc.value.error_dict)
    assert fields == {"title", "amount", "ratio", "budget", "window_end", "conditions"}
    assert "不能为负数" in exc.value.error_dict["amount"][0].messages[0]
    assert "纳税信用等级" in exc.value.error_dict["conditions"][0].messages[0]
    assert not Measure.objects.exists()


def test_unknown_tag_in_conditions_refused(publisher, doc):
    terms = {**TERMS, "conditions": [{"field": "tags", "op": "has_any", "value": ["nosuch"]}]}
    with pytest.raises(ValidationError) as exc:
        svc.measure_create(actor=publisher, document=doc, terms=terms)
    assert "没有这些企业标签" in str(exc.value)


def test_publish_needs_published_document_then_withdraw_with_document(publisher, doc, measure):
    with pytest.raises(ApplicationError) as exc:
        svc.measure_publish(actor=publisher, measure=measure)
    assert exc.value.code == "document_not_published"
    svc.document_publish(actor=publisher, document=doc)
    svc.measure_publish(actor=publisher, measure=measure)
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.PUBLISHED and measure.published_at is not None
    svc.document_withdraw(actor=publisher, document=doc, note="政策到期")
    measure.refresh_from_db()
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.WITHDRAWN and measure.status == MeasureStatus.WITHDRAWN


def test_after_change_hook_runs_on_publish_and_edit(
    publisher, doc, measure, monkeypatch, django_capture_on_commit_callbacks
):
    seen: list[int] = []
    monkeypatch.setattr(svc, "_after_measure_change", lambda m: seen.append(m.version))
    svc.document_publish(actor=publisher, document=doc)
    with django_capture_on_commit_callbacks(execute=True):
        svc.measure_publish(actor=publisher, measure=measure)
    with django_capture_on_commit_callbacks(execute=True):
        svc.measure_update(actor=publisher, measure=measure, terms={**TERMS, "cap": "100000"})
    assert seen == [1, 2]


def test_other_department_cannot_touch(other_publisher, doc, measure, enterprise_user):
    with pytest.raises(PermissionDeniedError):
        svc.measure_update(actor=other_publisher, measure=measure, terms=TERMS)
    with pytest.raises(PermissionDeniedError):
        svc.document_publish(actor=other_publisher, document=doc)
    with pytest.raises(PermissionDeniedError):
        svc.document_create(actor=enterprise_user, data=DOC)
    doc.refresh_from_db()
    assert doc.status == DocumentStatus.DRAFT


# ---------------------------------------------------------------- pages


def _published(publisher, doc, measure):
    svc.document_publish(actor=publisher, document=doc)
    svc.measure_publish(actor=publisher, measure=measure)


def test_public_pages_open_to_anonymous(publisher, doc, measure):
    client = Client()
    r = client.get(reverse("policies:list"))
    assert r.status_code == 200 and "暂无已发布的政策" in r.content.decode()
    assert client.get(reverse("policies:document", args=[doc.pk])).status_code == 404
    _published(publisher, doc, measure)
    html = client.get(reverse("policies:list") + "?kind=award&level=provincial").content.decode()
    assert doc.title in html
    html = client.get(reverse("policies:list") + "?kind=tax_relief").content.decode()
    assert "没有符合条件的政策" in html
    html = client.get(reverse("policies:document", args=[doc.pk])).content.decode()
    assert "纳税信用等级不低于B级" in html and "定额200,000.00 元" in html
    html = client.get(reverse("policies:measure", args=[measure.code])).content.decode()
    assert "未被列为失信被执行人" in html and "第1版" in html


def test_workspace_lists_own_department_only(client, publisher, other_publisher, doc):
    client.force_login(other_publisher)
    r = client.get(reverse("policies:workspace"))
    assert r.status_code == 200 and doc.title not in r.content.decode()
    assert client.get(reverse("policies:document_manage", args=[doc.pk])).status_code == 404
    client.force_login(publisher)
    assert doc.title in client.get(reverse("policies:workspace")).content.decode()


def test_enterprise_refused_workspace(client, enterprise_user):
    client.force_login(enterprise_user)
    assert client.get(reverse("policies:workspace")).status_code == 403


def _condition_post(prefix_rows: list[tuple[str, str, str]], **terms: str) -> dict[str, str]:
    data = {
        "title": "首贷贴息",
        "kind": "interest_subsidy",
        "delivery": "apply",
        "ratio": "0.5",
        "cap": "50000",
        "c-TOTAL_FORMS": str(len(prefix_rows)),
        "c-INITIAL_FORMS": "0",
        "c-MIN_NUM_FORMS": "0",
        "c-MAX_NUM_FORMS": "20",
    }
    for i, (field, op, value) in enumerate(prefix_rows):
        data[f"c-{i}-field"] = field
        data[f"c-{i}-op"] = op
        data[f"c-{i}-value"] = value
    data.update(terms)
    return data


def test_condition_editor_preview_then_save(client, publisher, doc):
    client.force_login(publisher)
    url = reverse("policies:measure_new", args=[doc.pk])
    rows = [
        ("entity_type", "in", "企业,个体工商户"),
        ("years_in_business", ">=", "2"),
        ("first_loan", "is", "是"),
        ("", "in", ""),
    ]
    r = client.post(url, {**_condition_post(rows), "preview": "1"})
    html = r.content.decode()
    assert r.status_code == 200 and "主体类型为企业、个体工商户；经营年限不少于2年" in html
    assert not Measure.objects.exists()
    r = client.post(url, _condition_post(rows))
    assert r.status_code == 302
    m = Measure.objects.get()
    assert m.conditions == [
        {"field": "entity_type", "op": "in", "value": ["enterprise", "individual_business"]},
        {"field": "years_in_business", "op": ">=", "value": 2},
        {"field": "first_loan", "op": "is", "value": True},
    ]
    assert m.ratio == Decimal("0.5")
    # the edit page shows the stored conditions back in the editor and as a sentence
    html = client.get(reverse("policies:measure_edit", args=[m.pk])).content.decode()
    assert 'value="企业,个体工商户"' in html and "为首贷户" in html


def test_condition_editor_reports_every_problem(client, publisher, doc):
    client.force_login(publisher)
    rows = [("tax_grade", ">=", "Q"), ("employees", ">=", "many")]
    r = client.post(
        reverse("policies:measure_new", args=[doc.pk]), _condition_post(rows, ratio="2")
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert "纳税信用等级只能是" in html and "从业人数必须是数字" in html
    assert not Measure.objects.exists()


def test_measure_edit_and_versions_page(client, publisher, doc, measure):
    client.force_login(publisher)
    data = _condition_post([("tax_grade", ">=", "A")], title=measure.title, kind="award")
    data.update({"amount": "300000", "ratio": "", "cap": "", "note": "提高标准"})
    r = client.post(reverse("policies:measure_edit", args=[measure.pk]), data)
    assert r.status_code == 302
    measure.refresh_from_db()
    assert measure.version == 2
    html = client.get(reverse("policies:measure_manage", args=[measure.pk])).content.decode()
    assert "第2版" in html and "提高标准" in html
    assert "定额金额：200,000.00 元 → 300,000.00 元" in html


def test_publish_and_withdraw_buttons(client, publisher, doc, measure):
    client.force_login(publisher)
    client.post(reverse("policies:document_action", args=[doc.pk, "publish"]))
    client.post(reverse("policies:measure_action", args=[measure.pk, "publish"]))
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.PUBLISHED
    r = client.post(reverse("policies:measure_action", args=[measure.pk, "withdraw"]), {"note": ""})
    measure.refresh_from_db()
    assert r.status_code == 302 and measure.status == MeasureStatus.PUBLISHED  # note required
    client.post(reverse("policies:measure_action", args=[measure.pk, "withdraw"]), {"note": "到期"})
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.WITHDRAWN


def test_api_reads_published_only(client, publisher, doc, measure, enterprise_user):
    client.force_login(enterprise_user)
    r = client.get("/api/v1/policies/documents")
    assert r.status_code == 200 and r.json()["count"] == 0
    assert client.get(f"/api/v1/policies/measures/{measure.code}").status_code == 404
    _published(publisher, doc, measure)
    body = client.get(f"/api/v1/policies/documents/{doc.pk}").json()
    assert body["measures"][0]["code"] == measure.code
    m = client.get(f"/api/v1/policies/measures/{measure.code}").json()
    assert m["amount"] == "200000.00" and "纳税信用等级不低于B级" in m["conditions_text"]
    assert client.get("/api/v1/policies/measures?kind=award").json()["count"] == 1
    assert Client().get("/api/v1/policies/measures").status_code == 401


def test_condition_editor_preview_offers_two_more_rows(client, publisher, doc):
    """The editor says "先保存或预览，会再多出两行空白": a preview keeps the conditions typed so
    far and adds two blank rows (it used to show the same rows, so a new measure could never
    get a third condition); the rows wear the page's form look."""
    client.force_login(publisher)
    url = reverse("policies:measure_new", args=[doc.pk])
    rows = [("entity_type", "in", "企业"), ("region", "in", "632800")]
    html = client.post(url, {**_condition_post(rows), "preview": "1"}).content.decode()
    assert 'name="c-TOTAL_FORMS" value="4"' in html
    assert 'id="id_c-3-field"' in html and 'id="id_c-4-field"' not in html
    assert 'value="632800"' in html and "青海省海西蒙古族藏族自治州" in html
    assert 'class="form-select form-select-sm" id="id_c-0-field"' in html


def test_publishing_matches_and_the_measure_page_tells_its_reach(
    client, publisher, doc, measure, django_capture_on_commit_callbacks
):
    """Publishing queues the measure's matching (run at once by the test task backend); the
    workspace page then says how many entities qualified and were told."""
    from xinrong.enterprises.tests.factories import MarketEntityFactory
    from xinrong.policies.models import Measure as MeasureModel
    from xinrong.policies.models import PolicyMatch

    MarketEntityFactory.create_batch(3)
    # the fixture's application window has passed: open it again so the measure is in force
    MeasureModel.objects.filter(pk=measure.pk).update(
        window_end=dt.date.today() + dt.timedelta(days=60)
    )
    svc.document_publish(actor=publisher, document=doc)
    with django_capture_on_commit_callbacks(execute=True):
        svc.measure_publish(actor=publisher, measure=measure)
    eligible = PolicyMatch.objects.filter(measure=measure, eligible=True).count()
    pushed = PolicyMatch.objects.filter(measure=measure, pushed_at__isnull=False).count()
    assert PolicyMatch.objects.filter(measure=measure).exists()
    client.force_login(publisher)
    html = client.get(reverse("policies:measure_manage", args=[measure.pk])).content.decode()
    assert f'data-stat="reach-eligible">{eligible}<' in html
    assert f'data-stat="reach-pushed">{pushed}<' in html
