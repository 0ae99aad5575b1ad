"""Handling cross-validation conflicts: outcomes, who may act, timeline, queue, API and pages."""

import pytest
from django.urls import reverse

from xinrong.accounts.services.api_keys import api_key_create
from xinrong.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from xinrong.datahub import selectors
from xinrong.datahub.choices import ConflictEventKind, ConflictStatus
from xinrong.datahub.models import Conflict, ConflictEvent
from xinrong.datahub.services.conflicts import conflict_reopen, conflict_resolve
from xinrong.datahub.services.sources import source_create
from xinrong.datahub.tests.test_crossval import _deliver
from xinrong.enterprises.tests.factories import MarketEntityFactory, PersonFactory
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db

TAX_HEAD = "统一社会信用代码,所属期,实缴税额（元）,法定代表人\n"


@pytest.fixture
def conflict(tax_source):
    """A legal-representative mismatch between the registry and source ``tax``."""
    entity = MarketEntityFactory(legal_representative=PersonFactory(name="马明"))
    _deliver(tax_source, "tax", f"{TAX_HEAD}{entity.uscc},2024-06,1,韩梅\n")
    return Conflict.objects.get(entity=entity)


@pytest.fixture
def hrss(make_user):
    """Another department with its own source, not involved in the tax conflict."""
    provider = make_user("government", ["data_provider"])
    source = source_create(
        code="hrss", name="人社厅", organisation=provider.organisation, categories=["tax"]
    )
    source.provider = provider
    return source


def _quality_count(user, code):
    return next(
        q.open_conflicts for q in selectors.source_quality(user=user) if q.source.code == code
    )


# ---------------------------------------------------------------- outcomes


def test_department_confirms_its_own_data_was_wrong(conflict, tax_source):
    provider = tax_source.provider
    done = conflict_resolve(
        conflict=conflict,
        actor=provider,
        outcome=ConflictStatus.CONFIRMED_ERROR,
        note="法定代表人录入错误，已在下期更正",
        blamed_source=tax_source,
    )
    assert done.status == ConflictStatus.CONFIRMED_ERROR
    assert done.blamed_source == tax_source and not done.blamed_registry
    assert done.resolved_by == provider and done.resolved_at is not None
    event = ConflictEvent.objects.get(conflict=conflict)
    assert (event.kind, event.from_status, event.to_status) == (
        ConflictEventKind.RESOLVED,
        ConflictStatus.OPEN,
        ConflictStatus.CONFIRMED_ERROR,
    )
    assert event.actor == provider and event.data == {"blamed": "tax"}


def test_department_may_blame_the_registry(conflict, tax_source):
    done = conflict_resolve(
        conflict=conflict,
        actor=tax_source.provider,
        outcome=ConflictStatus.CONFIRMED_ERROR,
        note="法定代表人已变更，登记信息未更新",
        blamed_registry=True,
    )
    assert done.blamed_registry and done.blamed_source is None


@pytest.mark.parametrize("outcome", [ConflictStatus.EXPLAINED, ConflictStatus.DISMISSED])
def test_explained_and_dismissed_close_the_conflict(conflict, tax_source, outcome):
    done = conflict_resolve(
        conflict=conflict, actor=tax_source.provider, outcome=outcome, note="核实无误"
    )
    assert done.status == outcome and not done.is_open
    assert done.resolution_note == "核实无误"
    assert not selectors.conflict_list(entity=conflict.entity).exists()


def test_note_is_required(conflict, tax_source):
    with pytest.raises(ApplicationError) as exc:
        conflict_resolve(
            conflict=conflict, actor=tax_source.provider, outcome="explained", note="  "
        )
    assert exc.value.extra == {"field": "note"} and "处理说明" in exc.value.message
    conflict.refresh_from_db()
    assert conflict.is_open and not ConflictEvent.objects.exists()


