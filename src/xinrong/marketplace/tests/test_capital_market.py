"""The capital-market reserve database: screening, adding, investors' interest and answers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.credit.models import CreditProfile, ScoreModel
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create
from xinrong.enterprises.models import MarketEntity
from xinrong.enterprises.tests.factories import MarketEntityFactory
from xinrong.marketplace.choices import InterestStatus, ReserveEventKind, ReserveStatus
from xinrong.marketplace.models import InvestorInterest, ReserveCandidate
from xinrong.marketplace.selectors import capital_market as capital_market_selectors
from xinrong.marketplace.services import capital_market as capital_market_services
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _profile(entity, grade, score):
    model = ScoreModel.objects.first() or ScoreModel.objects.create(version=1, name="测试", card={})
    return CreditProfile.objects.create(entity=entity, model=model, score=score, grade=grade)


def _deliver(source, category, header, rows):
    text = "\n".join([header, *rows]) + "\n"
    batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )


@pytest.fixture
def star(enterprise_user, make_user):
    """The enterprise: grade AA, 专精特新, 20 万元 tax in the last 12 months, 10 years old."""
    entity = enterprise_user.organisation.market_entity
    MarketEntity.objects.filter(pk=entity.pk).update(
        established_on=timezone.localdate() - dt.timedelta(days=3700)
    )
    dept = make_user("government", ["data_provider"])
    src = source_create(
        code="gov", name="工信与税务", organisation=dept.organisation, categories=["honour", "tax"]
    )
    _deliver(
        src,
        "honour",
        "统一社会信用代码,荣誉/资质名称,认定日期",
        [f"{entity.uscc},专精特新中小企业,2023-09-01"],
    )
    period = (timezone.localdate() - dt.timedelta(days=40)).strftime("%Y-%m")
    _deliver(
        src, "tax", "统一社会信用代码,所属期,实缴税额（元）", [f"{entity.uscc},{period},200000"]
    )
    _profile(entity, "AA", 700)
    entity.refresh_from_db()
    return entity


@pytest.fixture
def plain():
    """Grade A, no honours, no tax, two years old."""
    entity = MarketEntityFactory(established_on=timezone.localdate() - dt.timedelta(days=800))
    _profile(entity, "A", 650)
    return entity


@pytest.fixture
def weak():
    entity = MarketEntityFactory()
    _profile(entity, "BBB", 610)
    return entity


@pytest.fixture
def investor(make_user):
    return make_user("investor", ["institution_admin"])


def _screen(user, **criteria):
    rows, total = capital_market_selectors.reserve_screen(
        user=user, criteria=capital_market_selectors.reserve_criteria_parse(criteria)
    )
    return [r.entity for r in rows], total


# ---------------------------------------------------------------- screening


def test_screen_applies_each_criterion(operator, star, plain, weak):
    assert _screen(operator, min_grade="A") == ([star, plain], 2)
    assert _screen(operator, min_grade="BBB")[0] == [star, plain, weak]
    assert _screen(operator, min_grade="A", honour="专精特新")[0] == [star]
    assert _screen(operator, min_tax_paid_wan="10")[0] == [star]
    assert _screen(operator, min_tax_paid_wan="30")[0] == []
    assert _screen(operator, min_years="5")[0] == [star]
    assert _screen(operator, min_grade="A", region="632800")[0] == []
    rows, _n = capital_market_selectors.reserve_screen(
        user=operator, criteria=capital_market_selectors.ReserveCriteria()
    )
    by_entity = {r.entity: r.metrics for r in rows}
    assert by_entity[star].honours == 1 and by_entity[star].tax_paid_wan == pytest.approx(20.0)
    assert by_entity[star].years_in_business == pytest.approx(3700 / 365.25)


def test_screen_leaves_out_entities_already_in_the_reserve_unless_asked(operator, star, plain):
    capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    assert _screen(operator)[0] == [plain]
    rows, _n = capital_market_selectors.reserve_screen(
        user=operator, criteria=capital_market_selectors.ReserveCriteria(include_reserved=True)
    )
    assert [(r.entity, r.in_reserve) for r in rows] == [(star, True), (plain, False)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_grade", "Z"), ("min_tax_paid_wan", "abc"), ("min_years", "-1"), ("region", "999999")],
)
def test_bad_criteria_name_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        capital_market_selectors.reserve_criteria_parse({field: value})
    assert field in exc.value.message_dict


def test_only_the_operator_screens(bank_officer, investor, enterprise_user):
    for user in (bank_officer, investor, enterprise_user):
        with pytest.raises(PermissionDeniedError):
            _screen(user)


# ---------------------------------------------------------------- the workflow


def test_operator_adds_with_a_snapshot_event_and_notice(
    operator, star, enterprise_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = capital_market_services.reserve_add(
            actor=operator, entity=star, criteria={"min_grade": "A"}, note="重点培育"
        )
    assert entry.status == ReserveStatus.ACTIVE and entry.added_by == operator
    assert entry.criteria["criteria"] == {"min_grade": "A"}
    assert entry.criteria["metrics"]["grade"] == "AA" and entry.criteria["metrics"]["honours"] == 1
    assert [e.kind for e in entry.events.all()] == [ReserveEventKind.ADDED]
    assert Notification.objects.filter(recipient=enterprise_user, kind="capital_market").exists()
    with pytest.raises(ConflictError):
        capital_market_services.reserve_add(actor=operator, entity=star, criteria={})


def test_only_operator_admins_add(bank_officer, investor, make_user, star):
    auditor = make_user("operator", ["auditor"])
    for user in (bank_officer, investor, auditor):
        with pytest.raises(PermissionDeniedError):
            capital_market_services.reserve_add(actor=user, entity=star, criteria={})
    assert not ReserveCandidate.objects.exists()


def test_investor_expresses_interest_and_the_enterprise_answers(
    operator,
    star,
    investor,
    enterprise_user,
    make_user,
    django_capture_on_commit_callbacks,
):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    with django_capture_on_commit_callbacks(execute=True):
        interest = capital_market_services.interest_express(
            actor=investor, candidate=entry, note="拟领投A轮"
        )
    assert interest.status == InterestStatus.PENDING
    assert Notification.objects.filter(
        recipient=enterprise_user, kind="capital_market", title__contains=investor.organisation.name
    ).exists()
    with pytest.raises(ConflictError):
        capital_market_services.interest_express(actor=investor, candidate=entry)
    # another investor sees only its own interests; the enterprise and the operator see all
    other = make_user("investor", ["loan_officer"])
    capital_market_services.interest_express(actor=other, candidate=entry)
    assert list(capital_market_selectors.reserve_interests(user=investor, candidate=entry)) == [
        interest
    ]
    assert (
        capital_market_selectors.reserve_interests(user=enterprise_user, candidate=entry).count()
        == 2
    )
    assert capital_market_selectors.reserve_interests(user=operator, candidate=entry).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        capital_market_services.interest_respond(
            actor=enterprise_user, interest=interest, accept=True, note="欢迎来访"
        )
    interest.refresh_from_db()
    assert interest.status == InterestStatus.ACCEPTED and interest.responded_by == enterprise_user
    assert Notification.objects.filter(recipient=investor, kind="capital_market").exists()
    with pytest.raises(ConflictError):
        capital_market_services.interest_respond(
            actor=enterprise_user, interest=interest, accept=False
        )
    kinds = [e.kind for e in entry.events.order_by("id")]
    assert kinds == ["added", "interest", "interest", "accepted"]


def test_interest_and_answers_check_role_and_object(
    operator, star, investor, make_user, bank_officer, other_enterprise_user, enterprise_user
):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    reviewer = make_user("investor", ["reviewer"])
    for user in (bank_officer, reviewer, enterprise_user, operator):
        with pytest.raises(PermissionDeniedError):
            capital_market_services.interest_express(actor=user, candidate=entry)
    interest = capital_market_services.interest_express(actor=investor, candidate=entry)
    for user in (other_enterprise_user, investor, operator):
        with pytest.raises(PermissionDeniedError):
            capital_market_services.interest_respond(actor=user, interest=interest, accept=True)
    assert InvestorInterest.objects.get().status == InterestStatus.PENDING


def test_operator_records_a_listing_or_a_removal_and_pending_interests_close(
    operator, star, investor, enterprise_user, bank_officer
):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    interest = capital_market_services.interest_express(
        actor=investor, candidate=entry, note="拟领投"
    )
    for user in (bank_officer, investor, enterprise_user):
        with pytest.raises(PermissionDeniedError):
            capital_market_services.reserve_close(
                actor=user, candidate=entry, status="listed", note="x"
            )
    with pytest.raises(ValidationError):
        capital_market_services.reserve_close(
            actor=operator, candidate=entry, status="listed", note=" "
        )
    with pytest.raises(ValidationError):
        capital_market_services.reserve_close(
            actor=operator, candidate=entry, status="active", note="x"
        )
    capital_market_services.reserve_close(
        actor=operator, candidate=entry, status="listed", note="2026-11-20 青海股权交易中心挂牌"
    )
    entry.refresh_from_db()
    interest.refresh_from_db()
    assert entry.status == "listed" and interest.status == InterestStatus.DECLINED
    assert entry.events.order_by("-id").first().kind == "listed"
    with pytest.raises(ConflictError):
        capital_market_services.reserve_close(
            actor=operator, candidate=entry, status="removed", note="x"
        )
    assert list(capital_market_selectors.reserve_visible(user=investor)) == []


def test_investors_browse_active_entries_only(operator, star, plain, investor, bank_officer):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    removed = capital_market_services.reserve_add(actor=operator, entity=plain, criteria={})
    ReserveCandidate.objects.filter(pk=removed.pk).update(status=ReserveStatus.REMOVED)
    assert list(capital_market_selectors.reserve_visible(user=investor)) == [entry]
    assert capital_market_selectors.reserve_visible(user=operator).count() == 2
    assert list(capital_market_selectors.reserve_visible(user=bank_officer)) == []
    with pytest.raises(ConflictError):
        removed.refresh_from_db()
        capital_market_services.interest_express(actor=investor, candidate=removed)


def test_financing_cases_are_recorded_by_the_operator(operator, bank_officer, investor, star):
    data = {
        "title": "某科技公司新三板挂牌",
        "case_type": "neeq",
        "amount": Decimal("30000000"),
        "occurred_on": timezone.localdate(),
        "investor": investor.organisation,
        "entity": star,
        "counterparty": "某证券",
    }
    case = capital_market_services.financing_case_record(actor=operator, data=data)
    assert list(capital_market_selectors.financing_cases()) == [case]
    with pytest.raises(PermissionDeniedError):
        capital_market_services.financing_case_record(actor=bank_officer, data=data)
    for field, value in (
        ("amount", Decimal("0")),
        ("case_type", "loan"),
        ("occurred_on", timezone.localdate() + dt.timedelta(days=1)),
        ("title", ""),
    ):
        with pytest.raises(ValidationError) as exc:
            capital_market_services.financing_case_record(
                actor=operator, data={**data, field: value}
            )
        assert field in exc.value.message_dict


# ---------------------------------------------------------------- pages


def test_reserve_pages_by_role(client, operator, investor, enterprise_user, bank_officer, star):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    expected = [
        (operator, "/marketplace/capital-market/", 200),
        (operator, "/marketplace/capital-market/screen/", 200),
        (operator, f"/marketplace/capital-market/{entry.pk}/", 200),
        (investor, "/marketplace/capital-market/", 200),
        (investor, "/marketplace/capital-market/screen/", 403),
        (investor, f"/marketplace/capital-market/{entry.pk}/", 200),
        (enterprise_user, "/marketplace/capital-market/", 200),
        (enterprise_user, f"/marketplace/capital-market/{entry.pk}/", 200),
        (bank_officer, "/marketplace/capital-market/", 403),
        (bank_officer, f"/marketplace/capital-market/{entry.pk}/", 403),
        (bank_officer, "/marketplace/capital-market/cases/", 200),
    ]
    for user, path, status in expected:
        client.force_login(user)
        assert client.get(path).status_code == status, (user, path)


def test_other_enterprises_get_404_for_an_entry(client, operator, star, other_enterprise_user):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    client.force_login(other_enterprise_user)
    assert client.get(f"/marketplace/capital-market/{entry.pk}/").status_code == 404
    response = client.get("/marketplace/capital-market/")
    assert response.status_code == 200 and response.context["entry"] is None


def test_investors_see_registry_information_but_no_grade(client, operator, investor, star):
    entry = capital_market_services.reserve_add(
        actor=operator, entity=star, criteria={"min_grade": "AA"}
    )
    client.force_login(investor)
    body = client.get(f"/marketplace/capital-market/{entry.pk}/").content.decode()
    assert star.uscc in body and star.name in body
    assert 'id="criteria"' not in body and "AA" not in body
    client.force_login(operator)
    body = client.get(f"/marketplace/capital-market/{entry.pk}/").content.decode()
    assert 'id="criteria"' in body and "AA" in body


def test_screen_page_adds_the_chosen_entities(client, operator, star, plain):
    client.force_login(operator)
    response = client.get("/marketplace/capital-market/screen/", {"min_grade": "A"})
    assert [r.entity for r in response.context["rows"]] == [star, plain]
    response = client.post(
        "/marketplace/capital-market/screen/",
        {"min_grade": "A", "entities": [star.pk], "note": "试点", "querystring": "min_grade=A"},
    )
    assert response.status_code == 302
    entry = ReserveCandidate.objects.get()
    assert entry.entity == star and entry.note == "试点"
    assert entry.criteria["criteria"]["min_grade"] == "A"


def test_interest_and_answer_through_the_pages(client, operator, investor, enterprise_user, star):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    client.force_login(investor)
    response = client.post(
        f"/marketplace/capital-market/{entry.pk}/interest/", {"note": "愿意了解"}
    )
    assert response.status_code == 302
    interest = InvestorInterest.objects.get()
    client.force_login(enterprise_user)
    response = client.post(
        "/marketplace/capital-market/intro/", {"intro": "主营高原特色食品，计划挂牌新三板"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/marketplace/capital-market/interests/{interest.pk}/decline/", {"note": "暂不考虑"}
    )
    assert response.status_code == 302
    interest.refresh_from_db()
    entry.refresh_from_db()
    assert interest.status == InterestStatus.DECLINED and entry.intro.startswith("主营")
    client.force_login(investor)
    body = client.get(f"/marketplace/capital-market/{entry.pk}/").content.decode()
    assert "主营高原特色食品" in body
    # an investor cannot answer, a bank cannot express interest
    assert (
        client.post(f"/marketplace/capital-market/interests/{interest.pk}/accept/").status_code
        == 404
    )


def test_cases_page_records_for_the_operator_only(client, operator, bank_officer, star):
    form = {
        "title": "区域股权市场挂牌",
        "case_type": "regional_equity",
        "amount": "5000000",
        "occurred_on": timezone.localdate().isoformat(),
        "entity_uscc": star.uscc,
    }
    client.force_login(bank_officer)
    assert client.post("/marketplace/capital-market/cases/", form).status_code == 403
    client.force_login(operator)
    assert client.post("/marketplace/capital-market/cases/", form).status_code == 302
    bad = client.post("/marketplace/capital-market/cases/", {**form, "entity_uscc": "X"})
    assert bad.status_code == 400
    response = client.get("/marketplace/capital-market/cases/")
    assert [c.entity for c in response.context["page"].object_list] == [star]


def test_operator_closes_an_entry_from_its_page(client, operator, investor, star):
    entry = capital_market_services.reserve_add(actor=operator, entity=star, criteria={})
    client.force_login(investor)
    assert (
        'id="close-form"'
        not in client.get(f"/marketplace/capital-market/{entry.pk}/").content.decode()
    )
    denied = client.post(
        f"/marketplace/capital-market/{entry.pk}/close/", {"status": "listed", "note": "x"}
    )
    entry.refresh_from_db()
    assert denied.status_code in (302, 403, 404) and entry.status == "active"
    client.force_login(operator)
    page = client.get(f"/marketplace/capital-market/{entry.pk}/").content.decode()
    assert 'id="close-form"' in page
    empty = client.post(f"/marketplace/capital-market/{entry.pk}/close/", {"status": "listed"})
    assert empty.status_code == 302
    entry.refresh_from_db()
    assert entry.status == "active"
    client.post(
        f"/marketplace/capital-market/{entry.pk}/close/",
        {"status": "removed", "note": "连续两年纳税下降"},
    )
    entry.refresh_from_db()
    assert entry.status == "removed"
