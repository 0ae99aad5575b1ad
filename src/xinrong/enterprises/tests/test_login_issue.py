"""The operator's recorded procedure reaches an enterprise that is only in the registry."""

import pytest
from django.urls import reverse

from xinrong.accounts.models import Organisation, SecurityEvent, User
from xinrong.enterprises.tests.factories import MarketEntityFactory

pytestmark = pytest.mark.django_db

REASON = "法定代表人马明持营业执照原件到窗口申请，企业无法在线完成实名核验"


def _post(reason=REASON):
    return {
        "username": "registry_owner",
        "display_name": "马明",
        "phone": "",
        "contact": "马明 13800001111（法定代表人）",
        "reason": reason,
    }


def test_operator_opens_the_login_of_a_registry_only_enterprise_and_it_is_recorded(
    client, operator
):
    entity = MarketEntityFactory(division_code="630102")
    assert entity.organisation_id is None
    client.force_login(operator)
    detail = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert 'id="issue-login"' in detail
    page = client.post(reverse("enterprises:login_issue", args=[entity.uscc]), _post())
    assert page.status_code == 200
    assert 'id="issued-password"' in page.content.decode()
    entity.refresh_from_db()
    login = User.objects.get(username="registry_owner")
    assert entity.organisation_id is not None and login.organisation_id == entity.organisation_id
    assert login.role_codes == {"enterprise_owner"}
    event = SecurityEvent.objects.get(target_user=login)
    assert event.actor_id == operator.pk and REASON in str(event.details)
    # the enterprise now has an owner: the button is gone
    detail = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert 'id="issue-login"' not in detail


def test_a_refused_procedure_leaves_no_organisation_behind(client, operator):
    entity = MarketEntityFactory(division_code="630102")
    orgs = Organisation.objects.count()
    client.force_login(operator)
    page = client.post(reverse("enterprises:login_issue", args=[entity.uscc]), _post("太短"))
    assert page.status_code == 200
    assert "代开理由至少" in page.content.decode()
    entity.refresh_from_db()
    assert entity.organisation_id is None and Organisation.objects.count() == orgs
    assert not User.objects.filter(username="registry_owner").exists()


@pytest.mark.parametrize("who", ["substation_operator", "bank_admin"])
def test_others_are_neither_offered_nor_allowed_the_procedure(client, request, who):
    actor = request.getfixturevalue(who)
    entity = MarketEntityFactory(division_code="632801")
    client.force_login(actor)
    detail = client.get(reverse("enterprises:detail", args=[entity.uscc])).content.decode()
    assert 'id="issue-login"' not in detail
    response = client.post(reverse("enterprises:login_issue", args=[entity.uscc]), _post())
    assert response.status_code == 403
    assert not User.objects.filter(username="registry_owner").exists()


def test_the_new_login_must_replace_its_one_time_password_before_anything_else(client, operator):
    from conftest import PASSWORD

    entity = MarketEntityFactory(division_code="630102")
    client.force_login(operator)
    page = client.post(reverse("enterprises:login_issue", args=[entity.uscc]), _post())
    one_time = page.context["issued"]["password"]
    login = User.objects.get(username="registry_owner")
    assert login.must_change_password
    client.force_login(login)
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == reverse("accounts:password_change")
    assert client.get("/api/v1/accounts/me").status_code == 403
    assert "初始密码是一次性的" in client.get(home["Location"]).content.decode()
    changed = client.post(
        reverse("accounts:password_change"),
        {"old_password": one_time, "new_password": PASSWORD, "new_password_again": PASSWORD},
    )
    assert changed.status_code == 302
    login.refresh_from_db()
    assert not login.must_change_password
    assert client.get("/").status_code == 200