def test_confirmed_error_names_an_involved_source(conflict, tax_source, hrss):
    actor = tax_source.provider
    with pytest.raises(ApplicationError) as exc:
        conflict_resolve(conflict=conflict, actor=actor, outcome="confirmed_error", note="错")
    assert exc.value.code == "blame_required" and exc.value.extra == {"field": "blamed_source"}
    assert f"{tax_source.name}（{tax_source.code}）" in exc.value.message  # named, not a code
    with pytest.raises(ApplicationError) as exc:
        conflict_resolve(
            conflict=conflict,
            actor=actor,
            outcome="confirmed_error",
            note="错",
            blamed_source=hrss,
        )
    assert exc.value.code == "blame_not_involved"
    with pytest.raises(ApplicationError) as exc:
        conflict_resolve(
            conflict=conflict,
            actor=actor,
            outcome="explained",
            note="均属实",
            blamed_source=tax_source,
        )
    assert exc.value.code == "blame_not_allowed"


def test_unknown_outcome_is_refused(conflict, tax_source):
    with pytest.raises(ApplicationError) as exc:
        conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="open", note="x")
    assert exc.value.extra == {"field": "outcome"}


def test_a_closed_conflict_cannot_be_closed_again(conflict, tax_source):
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="dismissed", note="误报")
    with pytest.raises(ConflictError):
        conflict_resolve(
            conflict=conflict, actor=tax_source.provider, outcome="explained", note="均属实"
        )


# ---------------------------------------------------------------- who


def test_a_department_not_involved_may_not_close_it(conflict, hrss):
    with pytest.raises(PermissionDeniedError) as exc:
        conflict_resolve(conflict=conflict, actor=hrss.provider, outcome="dismissed", note="x")
    assert exc.value.status == 403
    with pytest.raises(ApplicationError):
        selectors.conflict_get(user=hrss.provider, pk=conflict.pk)
    assert not selectors.conflict_queue(user=hrss.provider).exists()


def test_platform_operator_may_resolve_any_conflict(conflict, operator):
    done = conflict_resolve(conflict=conflict, actor=operator, outcome="dismissed", note="误报")
    assert done.status == ConflictStatus.DISMISSED


def test_sub_station_only_within_its_region(conflict, make_user):
    # the factory registers entities in 630102 (Xining)
    golmud = make_user("substation", ["operator_admin"], region_code="632801")
    xining = make_user("substation", ["operator_admin"], region_code="6301")
    assert not selectors.conflict_queue(user=golmud).exists()
    with pytest.raises(PermissionDeniedError):
        conflict_resolve(conflict=conflict, actor=golmud, outcome="dismissed", note="x")
    assert list(selectors.conflict_queue(user=xining)) == [conflict]
    conflict_resolve(conflict=conflict, actor=xining, outcome="dismissed", note="误报")


def test_auditor_sees_but_may_not_resolve(conflict, make_user):
    auditor = make_user("operator", ["auditor"])
    assert list(selectors.conflict_queue(user=auditor)) == [conflict]
    with pytest.raises(PermissionDeniedError):
        conflict_resolve(conflict=conflict, actor=auditor, outcome="dismissed", note="x")


# ---------------------------------------------------------------- reopen


def test_operator_reopens_a_closed_conflict(conflict, tax_source, operator):
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="dismissed", note="误报")
    with pytest.raises(PermissionDeniedError):
        conflict_reopen(conflict=conflict, actor=tax_source.provider, note="再看看")
    with pytest.raises(ApplicationError) as exc:
        conflict_reopen(conflict=conflict, actor=operator, note="")
    assert exc.value.extra == {"field": "note"}
    again = conflict_reopen(conflict=conflict, actor=operator, note="企业反映仍不一致")
    assert again.is_open and again.resolved_at is None and again.resolved_by is None
    kinds = list(ConflictEvent.objects.filter(conflict=conflict).values_list("kind", "to_status"))
    assert kinds == [("resolved", "dismissed"), ("reopened", "open")]
    with pytest.raises(ConflictError):
        conflict_reopen(conflict=conflict, actor=operator, note="again")


