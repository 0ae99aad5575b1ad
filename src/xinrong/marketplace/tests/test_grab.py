"""抢单: institutions take demands, one at a time, for a limited hold; stale demands escalate."""

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from xinrong.common.errors import ConflictError, PermissionDeniedError
from xinrong.marketplace import matching
from xinrong.marketplace.models import Demand, DemandEvent
from xinrong.marketplace.selectors import common as common_selectors
from xinrong.marketplace.selectors import demands as demand_selectors
from xinrong.marketplace.services import demands as demand_services
from xinrong.marketplace.tests.factories import demand_in, published_product
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh_board():
    matching.catalogue_forget()
    yield
    matching.catalogue_forget()


@pytest.fixture
def demand(enterprise_user):  # in 630102 (Xining)
    entity = common_selectors.user_entity(user=enterprise_user)
    return demand_services.demand_publish(actor=enterprise_user, entity=entity, data=demand_in())


@pytest.fixture
def other_bank(bank_admin):
    """A loan officer of a second bank (the bank_admin fixture's own organisation)."""
    return bank_admin


def kinds(demand):
    return list(demand.events.order_by("created_at", "id").values_list("kind", flat=True))


def notified(user, kind):
    return Notification.objects.filter(recipient=user, kind=kind).count()


# ---------------------------------------------------------------- take


def test_take_holds_the_demand_for_the_configured_hours_and_stays_open(
    demand, bank_officer, enterprise_user, settings, django_capture_on_commit_callbacks
):
    settings.XINRONG_DEMAND_HOLD_HOURS = 48
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        taken = demand_services.demand_take(demand=demand, actor=bank_officer, now=now)
    assert taken.held_by == bank_officer.organisation
    assert taken.held_until == now + 48 * HOUR
    assert taken.status == "open"
    assert kinds(demand) == ["published", "taken"]
    event = demand.events.get(kind="taken")
    assert event.actor == bank_officer and event.organisation == bank_officer.organisation
    assert notified(enterprise_user, "demand.taken") == 1
    assert list(demand_selectors.held_demands(user=bank_officer)) == [demand]


