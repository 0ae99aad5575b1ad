"""The credit pages speak plain Chinese: no codes, booleans, English words or interval notation.

The demo world is seeded once, then given what the demo lacks and a reader meets in real use:
penalties of each severity (delivered in Chinese: 一般、严重), an electricity bill, a court case
with a dishonest flag, a dispute asking for a Chinese severity and corrected by the department,
a repair application, a cultivation case and an alert. Every credit page is then rendered for
the role that works on it, and its visible text checked by ``plain_words.problems``.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from xinrong.common.tests.plain_words import problems
from xinrong.credit.tests.conftest import pdf

pytestmark = [pytest.mark.django_db]


def _deliver(source, category, header, rows):
    from xinrong.datahub.services.ingest import batch_ingest

    text = "\n".join([header, *rows]) + "\n"
    batch = batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )
    assert batch.rejected == 0, list(batch.errors.values_list("column", "value", "rule"))
    return list(batch.facts.order_by("id"))


def enrich() -> dict:
    """Add to the seeded demo what its credit pages need to show every kind of value."""
    from xinrong.accounts.models import User
    from xinrong.common.errors import ApplicationError
    from xinrong.credit.models import Alert, Authorisation, CreditProfile
    from xinrong.credit.services import cultivation as cultivation_services
    from xinrong.credit.services import disputes as dispute_services
    from xinrong.credit.services import repair as repair_services
    from xinrong.credit.services.scoring import profiles_score
    from xinrong.datahub.models import Fact, Source
    from xinrong.enterprises.models import MarketEntity

    users = {u.username: u for u in User.objects.filter(username__in=DEMO_LOGINS)}
    entity = MarketEntity.objects.get(organisation=users["ent_owner"].organisation)
    today = timezone.localdate()
    old = (today - dt.timedelta(days=200)).isoformat()
    older = (today - dt.timedelta(days=500)).isoformat()
    market = Source.objects.get(code="market")
    general, _serious, minor = _deliver(
        market,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期,罚没金额（元）",
        [
            f"{entity.uscc},青市监罚〔2026〕7号,一般,{old},5000",
            f"{entity.uscc},青市监罚〔2025〕3号,严重,{older},20000",
            f"{entity.uscc},青市监罚〔2026〕9号,minor,{old},200",
        ],
    )
    (bill,) = _deliver(
        Source.objects.get(code="energy"),
        "utility",
        "统一社会信用代码,类别,所属期,应缴金额（元）,欠费月数",
        [f"{entity.uscc},电,{today.year - 1}-06,3660.10,2"],
    )
    _deliver(
        Source.objects.get(code="court"),
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期,案件状态,失信被执行人",
        [f"{entity.uscc},(2025)青0102民初77号,被告,{older},已结案,是"],
    )
    owner, clerk = users["ent_owner"], users["gov_data"]
    asked = dispute_services.dispute_file(
        actor=owner,
        fact=minor,
        kind="correction",
        claim="处罚决定已变更为一般程序，请更正严重程度。",
        proposed_values={"severity": "一般"},  # the Chinese label, as a person writes it
        evidence=[pdf()],
    )
    dispute_services.dispute_review_start(dispute=asked, actor=clerk, note="已调取案卷")
    dispute_services.dispute_resolve_correct(dispute=asked, actor=clerk, note="已核实")
    open_dispute = dispute_services.dispute_file(
        actor=owner, fact=bill, kind="objection", claim="电费已于当月缴清，不存在欠费。"
    )
    repair = repair_services.repair_apply(
        actor=owner, fact=general, statement="罚款已缴清，已完成整改。", evidence=[pdf()]
    )
    profiles_score(entity_ids=[entity.pk])
    case = None
    policy = users["gov_policy"]
    for profile in CreditProfile.objects.filter(is_latest=True, grade__in=["C", "CC", "CCC"])[:50]:
        try:
            case = cultivation_services.cultivation_start(
                entity=profile.entity, actor=policy, plan="辅导规范纳税申报，半年后复评。"
            )
        except ApplicationError:  # outside the department's industries: try another
            continue
        cultivation_services.cultivation_note_add(case=case, actor=policy, text="已上门辅导一次")
        break
    officer = users["loan_officer"]
    assert officer.organisation is not None
    auth = (
        Authorisation.objects.filter(
            institution=officer.organisation, scope="full", revoked_at=None
        )
        .exclude(expires_at__lt=timezone.now())
        .first()
    )
    borrower = auth.entity if auth else entity
    latest = CreditProfile.objects.filter(entity=borrower, is_latest=True).first()
    facts = list(
        Fact.objects.filter(entity=borrower, category__in=["judicial", "utility"]).order_by("-id")
    )
    Alert.objects.create(
        institution=officer.organisation,
        entity=borrower,
        rule="utility_arrears",
        severity="medium",
        detail={
            "fact": facts[0].pk if facts else 0,
            "utility": "electricity",
            "period": "2026-06",
            "months_in_arrears": "3",
        },
        fingerprint="plain-words-1",
    )
    Alert.objects.create(
        institution=officer.organisation,
        entity=borrower,
        rule="score_drop",
        severity="medium",
        detail={
            "profile": latest.pk if latest else 0,
            "from": 640,
            "to": 595,
            "grade_from": "A",
            "grade_to": "BB",
        },
        fingerprint="plain-words-2",
    )
    return {
        "entity": entity,
        "disputes": [asked.pk, open_dispute.pk],
        "repair": repair.pk,
        "fact": general.pk,
        "case": case.pk if case else None,
        "borrower": borrower,
        "authorised": auth is not None,
    }


DEMO_LOGINS = ("ent_owner", "loan_officer", "gov_data", "gov_policy", "operator")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.conf import settings
    from django.core.management import call_command

    from xinrong.web.tests.seeded import demo_world

    media = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock():
        demo_world(seed_value=11)
        data = enrich()
        yield data
        call_command("flush", "--noinput")
    settings.MEDIA_ROOT = media


def _pages(world) -> dict[str, list[str]]:
    from xinrong.credit.models import ScoreModel

    uscc = world["entity"].uscc
    borrower = world["borrower"].uscc
    disputes = [f"/credit/disputes/{pk}/" for pk in world["disputes"]]
    repair = f"/credit/repairs/{world['repair']}/"
    models = [f"/credit/models/{v}/" for v in ScoreModel.objects.values_list("version", flat=True)]
    case = [f"/credit/cultivation/{world['case']}/"] if world["case"] else []
    return {
        "ent_owner": [
            f"/credit/archive/{uscc}/",
            f"/credit/portrait/{uscc}/",
            f"/enterprises/{uscc}/",
            "/credit/disputes/",
            *disputes,
            f"/credit/disputes/new/{world['fact']}/",
            "/credit/repairs/",
            repair,
        ],
        "loan_officer": [
            f"/credit/archive/{borrower}/",
            f"/credit/portrait/{borrower}/",
            f"/enterprises/{borrower}/",
            "/credit/alerts/",
        ],
        # the market regulator answers for its penalty, not for the energy company's bill
        "gov_data": ["/credit/disputes/", disputes[0], "/credit/repairs/", repair],
        "gov_policy": ["/credit/cultivation/", *case],
        "operator": [
            "/credit/models/",
            *models,
            "/credit/disputes/",
            *disputes,
            "/credit/repairs/",
        ],
    }


@pytest.mark.parametrize("username", DEMO_LOGINS)
def test_credit_pages_show_no_codes_booleans_english_or_intervals(world, username):
    from xinrong.accounts.models import User

    assert world["authorised"], "the demo's loan officer holds a full authorisation"
    client = Client()
    client.force_login(User.objects.get(username=username))
    found = {}
    for path in _pages(world)[username]:
        response = client.get(path)
        assert response.status_code == 200, path
        bad = problems(response.content.decode())
        if bad:
            found[path] = sorted(set(bad))
    assert not found, found


def test_the_seeded_cases_hold_chinese_values_as_codes(world):
    """Chinese written in deliveries and in the dispute form is stored as the codes."""
    from xinrong.credit.models import Dispute
    from xinrong.datahub.models import Fact

    entity = world["entity"]
    grades = set(
        Fact.objects.filter(entity=entity, category="penalty").values_list("grade", flat=True)
    )
    assert {"general", "serious"} <= grades
    asked = Dispute.objects.get(pk=world["disputes"][0])
    assert asked.proposed_values == {"severity": "general"}
    assert asked.fact.grade == "general"  # corrected as asked


def test_the_portrait_gives_reasons_as_sentences_and_the_archive_labels(world):
    client = Client()
    from xinrong.accounts.models import User

    client.force_login(User.objects.get(username="ent_owner"))
    uscc = world["entity"].uscc
    archive = client.get(f"/credit/archive/{uscc}/").content.decode()
    for label in ("一般", "严重", "电", "被告", "已结案"):
        assert f">{label}<" in archive, label
    portrait = client.get(f"/credit/portrait/{uscc}/").content.decode()
    assert "纳税信用等级" in portrait and "纳税信用等级</span><span>5" not in portrait


def test_the_check_finds_what_a_reader_should_not_see():
    html = (
        "<p>严重程度 general · 失信 True · 区间 [0.032821, 0.993024) 与 [2.5, +∞)"
        " · auc_train · AUC 0.78 · English</p><script>var x = 'electricity';</script>"
        "<span data-free-text>note typed by someone</span><p title='repaid'>已还</p>"
    )
    found = problems(html)
    assert "内部取值：general" in found and "布尔值：True" in found
    assert "区间写法：[0.032821, 0.993024)" in found and "区间写法：[2.5, +∞)" in found
    assert "标识符：auc_train" in found
    # AUC is the field's own term; English names the language in the selector; scripts and
    # what people typed are not checked
    assert not [p for p in found if "AUC" in p or "English" in p]
    assert not [p for p in found if "electricity" in p or "note" in p]
    # a title is read on hover (and an aria-label aloud): it is checked like the text
    assert "内部取值：repaid" in found