def test_the_involved_department_is_told_after_commit(
    conflict, tax_source, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conflict_resolve(conflict=conflict, actor=operator, outcome="dismissed", note="误报")
    note = Notification.objects.get(recipient=tax_source.provider)
    assert note.kind == "datahub.conflict" and str(conflict.pk) in note.link


# ---------------------------------------------------------------- counts and re-raising


def test_quality_open_count_drops_after_resolving(conflict, tax_source, operator):
    assert _quality_count(operator, "tax") == 1
    assert selectors.conflict_open_counts(user=operator) == {"registry": 1, "tax": 1}
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="explained", note="是")
    assert _quality_count(operator, "tax") == 0
    assert selectors.conflict_open_counts(user=operator) == {}


def test_an_identical_finding_raised_again_stays_closed(conflict, tax_source):
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="explained", note="是")
    uscc = conflict.entity.uscc
    again = _deliver(tax_source, "tax", f"{TAX_HEAD}{uscc},2024-06,2,韩梅\n")
    assert again.conflicts == 0
    assert Conflict.objects.count() == 1
    assert Conflict.objects.get().status == ConflictStatus.EXPLAINED


def test_an_explained_difference_is_not_raised_again_next_period(conflict, tax_source):
    """The tax period is where the value was read, not what the finding is: next month's data
    declaring the same other legal representative is the conflict already handled."""
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="explained", note="是")
    uscc = conflict.entity.uscc
    later = _deliver(tax_source, "tax", f"{TAX_HEAD}{uscc},2024-07,1,韩梅\n")
    assert later.conflicts == 0
    assert Conflict.objects.get().status == ConflictStatus.EXPLAINED


def test_a_confirmed_error_still_in_newer_data_opens_again(conflict, tax_source):
    conflict_resolve(
        conflict=conflict,
        actor=tax_source.provider,
        outcome="confirmed_error",
        note="法定代表人录入有误，下月更正",
        blamed_source=tax_source,
    )
    uscc = conflict.entity.uscc
    # the same delivery again changes nothing
    assert _deliver(tax_source, "tax", f"{TAX_HEAD}{uscc},2024-06,2,韩梅\n").conflicts == 0
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.CONFIRMED_ERROR
    # next month still the wrong name: the correction has not arrived
    _deliver(tax_source, "tax", f"{TAX_HEAD}{uscc},2024-07,1,韩梅\n")
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.OPEN and conflict.resolved_at is None
    assert conflict.detail["period"] == "2024-07"
    last = ConflictEvent.objects.filter(conflict=conflict).order_by("-id").first()
    assert last.kind == ConflictEventKind.REOPENED and last.actor is None


def test_a_changed_finding_is_a_new_open_conflict(conflict, tax_source):
    conflict_resolve(conflict=conflict, actor=tax_source.provider, outcome="explained", note="是")
    uscc = conflict.entity.uscc
    again = _deliver(tax_source, "tax", f"{TAX_HEAD}{uscc},2024-06,3,李雷\n")
    assert again.conflicts == 1
    assert Conflict.objects.filter(status=ConflictStatus.OPEN).count() == 1


def test_queue_filters(conflict, tax_source, operator):
    provider = tax_source.provider
    assert list(selectors.conflict_queue(user=provider)) == [conflict]
    assert list(selectors.conflict_queue(user=provider, rule="legal_rep_mismatch")) == [conflict]
    assert not selectors.conflict_queue(user=provider, rule="address_mismatch").exists()
    assert not selectors.conflict_queue(user=provider, severity="low").exists()
    assert list(selectors.conflict_queue(user=operator, source="registry")) == [conflict]
    assert not selectors.conflict_queue(user=operator, source="hrss").exists()
    assert list(selectors.conflict_queue(user=operator, uscc=conflict.entity.uscc)) == [conflict]
    assert not selectors.conflict_queue(user=operator, status="dismissed").exists()
    assert selectors.conflict_queue(user=operator, status="").count() == 1
    with pytest.raises(ApplicationError) as exc:
        selectors.conflict_queue(user=operator, status="closed")
    assert exc.value.extra == {"field": "status"}


def test_enterprise_users_have_no_queue(enterprise_user):
    with pytest.raises(PermissionDeniedError):
        selectors.conflict_queue(user=enterprise_user)


# ---------------------------------------------------------------- API


