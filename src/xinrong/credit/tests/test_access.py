import datetime as dt

import pytest
from django.utils import timezone

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit.models import QueryLog
from xinrong.credit.selectors import archive as archive_selectors
from xinrong.credit.services import archive as archive_services

pytestmark = pytest.mark.django_db


def _grant(enterprise_user, institution, **kw):
    args = dict(
        entity=enterprise_user.organisation.market_entity,
        actor=enterprise_user,
        institution=institution,
        scope="full",
        purpose="loan_application",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    args.update(kw)
    return archive_services.authorisation_grant(**args)


def test_institution_without_authorisation_sees_public_only_and_is_not_logged(
    facts, entity, bank_officer
):
    archive = archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")
    assert archive.facts["penalty"] and "tax" not in archive.facts
    assert "tax" in archive.hidden
    assert not QueryLog.objects.exists()


def test_full_authorisation_shows_everything_and_logs_the_read(
    facts, entity, enterprise_user, bank_officer
):
    auth = _grant(enterprise_user, bank_officer.organisation)
    archive = archive_selectors.archive_read(user=bank_officer, entity=entity, channel="api")
    assert [f.period for f in archive.facts["tax"]] == ["2024-06"]  # 2015 arrears past retention
    log = QueryLog.objects.get()
    assert (log.user, log.organisation, log.authorisation, log.channel, log.purpose) == (
        bank_officer,
        bank_officer.organisation,
        auth,
        "api",
        "loan_application",
    )
    assert "tax" in log.categories
    assert list(archive_selectors.query_log_list(user=enterprise_user, entity=entity)) == [log]


def test_enterprise_sees_its_own_archive_without_negative_information_past_retention(
    facts, entity, enterprise_user
):
    archive = archive_selectors.archive_read(user=enterprise_user, entity=entity, channel="page")
    # the 2015 arrears ended more than 5 years ago: removed for the enterprise too (Art. 16)
    assert [f.period for f in archive.facts["tax"]] == ["2024-06"]
    assert not QueryLog.objects.exists()


def test_chosen_scope_limits_categories(facts, entity, enterprise_user, bank_officer):
    _grant(enterprise_user, bank_officer.organisation, scope="chosen", categories=["utility"])
    archive = archive_selectors.archive_read(user=bank_officer, entity=entity, channel="page")
    assert "tax" not in archive.facts and "utility" in archive.facts


def test_revoked_or_expired_authorisation_stops_reads(facts, entity, enterprise_user, bank_officer):
    auth = _grant(enterprise_user, bank_officer.organisation)
    archive_services.authorisation_revoke(authorisation=auth, actor=enterprise_user)
    assert (
        "tax"
        not in archive_selectors.archive_read(
            user=bank_officer, entity=entity, channel="page"
        ).facts
    )
    auth2 = _grant(enterprise_user, bank_officer.organisation)
    type(auth2).objects.filter(pk=auth2.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert (
        "tax"
        not in archive_selectors.archive_read(
            user=bank_officer, entity=entity, channel="page"
        ).facts
    )


def test_authorisation_is_for_another_institution_only(
    facts, entity, enterprise_user, bank_officer, make_user
):
    other_bank = make_user("bank", ["loan_officer"])
    _grant(enterprise_user, other_bank.organisation)
    assert (
        "tax"
        not in archive_selectors.archive_read(
            user=bank_officer, entity=entity, channel="page"
        ).facts
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"scope": "chosen", "categories": []}, "categories"),
        ({"scope": "chosen", "categories": ["nope"]}, "categories"),
        ({"expires_on": dt.date(2020, 1, 1)}, "expires_on"),
        ({"purpose": "gossip"}, "purpose"),
    ],
)
def test_bad_grants_name_the_field(entity, enterprise_user, bank_officer, kw, field):
    with pytest.raises(ApplicationError) as exc:
        _grant(enterprise_user, bank_officer.organisation, **kw)
    assert exc.value.extra["field"] == field


def test_only_the_enterprise_grants_and_only_to_institutions(
    entity, enterprise_user, bank_officer, gov_reviewer
):
    with pytest.raises(PermissionDeniedError):
        archive_services.authorisation_grant(
            entity=entity,
            actor=bank_officer,
            institution=bank_officer.organisation,
            scope="full",
            purpose="other",
            expires_on=dt.date.today() + dt.timedelta(days=3),
        )
    with pytest.raises(ApplicationError) as exc:
        _grant(enterprise_user, gov_reviewer.organisation)
    assert exc.value.code == "institution_kind"


def test_other_enterprises_cannot_read_an_archive(facts, entity, make_user):
    other = make_user("enterprise", ["enterprise_owner"])
    with pytest.raises(PermissionDeniedError):
        archive_selectors.archive_read(user=other, entity=entity, channel="page")