def test_another_institution_is_refused_while_held_with_holder_and_deadline(
    demand, bank_officer, other_bank
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    with pytest.raises(ConflictError) as exc:
        demand_services.demand_take(demand=demand, actor=other_bank)
    assert exc.value.status == 409 and exc.value.code == "held"
    assert bank_officer.organisation.name in exc.value.message
    assert "承接期至" in exc.value.message
    assert exc.value.extra["held_by"] == bank_officer.organisation.name
    demand.refresh_from_db()
    assert demand.held_by == bank_officer.organisation


def test_a_stale_copy_of_the_demand_does_not_bypass_the_hold(demand, bank_officer, other_bank):
    stale = Demand.objects.get(pk=demand.pk)  # read before the other institution took it
    demand_services.demand_take(demand=demand, actor=bank_officer)
    assert stale.held_by_id is None
    with pytest.raises(ConflictError):
        demand_services.demand_take(demand=stale, actor=other_bank)


def test_taking_again_by_the_same_institution_is_a_no_op(demand, bank_officer, make_user):
    colleague = make_user("bank", ["institution_admin"], org=bank_officer.organisation)
    first = demand_services.demand_take(demand=demand, actor=bank_officer, now=timezone.now())
    again = demand_services.demand_take(demand=demand, actor=colleague, now=timezone.now() + HOUR)
    assert again.held_until == first.held_until  # not extended
    assert kinds(demand).count("taken") == 1


@pytest.mark.parametrize(
    ("kind", "roles", "code"),
    [
        ("guarantor", ["institution_admin"], "not_lender"),
        ("insurer", ["loan_officer"], "not_lender"),
        ("bank", ["reviewer"], "forbidden"),
        ("government", ["data_provider"], "forbidden"),
        ("operator", ["operator_admin"], "forbidden"),
    ],
)
def test_only_lending_officers_and_admins_may_take(demand, make_user, kind, roles, code):
    user = make_user(kind, roles)
    with pytest.raises(PermissionDeniedError) as exc:
        demand_services.demand_take(demand=demand, actor=user)
    assert exc.value.code == code and exc.value.status == 403
    assert "承接" in exc.value.message


def test_microloan_companies_may_take(demand, make_user):
    officer = make_user("microloan", ["loan_officer"])
    assert demand_services.demand_take(demand=demand, actor=officer).held_by == officer.organisation


def test_enterprise_users_may_not_take(demand, enterprise_user):
    with pytest.raises(PermissionDeniedError) as exc:
        demand_services.demand_take(demand=demand, actor=enterprise_user)
    assert exc.value.message == "只有金融机构的用户可以承接融资需求"


def test_take_is_refused_outside_the_service_regions(demand, bank_officer, operator):
    published_product(bank_officer, operator, code="GRAB-1", regions=["632800"])  # Haidong only
    with pytest.raises(PermissionDeniedError) as exc:
        demand_services.demand_take(demand=demand, actor=bank_officer)
    assert exc.value.code == "outside_region"
    assert "不在本机构的服务地区内" in exc.value.message
    published_product(bank_officer, operator, code="GRAB-2", regions=["630100"])  # Xining
    assert demand_services.demand_take(demand=demand, actor=bank_officer).held_by is not None


def test_withdrawn_demands_cannot_be_taken_and_withdrawal_ends_a_hold(
    demand, enterprise_user, bank_officer
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    demand_services.demand_withdraw(demand=demand, actor=enterprise_user)
    demand.refresh_from_db()
    assert demand.held_by is None and demand.held_until is None
    assert kinds(demand) == ["published", "taken", "withdrawn"]
    with pytest.raises(ConflictError) as exc:
        demand_services.demand_take(demand=demand, actor=bank_officer)
    assert exc.value.code == "not_open"


# ---------------------------------------------------------------- release and expiry


def test_holder_releases_to_the_pool_and_another_may_take(
    demand, bank_officer, other_bank, enterprise_user, django_capture_on_commit_callbacks
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    with pytest.raises(ConflictError) as exc:
        demand_services.demand_release(demand=demand, actor=other_bank, note="")
    assert exc.value.code == "not_held"
    with django_capture_on_commit_callbacks(execute=True):
        released = demand_services.demand_release(
            demand=demand, actor=bank_officer, note="额度不足"
        )
    assert released.held_by is None and released.held_until is None
    assert demand.events.get(kind="released").note == "额度不足"
    assert notified(enterprise_user, "demand.released") == 1
    assert (
        demand_services.demand_take(demand=demand, actor=other_bank).held_by
        == other_bank.organisation
    )


def test_expired_holds_return_to_the_pool(
    demand, bank_officer, other_bank, enterprise_user, django_capture_on_commit_callbacks
):
    now = timezone.now()
    demand_services.demand_take(demand=demand, actor=bank_officer, now=now)
    assert demand_services.demands_release_expired(now=now + 71 * HOUR) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert demand_services.demands_release_expired(now=now + 72 * HOUR) == 1
    demand.refresh_from_db()
    assert demand.held_by is None and demand.status == "open"
    expired = demand.events.get(kind="expired")
    assert expired.organisation == bank_officer.organisation
    assert notified(enterprise_user, "demand.expired") == 1
    assert demand_services.demands_release_expired(now=now + 100 * HOUR) == 0  # nothing left
    taken = demand_services.demand_take(demand=demand, actor=other_bank, now=now + 73 * HOUR)
    assert taken.held_by == other_bank.organisation


def test_an_ended_hold_is_free_before_the_sweep_and_its_expiry_is_recorded(
    demand, bank_officer, other_bank
):
    now = timezone.now()
    demand_services.demand_take(demand=demand, actor=bank_officer, now=now)
    demand_services.demand_take(demand=demand, actor=other_bank, now=now + 80 * HOUR)
    assert kinds(demand) == ["published", "taken", "expired", "taken"]
    with pytest.raises(ConflictError):  # the first holder's time is over
        demand_services.demand_release(demand=demand, actor=bank_officer)


# ---------------------------------------------------------------- escalation


def test_untaken_demands_escalate_after_n_days_once_to_covering_operators(
    demand,
    operator,
    substation_operator,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.XINRONG_DEMAND_ESCALATE_DAYS = 7
    now = timezone.now()
    assert demand_services.demands_escalate_stale(now=now + dt.timedelta(days=6)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert demand_services.demands_escalate_stale(now=now + dt.timedelta(days=7, hours=1)) == 1
    demand.refresh_from_db()
    assert demand.escalated_at is not None
    assert kinds(demand) == ["published", "escalated"]
    assert notified(operator, "demand.escalated") == 1
    assert notified(substation_operator, "demand.escalated") == 0  # 632801 does not cover Xining
    assert f"#{demand.pk}" in Notification.objects.get(recipient=operator).body
    with django_capture_on_commit_callbacks(execute=True):
        assert demand_services.demands_escalate_stale(now=now + dt.timedelta(days=30)) == 0
    assert notified(operator, "demand.escalated") == 1
    assert list(demand_selectors.escalated_demands(user=operator)) == [demand]
    assert list(demand_selectors.escalated_demands(user=substation_operator)) == []


def test_held_demands_do_not_escalate_until_the_hold_ends(demand, bank_officer):
    now = timezone.now()
    demand_services.demand_take(demand=demand, actor=bank_officer, now=now + dt.timedelta(days=6))
    assert demand_services.demands_escalate_stale(now=now + dt.timedelta(days=8)) == 0
    assert demand_services.demands_escalate_stale(now=now + dt.timedelta(days=10)) == 1


def test_sweep_command_and_task(demand, bank_officer):
    now = timezone.now()
    demand_services.demand_take(demand=demand, actor=bank_officer, now=now)
    out = StringIO()
    call_command("demands", "sweep", "--now", (now + HOUR).isoformat(), stdout=out)
    assert "expired: 0" in out.getvalue() and "escalated: 0" in out.getvalue()
    later = (now + dt.timedelta(days=8)).isoformat()
    call_command("demands", "sweep", "--now", later, stdout=out)
    assert "expired: 1" in out.getvalue() and "escalated: 1" in out.getvalue()
    from xinrong.marketplace.tasks import demands_sweep

    assert demands_sweep.enqueue().return_value == {"expired": 0, "escalated": 0}


# ---------------------------------------------------------------- race


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writes"
)
def test_two_institutions_taking_at_once_only_one_wins(demand, bank_officer, other_bank):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def grab(user):
        from django.db import connections

        try:
            barrier.wait()
            demand_services.demand_take(demand=demand, actor=user)
            outcomes.append("taken")
        except ConflictError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grab, args=(u,)) for u in (bank_officer, other_bank)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "taken"]
    assert DemandEvent.objects.filter(demand=demand, kind="taken").count() == 1


# ---------------------------------------------------------------- pages


def test_hall_shows_take_button_and_post_takes(client, demand, bank_officer):
    client.force_login(bank_officer)
    page = client.get("/marketplace/demands/hall/").content.decode()
    assert f'data-take="{demand.pk}"' in page and "待承接" in page
    response = client.post(
        f"/marketplace/demands/{demand.pk}/take/", {"next": "/marketplace/demands/hall/"}
    )
    assert response.status_code == 302 and response.url == f"/marketplace/demands/{demand.pk}/"
    detail = client.get(response.url).content.decode()
    assert "抢单成功" in detail and "本机构承接中" in detail
    assert 'id="demand-timeline"' in detail and f'data-release="{demand.pk}"' in detail
    held = client.get("/marketplace/demands/held/").content.decode()
    assert f'data-release="{demand.pk}"' in held
    response = client.post(f"/marketplace/demands/{demand.pk}/release/", {"note": "不符合"})
    assert response.url == "/marketplace/demands/held/"
    assert "已放弃承接" in client.get(response.url).content.decode()


def test_hall_shows_holder_to_others_and_the_refusal_in_chinese(
    client, demand, bank_officer, other_bank
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    client.force_login(other_bank)
    page = client.get("/marketplace/demands/hall/").content.decode()
    assert f'data-take="{demand.pk}"' not in page
    assert "已被承接" in page and bank_officer.organisation.name in page
    response = client.post(
        f"/marketplace/demands/{demand.pk}/take/",
        {"next": "/marketplace/demands/hall/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/marketplace/demands/hall/"
    assert "该需求已由" in response.content.decode()
    detail = client.get(f"/marketplace/demands/{demand.pk}/").content.decode()
    assert 'id="demand-timeline"' not in detail  # only the holder sees the timeline


def test_take_ignores_foreign_next_and_requires_post(client, demand, bank_officer):
    client.force_login(bank_officer)
    assert client.get(f"/marketplace/demands/{demand.pk}/take/").status_code == 405
    response = client.post(
        f"/marketplace/demands/{demand.pk}/take/", {"next": "https://evil.example/"}
    )
    assert response.url == f"/marketplace/demands/{demand.pk}/"


def test_enterprise_sees_the_holder_and_timeline(client, demand, bank_officer, enterprise_user):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    client.force_login(enterprise_user)
    page = client.get(f"/marketplace/demands/{demand.pk}/").content.decode()
    assert bank_officer.organisation.name in page and "已被承接" in page
    assert 'data-kind="taken"' in page and "data-take=" not in page
    assert client.get("/marketplace/demands/held/").status_code == 403


def test_operator_lists_escalated_demands(client, demand, operator, bank_officer):
    demand_services.demands_escalate_stale(now=timezone.now() + dt.timedelta(days=8))
    client.force_login(operator)
    page = client.get("/marketplace/demands/escalated/").content.decode()
    assert f'data-id="{demand.pk}"' in page and "无人承接的需求" in page
    client.force_login(bank_officer)
    assert client.get("/marketplace/demands/escalated/").status_code == 403


# ---------------------------------------------------------------- API


def test_api_take_and_release(client, demand, bank_officer):
    client.force_login(bank_officer)
    response = client.post(f"/api/v1/marketplace/demands/{demand.pk}/take")
    assert response.status_code == 200
    body = response.json()
    assert body["held_by"] == bank_officer.organisation.name and body["held_until"]
    response = client.post(
        f"/api/v1/marketplace/demands/{demand.pk}/release",
        {"note": "客户已在他行办理"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["held_by"] is None
    assert demand.events.get(kind="released").note == "客户已在他行办理"


def test_api_errors_are_4xx_with_code_message_extra(
    client, demand, bank_officer, other_bank, enterprise_user, make_user
):
    demand_services.demand_take(demand=demand, actor=bank_officer)
    client.force_login(other_bank)
    response = client.post(f"/api/v1/marketplace/demands/{demand.pk}/take")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "held" and body["extra"]["held_until"] and "承接" in body["message"]
    response = client.post(  # no body at all: the note is optional
        f"/api/v1/marketplace/demands/{demand.pk}/release", content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "not_held"
    client.force_login(make_user("guarantor", ["loan_officer"]))
    response = client.post(f"/api/v1/marketplace/demands/{demand.pk}/take")
    assert response.status_code == 403 and response.json()["code"] == "not_lender"
    client.force_login(enterprise_user)
    assert client.post(f"/api/v1/marketplace/demands/{demand.pk}/take").status_code == 403
    client.force_login(bank_officer)
    assert client.post("/api/v1/marketplace/demands/999999/take").status_code == 404
    client.logout()
    assert client.post(f"/api/v1/marketplace/demands/{demand.pk}/take").status_code == 401