def test_api_lists_the_queue_and_resolves(client, conflict, tax_source):
    client.force_login(tax_source.provider)
    body = client.get("/api/v1/datahub/conflicts").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == conflict.pk and row["sources"] == ["registry", "tax"]
    assert row["status"] == "open" and row["rule_label"]
    response = client.post(
        f"/api/v1/datahub/conflicts/{conflict.pk}/resolve",
        {"outcome": "confirmed_error", "note": "已更正", "blamed_source": "tax"},
        content_type="application/json",
    )
    assert response.status_code == 200
    out = response.json()
    assert (out["status"], out["blamed_source"], out["resolution_note"]) == (
        "confirmed_error",
        "tax",
        "已更正",
    )
    assert client.get("/api/v1/datahub/conflicts").json()["count"] == 0


def test_api_with_the_department_key(client, conflict, tax_source):
    provider = tax_source.provider
    _key, raw = api_key_create(organisation=provider.organisation, name="税务", actor=provider)
    response = client.get("/api/v1/datahub/conflicts", HTTP_X_API_KEY=raw)
    assert response.status_code == 200 and response.json()["count"] == 1


def test_api_errors_carry_code_message_and_extra(client, conflict, tax_source, hrss):
    url = f"/api/v1/datahub/conflicts/{conflict.pk}/resolve"
    client.force_login(tax_source.provider)
    response = client.post(
        url, {"outcome": "explained", "note": " "}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "note_required"
    assert response.json()["extra"] == {"field": "note"}
    response = client.post(
        url,
        {"outcome": "confirmed_error", "note": "错", "blamed_source": "hrss"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["extra"] == {"field": "blamed_source"}
    client.force_login(hrss.provider)
    response = client.post(
        url, {"outcome": "dismissed", "note": "x"}, content_type="application/json"
    )
    assert response.status_code == 404  # a conflict of another department is not visible
    assert set(response.json()) == {"code", "message", "extra"}
    client.force_login(tax_source.provider)
    client.post(url, {"outcome": "dismissed", "note": "误报"}, content_type="application/json")
    response = client.post(
        url, {"outcome": "dismissed", "note": "误报"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict_closed"


# ---------------------------------------------------------------- pages


def test_queue_and_detail_pages_render(client, conflict, tax_source):
    client.force_login(tax_source.provider)
    page = client.get(reverse("datahub:conflicts")).content.decode()
    assert f'data-conflict="{conflict.pk}"' in page and "法定代表人不一致" in page
    detail = client.get(reverse("datahub:conflict_detail", args=[conflict.pk])).content.decode()
    assert "马明" in detail and "韩梅" in detail  # both sources' values
    assert 'id="resolve-form"' in detail and 'id="reopen-form"' not in detail


def test_resolve_by_page_post(client, conflict, tax_source):
    client.force_login(tax_source.provider)
    url = reverse("datahub:conflict_detail", args=[conflict.pk])
    response = client.post(
        url,
        {"action": "resolve", "outcome": "confirmed_error", "blamed_source": "tax", "note": ""},
    )
    assert response.status_code == 200 and 'data-field-error="note"' in response.content.decode()
    response = client.post(
        url,
        {"action": "resolve", "outcome": "confirmed_error", "blamed_source": "", "note": "错"},
    )
    assert 'data-field-error="blamed_source"' in response.content.decode()
    response = client.post(
        url,
        {"action": "resolve", "outcome": "confirmed_error", "blamed_source": "tax", "note": "错"},
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == ConflictStatus.CONFIRMED_ERROR
    page = client.get(url).content.decode()
    assert 'data-status="confirmed_error"' in page and 'data-event="resolved"' in page


def test_operator_reopens_by_page_post(client, conflict, operator):
    conflict_resolve(conflict=conflict, actor=operator, outcome="dismissed", note="误报")
    client.force_login(operator)
    url = reverse("datahub:conflict_detail", args=[conflict.pk])
    assert 'id="reopen-form"' in client.get(url).content.decode()
    response = client.post(url, {"action": "reopen", "note": "重新核查"})
    assert response.status_code == 302
    conflict.refresh_from_db()
    assert conflict.is_open


def test_other_department_gets_no_page(client, conflict, hrss):
    client.force_login(hrss.provider)
    response = client.get(reverse("datahub:conflict_detail", args=[conflict.pk]))
    assert response.status_code == 404


def test_quality_page_links_to_the_queue(client, conflict, operator):
    client.force_login(operator)
    page = client.get(reverse("datahub:quality")).content.decode()
    assert f"{reverse('datahub:conflicts')}?source=tax" in page


def test_badges_take_the_colours_declared_on_the_choices(client, conflict, tax_source):
    client.force_login(tax_source.provider)
    detail = client.get(reverse("datahub:conflict_detail", args=[conflict.pk])).content.decode()
    assert 'class="badge text-bg-primary" id="conflict-status" data-status="open"' in detail
    assert 'class="badge text-bg-danger" data-status="high">高<' in detail
    queue = client.get(reverse("datahub:conflicts")).content.decode()
    assert 'class="badge text-bg-primary" data-status="open">待处理<' in queue


def test_queue_pages_keep_the_filters(client, conflict, tax_source):
    Conflict.objects.bulk_create(
        Conflict(
            entity=conflict.entity,
            rule=conflict.rule,
            severity="high",
            sources=conflict.sources,
            detail={"n": i},
            fingerprint=f"copy-{i}",
        )
        for i in range(30)
    )
    client.force_login(tax_source.provider)
    page = client.get(reverse("datahub:conflicts"), {"severity": "high", "source": "tax"})
    html = page.content.decode()
    assert html.count("data-conflict=") == 30
    assert 'href="?severity=high&amp;source=tax&amp;page=2"' in html
    second = client.get(
        reverse("datahub:conflicts"), {"severity": "high", "source": "tax", "page": 2}
    ).content.decode()
    assert second.count("data-conflict=") == 1 and 'data-page="2"' in second


def test_an_unknown_status_filter_is_a_chinese_error_page(client, conflict, tax_source):
    client.force_login(tax_source.provider)
    response = client.get(reverse("datahub:conflicts"), {"status": "nonsense"})
    assert response.status_code == 422 and "未知的冲突状态" in response.content.decode()


def test_pages_name_the_sources_by_department_not_code(client, conflict, tax_source, operator):
    """The queue's 涉及来源 and the timeline's blamed source read as names (not "registry、tax")."""
    conflict_resolve(
        conflict=conflict,
        actor=operator,
        outcome="confirmed_error",
        note="税务数据有误",
        blamed_source=tax_source,
        blamed_registry=False,
    )
    client.force_login(operator)
    page = client.get(reverse("datahub:conflicts") + "?status=").content.decode()
    row = page[page.index(f'data-conflict="{conflict.pk}"') :].split("</tr>")[0]
    assert f"市场主体登记信息、{tax_source.name}" in row and "registry、tax" not in row
    detail = client.get(reverse("datahub:conflict_detail", args=[conflict.pk])).content.decode()
    timeline = detail[detail.index('id="timeline"') :].split("</ol>")[0]
    assert f"数据有误的来源：{tax_source.name}" in timeline


def test_head_counts_read_as_whole_people():
    """申报从业人数 19.00 / 参保人数 2.00 read as 19 人 / 2 人; other details are untouched."""
    from xinrong.datahub.views import _detail_value

    assert _detail_value("declared_employees", "19.00") == "19 人"
    assert _detail_value("insured", 2) == "2 人"
    assert _detail_value("insured", "1200.0") == "1,200 人"
    assert _detail_value("insured", "2.5") == "2.5"
    assert _detail_value("tax_period", "2024-12") == "2024-12"


def test_an_unhandled_conflict_says_so_without_a_numbered_step(client, conflict, tax_source):
    """ "发现后尚未处理" is a sentence, not step "1." of the timeline."""
    client.force_login(tax_source.provider)
    detail = client.get(reverse("datahub:conflict_detail", args=[conflict.pk])).content.decode()
    timeline = detail[detail.index('id="timeline"') :].split("</ol>")[0]
    assert "发现后尚未处理" in detail and "发现后尚未处理" not in timeline
