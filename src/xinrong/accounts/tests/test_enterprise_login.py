"""Enterprise logins are the enterprise's: an operator opens one only by the recorded procedure."""

import pytest
from django.urls import reverse

from conftest import PASSWORD
from xinrong.accounts.models import SecurityEvent, User
from xinrong.accounts.services.organisations import organisation_create
from xinrong.accounts.services.users import enterprise_login_issue, user_create
from xinrong.common.errors import ApplicationError
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Qh-login-7391"


def _new_user_post(roles, username="new_login"):
    return {
        "username": username,
        "display_name": "新账号",
        "phone": "",
        "password": NEW_PASSWORD,
        "roles": roles,
    }


@pytest.mark.parametrize("who", ["operator", "substation_operator"])
def test_operator_cannot_create_an_enterprise_login_on_the_add_user_page(
    client, request, who, enterprise_user
):
    actor = request.getfixturevalue(who)
    org = enterprise_user.organisation
    if who == "substation_operator":
        org.region_code = "632801"
        org.save(update_fields=["region_code"])
    client.force_login(actor)
    url = reverse("accounts:user_create", args=[org.pk])
    response = client.post(url, _new_user_post(["enterprise_owner"]))
    assert response.status_code == 403
    assert not User.objects.filter(username="new_login").exists()


def test_the_service_refuses_an_operator_creating_an_enterprise_login(operator, enterprise_user):
    with pytest.raises(ApplicationError) as exc:
        user_create(
            username="new_login",
            password=NEW_PASSWORD,
            organisation=enterprise_user.organisation,
            roles=["enterprise_owner"],
            actor=operator,
        )
    assert exc.value.status == 403
    assert "代开企业账号" in exc.value.message
    assert not User.objects.filter(username="new_login").exists()


def test_enterprise_owner_adds_an_agent_but_not_another_owner(client, enterprise_user):
    client.force_login(enterprise_user)
    url = reverse("accounts:user_create", args=[enterprise_user.organisation_id])
    refused = client.post(url, _new_user_post(["enterprise_owner"], username="second_owner"))
    assert refused.status_code == 200
    assert not User.objects.filter(username="second_owner").exists()
    ok = client.post(url, _new_user_post(["enterprise_agent"], username="agent1"))
    assert ok.status_code == 302
    agent = User.objects.get(username="agent1")
    assert agent.role_codes == {"enterprise_agent"}
    event = SecurityEvent.objects.get(action="user_create", target_user=agent)
    assert event.actor == enterprise_user


def _issue_post(**kw):
    data = {
        "username": "issued_owner",
        "display_name": "马明",
        "phone": "13800001111",
        "contact": "马明 13800001111（法定代表人来电，核对营业执照原件）",
        "reason": "企业法定代表人到政务大厅现场申请，已核验营业执照与身份证原件，企业无法自助注册",
    }
    data.update(kw)
    return data


@pytest.fixture
def unregistered_enterprise(db):
    """An enterprise organisation in the registry that has no login yet (its owner left)."""
    from xinrong.enterprises.tests.factories import MarketEntityFactory, valid_uscc

    org = organisation_create(
        name="海东测试农产品有限公司", kind="enterprise", uscc=valid_uscc(seed=21)
    )
    MarketEntityFactory(uscc=org.uscc, name=org.name, organisation=org)
    return org


def _issue_url(org):
    return reverse("enterprises:login_issue", args=[org.uscc])


def test_operator_issues_an_enterprise_login_by_the_recorded_procedure(
    client, operator, unregistered_enterprise
):
    org = unregistered_enterprise
    agent = user_create(
        username="existing_agent",
        password=NEW_PASSWORD,
        organisation=org,
        roles=["enterprise_agent"],
    )
    client.force_login(operator)
    url = _issue_url(org)
    assert client.get(url).status_code == 200
    response = client.post(url, _issue_post(), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="issued-password"' in body  # the one-time password is shown once
    issued = User.objects.get(username="issued_owner")
    assert issued.organisation == org and issued.role_codes == {"enterprise_owner"}
    event = SecurityEvent.objects.get(action="enterprise_login_issue")
    assert event.actor == operator
    assert event.target_user == issued and event.target_organisation == org
    assert event.ip_address == "10.1.2.3"
    assert "政务大厅" in event.details["reason"]
    assert event.details["contact"].startswith("马明")
    # the enterprise is told: its existing login and the issued one both get a notice
    told = set(
        Notification.objects.filter(kind="enterprise_login_issued").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {agent.pk, issued.pk}


def test_enterprise_login_procedure_needs_a_real_reason(client, operator, unregistered_enterprise):
    client.force_login(operator)
    url = _issue_url(unregistered_enterprise)
    response = client.post(url, _issue_post(reason="需要"))
    assert response.status_code == 200
    assert "理由" in response.content.decode()
    assert not User.objects.filter(username="issued_owner").exists()
    assert not SecurityEvent.objects.filter(action="enterprise_login_issue").exists()


def test_enterprise_login_procedure_refuses_when_the_enterprise_has_an_owner(
    client, operator, enterprise_user
):
    client.force_login(operator)
    url = _issue_url(enterprise_user.organisation)
    response = client.post(url, _issue_post())
    assert response.status_code == 200
    assert "已有企业主账号" in response.content.decode()
    assert not User.objects.filter(username="issued_owner").exists()


@pytest.mark.parametrize("who", ["substation_operator", "bank_admin", "enterprise_user"])
def test_only_the_central_operator_issues_enterprise_logins(
    client, request, who, unregistered_enterprise
):
    client.force_login(request.getfixturevalue(who))
    url = _issue_url(unregistered_enterprise)
    assert client.post(url, _issue_post()).status_code in (403, 404)
    assert not User.objects.filter(username="issued_owner").exists()


def test_an_issued_login_reads_only_as_its_own_enterprise(operator, unregistered_enterprise):
    """The issued login is the enterprise's own: it is an enterprise member of that one only."""
    from xinrong.credit.rules import is_entity_member
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    user, _password = enterprise_login_issue(
        organisation=unregistered_enterprise,
        username="issued_owner",
        display_name="马明",
        phone="",
        contact="马明 13800001111",
        reason="企业法定代表人到政务大厅现场申请，已核验营业执照原件",
        actor=operator,
        source_ip="10.0.0.1",
    )
    own = unregistered_enterprise.market_entity
    other = MarketEntityFactory()
    assert is_entity_member(user, own)
    assert not is_entity_member(user, other)
    assert user.check_password(_password)
    assert _password != PASSWORD
