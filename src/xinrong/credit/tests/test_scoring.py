"""Scoring on the database: features from facts, training, activation, batch scoring, portraits."""

import datetime as dt
import io

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from xinrong.common.errors import ApplicationError, PermissionDeniedError
from xinrong.credit.features import feature_matrix
from xinrong.credit.models import CreditProfile, ModelEvent, QueryLog, ScoreModel
from xinrong.credit.scorecard import BinnedFeature, Scorecard
from xinrong.credit.selectors import scoring as scoring_selectors
from xinrong.credit.services import archive as archive_services
from xinrong.credit.services import disputes as disputes_services
from xinrong.credit.services import early_warning as early_warning_services
from xinrong.credit.services import repair as repair_services
from xinrong.credit.services import scoring as scoring_services
from xinrong.datahub.services.ingest import batch_ingest
from xinrong.datahub.services.sources import source_create

pytestmark = pytest.mark.django_db


def _deliver(source, category, text):
    return batch_ingest(
        source=source,
        category=category,
        fileobj=io.BytesIO(text.encode()),
        filename=f"{category}.csv",
        channel="cli",
    )


@pytest.fixture
def source(make_user):
    dept = make_user("government", ["data_provider"])
    return source_create(
        code="dept",
        name="部门",
        organisation=dept.organisation,
        categories=["tax", "penalty", "judicial", "utility"],
    )


def _month(day, back):
    i = day.year * 12 + day.month - 1 - back
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def test_features_come_from_visible_facts_within_retention(entity, source):
    today = timezone.localdate()
    rows = "\n".join(
        f"{entity.uscc},{_month(today, k)},{1000 * (k + 1)},{'ABMCD'[k % 5]},{50 if k < 3 else 0}"
        for k in range(14)
    )
    _deliver(
        source,
        "tax",
        f"统一社会信用代码,所属期,实缴税额（元）,纳税信用等级,欠税金额（元）\n{rows}\n",
    )
    decided = today - dt.timedelta(days=400)
    end = today - dt.timedelta(days=30)
    _deliver(
        source,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期,公示截止日期\n"
        f"{entity.uscc},罚1,serious,{decided},{end}\n{entity.uscc},罚2,general,{decided},\n",
    )
    _deliver(
        source,
        "judicial",
        "统一社会信用代码,案号,诉讼地位,立案日期,标的金额（元）,失信被执行人\n"
        f"{entity.uscc},(2025)青01执1号,executed,{today - dt.timedelta(days=100)},50000,是\n",
    )
    X = feature_matrix(entity_ids=[entity.pk], as_of=today)
    row = X.loc[entity.pk]
    # the 12 months before this one: k = 1..12 → 2000 … 13000 yuan
    # the 12 complete months before today's (k = 1..12): the running month k=0, delivered here
    # early, is not in the window (features._Windows), though its grade is the latest known
    assert row["tax_paid_12m"] == pytest.approx(sum(1000 * (k + 1) for k in range(1, 13)) / 10_000)
    assert row["tax_grade"] == 5.0  # latest period k=0 is grade A
    assert row["tax_arrears_months"] == 2  # k = 1, 2 (k = 0 is the running month)
    assert (row["penalties_serious"], row["penalties_general"]) == (1, 1)
    assert (row["cases_defendant_36m"], row["dishonest"], row["case_amount_36m"]) == (1, 1, 5.0)
    # move the clock past the serious penalty's retention (publication end + 5 years)
    later = end.replace(year=end.year + 5) + dt.timedelta(days=1)
    X2 = feature_matrix(entity_ids=[entity.pk], as_of=later)
    assert X2.loc[entity.pk, "penalties_serious"] == 0
    assert X2.loc[entity.pk, "penalties_general"] == 0  # retention from the decision date


def _card() -> Scorecard:
    """A small hand-built card: serious penalties and the tax grade matter."""
    card = Scorecard(
        features=[
            BinnedFeature(
                name="penalties_serious",
                splits=[0.5],
                woe=[0.3, -1.2, 0.0],
                points=[],
                counts=[90, 10, 0],
                event_rates=[0.05, 0.3, 0.0],
                iv=0.4,
                coef=-1.0,
                trend="ascending",
            ),
            BinnedFeature(
                name="tax_grade",
                splits=[2.5, 4.5],
                woe=[-1.0, 0.1, 0.6, 0.0],
                points=[],
                counts=[10, 60, 30, 0],
                event_rates=[0.3, 0.08, 0.03, 0.0],
                iv=0.3,
                coef=-0.8,
                trend="descending",
            ),
        ],
        intercept=-2.0,
    )
    share = (card.offset - card.factor * card.intercept) / len(card.features)
    for f in card.features:
        f.points = [-card.factor * f.coef * w + share for w in f.woe]
    return card


def _activate(card: Scorecard) -> ScoreModel:
    model = ScoreModel.objects.create(version=1, name="test", card=card.to_json())
    return scoring_services.model_activate(model=model, actor=None)


def test_repair_or_retention_changes_the_score_as_the_card_says(entity, source):
    today = timezone.localdate()
    end = today - dt.timedelta(days=10)
    _deliver(
        source,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期,公示截止日期\n"
        f"{entity.uscc},罚1,serious,{today - dt.timedelta(days=300)},{end}\n",
    )
    card = _card()
    _activate(card)
    now_run = scoring_services.profiles_score(entity_ids=[entity.pk], as_of=today)
    first = CreditProfile.objects.get(entity=entity, is_latest=True)
    later = end.replace(year=end.year + 5) + dt.timedelta(days=1)
    scoring_services.profiles_score(entity_ids=[entity.pk], as_of=later)
    second = CreditProfile.objects.get(entity=entity, is_latest=True)
    pen, tax = card.features
    assert first.score == round(pen.points[1] + tax.points[3])  # one serious penalty, no tax data
    assert second.score == round(pen.points[0] + tax.points[3])  # past retention: none
    assert now_run.entities == 1
    assert CreditProfile.objects.filter(entity=entity).count() == 2  # history kept


def test_rescoring_unchanged_entities_writes_no_new_snapshot(entity):
    _activate(_card())
    scoring_services.profiles_score(entity_ids=[entity.pk])
    scoring_services.profiles_score(entity_ids=[entity.pk])
    assert CreditProfile.objects.filter(entity=entity).count() == 1


def test_scoring_without_an_active_model_is_a_clear_error(entity):
    with pytest.raises(ApplicationError) as err:
        scoring_services.profiles_score(entity_ids=[entity.pk])
    assert err.value.code == "no_active_model"


def test_training_needs_enough_entities(entity):
    with pytest.raises(ApplicationError) as err:
        scoring_services.model_train(actor=None)
    assert "200" in str(err.value.message)


def test_only_operators_train_or_activate(bank_officer, entity):
    with pytest.raises(PermissionDeniedError):
        scoring_services.model_train(actor=bank_officer)
    model = ScoreModel.objects.create(version=1, name="m", card=_card().to_json())
    with pytest.raises(PermissionDeniedError):
        scoring_services.model_activate(model=model, actor=bank_officer)


def test_activation_retires_the_previous_version_with_audit_records(operator):
    card = _card().to_json()
    v1 = ScoreModel.objects.create(version=1, name="a", card=card)
    v2 = ScoreModel.objects.create(version=2, name="b", card=card)
    scoring_services.model_activate(model=v1, actor=operator)
    scoring_services.model_activate(model=v2, actor=operator, note="新版本")
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("retired", "active")
    kinds = list(ModelEvent.objects.order_by("id").values_list("model__version", "kind", "actor"))
    assert kinds == [
        (1, "activated", operator.pk),
        (1, "retired", operator.pk),
        (2, "activated", operator.pk),
    ]
    with pytest.raises(ApplicationError):
        scoring_services.model_activate(model=v2, actor=operator)


def test_portrait_for_the_enterprise_and_for_fully_authorised_institutions(
    entity, enterprise_user, bank_officer, source
):
    today = timezone.localdate()
    _deliver(
        source,
        "tax",
        "统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n"
        f"{entity.uscc},{_month(today, 1)},100,C\n",
    )
    card = _card()
    _activate(card)
    scoring_services.profiles_score(entity_ids=[entity.pk])
    own = scoring_selectors.portrait_read(user=enterprise_user, entity=entity, channel="page")
    assert own.profile is not None and own.own
    assert {code for code, _l, _v in own.dimensions} == {"compliance", "tax"}
    # tax grade C is in the worst bin: the next grade that adds points (B: M is given to new
    # firms, not earned) is the first step, in words, then the best attainable grade, A
    tip, best = own.improvements
    tax = card.features[1]
    gain = tax.points[1] - tax.points[0]
    assert tip.target == "纳税信用等级达到B级"
    assert (tip.current, own.reasons[0][0]) == ("C级", "纳税信用等级为C级")
    assert (tip.feature, tip.gain) == ("tax_grade", round(gain))
    assert tip.score_after == round(own.profile.score + gain)
    assert (best.current, best.target) == ("B级", "纳税信用等级达到A级")
    assert best.score_after == round(own.profile.score + tax.points[2] - tax.points[0])
    with pytest.raises(PermissionDeniedError):
        scoring_selectors.portrait_read(user=bank_officer, entity=entity, channel="page")
    archive_services.authorisation_grant(
        entity=entity,
        actor=enterprise_user,
        institution=bank_officer.organisation,
        scope="chosen",
        categories=["tax"],
        purpose="loan_application",
        expires_on=today + dt.timedelta(days=30),
    )
    with pytest.raises(PermissionDeniedError):  # a score rests on everything: "full" needed
        scoring_selectors.portrait_read(user=bank_officer, entity=entity, channel="page")
    archive_services.authorisation_grant(
        entity=entity,
        actor=enterprise_user,
        institution=bank_officer.organisation,
        scope="full",
        purpose="loan_application",
        expires_on=today + dt.timedelta(days=30),
    )
    seen = scoring_selectors.portrait_read(user=bank_officer, entity=entity, channel="api")
    assert seen.profile.score == own.profile.score
    log = QueryLog.objects.get()
    assert (log.organisation_id, log.categories, log.channel) == (
        bank_officer.organisation_id,
        ["portrait"],
        "api",
    )


def test_a_completed_batch_rescores_the_entities_it_touched(
    entity, source, django_capture_on_commit_callbacks
):
    _activate(_card())
    with django_capture_on_commit_callbacks(execute=True):
        _deliver(
            source,
            "penalty",
            "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
            f"{entity.uscc},罚9,serious,{timezone.localdate() - dt.timedelta(days=20)}\n",
        )
    profile = CreditProfile.objects.get(entity=entity)
    assert profile.reason_codes()[0] == "penalties_serious"


def test_demo_seed_trains_activates_and_scores_everyone():
    from xinrong.web.seed import seed

    # the seed `make demo` runs (its loans leave enough bad outcomes to train on: about 50 bad
    # of 500 is the floor, and a seed with 49 keeps v2 as a draft, as it should)
    report = seed(scale="demo", seed_value=20221)
    # v1 learns the synthetic process; v2, trained on the seeded loans' outcomes, replaces it
    model, platform = ScoreModel.objects.order_by("version")
    assert model.status == "retired" and platform.status == "active"
    assert model.metrics["outcomes"] == "synthetic" and platform.metrics["outcomes"] == "platform"
    assert report.scored == report.entities
    m = model.metrics
    # the synthetic process is recoverable: the model gets close to the oracle's AUC
    assert m["auc_test"] > 0.65 and m["oracle_auc_test"] - m["auc_test"] < 0.06
    assert m["score_vs_true_risk_spearman"] > 0.7
    assert CreditProfile.objects.filter(is_latest=True).count() == report.entities
    grades = set(CreditProfile.objects.values_list("grade", flat=True))
    assert len(grades) >= 4
    past, run = model.runs.order_by("started_at", "id")  # half a year ago, then today
    assert past.entities == run.entities == report.entities
    assert platform.runs.get().entities == report.entities
    assert run.psi_score is not None and run.psi_score < 0.1  # scored population ≈ training
    scores = np.array(CreditProfile.objects.values_list("score", flat=True))
    assert 400 < np.median(scores) < 800


def test_an_approved_credit_repair_takes_the_penalty_out_of_the_score(
    entity, source, enterprise_user, operator, django_capture_on_commit_callbacks
):
    from xinrong.datahub.models import Fact

    source_user = source.organisation.users.first()
    today = timezone.localdate()
    _deliver(
        source,
        "penalty",
        "统一社会信用代码,决定书文号,严重程度,处罚日期\n"
        f"{entity.uscc},罚3,serious,{today - dt.timedelta(days=500)}\n",
    )
    card = _card()
    _activate(card)
    scoring_services.profiles_score(entity_ids=[entity.pk])
    before = CreditProfile.objects.get(entity=entity, is_latest=True).score
    fact = Fact.objects.get(entity=entity, category="penalty")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xinrong.credit.tests.conftest import PDF_BYTES

    application = repair_services.repair_apply(
        actor=enterprise_user,
        fact=fact,
        statement="已整改，罚款已缴清",
        evidence=[SimpleUploadedFile("整改报告.pdf", PDF_BYTES, "application/pdf")],
    )
    repair_services.repair_approve(application=application, actor=source_user, reason="整改到位")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        repair_services.repair_approve(application=application, actor=operator, reason="确认")
    assert queued  # the approval itself queues the entity's rescoring; nobody calls it by hand
    after = CreditProfile.objects.get(entity=entity, is_latest=True).score
    pen, tax = card.features
    assert (before, after) == (
        round(pen.points[1] + tax.points[3]),
        round(pen.points[0] + tax.points[3]),
    )


def test_scoring_a_long_list_in_parts_gives_the_same_snapshots(monkeypatch, entity):
    from xinrong.enterprises.tests.factories import MarketEntityFactory

    others = [MarketEntityFactory() for _ in range(4)]
    ids = [entity.pk, *(o.pk for o in others)]
    _activate(_card())
    monkeypatch.setattr(scoring_services, "SCORE_PART", 2)  # three parts of at most two entities
    run = scoring_services.profiles_score(entity_ids=ids)
    assert run.entities == 5
    assert sorted(
        CreditProfile.objects.filter(is_latest=True).values_list("entity_id", flat=True)
    ) == sorted(ids)
    assert early_warning_services.alerts_raise(entity_ids=ids) == 0


def test_a_dispute_correction_rescores_the_entity(
    entity, source, enterprise_user, django_capture_on_commit_callbacks
):
    from xinrong.datahub.models import Fact

    _deliver(
        source,
        "tax",
        f"统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n{entity.uscc},2026-01,1000,D\n",
    )
    card = _card()
    _activate(card)
    scoring_services.profiles_score(entity_ids=[entity.pk])
    before = CreditProfile.objects.get(entity=entity, is_latest=True)
    fact = Fact.objects.get(entity=entity, category="tax")
    dispute = disputes_services.dispute_file(
        actor=enterprise_user,
        fact=fact,
        kind="correction",
        claim="纳税信用等级应为A级",
        proposed_values={"credit_grade": "A"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes_services.dispute_resolve_correct(
            dispute=dispute, actor=source.organisation.users.first()
        )
    after = CreditProfile.objects.get(entity=entity, is_latest=True)
    pen, tax = card.features
    # grade D is 1 and A is 5 on the feature's scale: bins [<2.5], [2.5, 4.5), [≥4.5]
    assert (before.score, after.score) == (
        round(pen.points[0] + tax.points[0]),
        round(pen.points[0] + tax.points[2]),
    )
    assert after.pk != before.pk


def test_a_correction_that_drops_the_score_alerts_the_lender_at_once(
    entity, source, enterprise_user, bank_officer, django_capture_on_commit_callbacks
):
    from xinrong.credit.models import Alert
    from xinrong.datahub.models import Fact

    _deliver(
        source,
        "tax",
        f"统一社会信用代码,所属期,实缴税额（元）,纳税信用等级\n{entity.uscc},2026-01,1000,A\n",
    )
    _activate(_card())
    scoring_services.profiles_score(entity_ids=[entity.pk])
    early_warning_services.loan_watch_start(
        entity=entity, institution=bank_officer.organisation, reference="L1"
    )
    dispute = disputes_services.dispute_file(
        actor=enterprise_user,
        fact=Fact.objects.get(entity=entity, category="tax"),
        kind="correction",
        claim="等级报送有误",
        proposed_values={"credit_grade": "D"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes_services.dispute_resolve_correct(
            dispute=dispute, actor=source.organisation.users.first()
        )
    alert = Alert.objects.get()
    assert (alert.rule, alert.institution_id) == ("score_drop", bank_officer.organisation_id)


@pytest.mark.parametrize(
    ("points", "current", "ordered", "step"),
    [
        ([10, 20, 35, 50, 5], 1, True, 2),  # one bin better, not the best bin (3)
        ([50, 35, 20, 10, 5], 2, True, 1),  # a descending trend steps down
        ([10, 20, 35, 50, 5], 3, True, None),  # already in the best bin
        ([10, 30, 20, 15, 5], 2, True, 1),  # of two better neighbours, the one adding more
        # the neighbour adds under a point (70.5 → 70.9): the nearest bin that adds one
        ([70.5, 70.9, 77.1, 118.7, 74.9], 0, True, 2),
        ([70.5, 70.9, 70.0, 70.2, 74.9], 0, True, None),
        ([10, 20, 35, 50, 5], 4, True, 0),  # from "missing": the cheapest real bin above it
        ([10, 20, 35, 50, 40], 4, True, 3),
        ([30, 10, 20, 5], 1, False, 2),  # categorical: the cheapest better group
    ],
)
def test_guidance_steps_to_the_next_better_bin(points, current, ordered, step):
    from xinrong.credit.selectors.scoring import _next_step

    assert _next_step(points, current, ordered=ordered) == step


def test_activating_from_the_command_line_queues_a_full_rescoring(
    entity, django_capture_on_commit_callbacks
):
    import io

    from django.core.management import call_command

    model = ScoreModel.objects.create(version=1, name="test", card=_card().to_json())
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        call_command("model", "activate", "1", stdout=out)
    assert len(queued) == 1 and "full rescoring queued" in out.getvalue()
    # the queued task ran (immediate backend in tests): the entity has a profile of v1
    assert CreditProfile.objects.get(entity=entity, is_latest=True).model == model


def test_an_entity_has_at_most_one_latest_profile(entity):
    from django.db import IntegrityError, transaction

    model = ScoreModel.objects.create(version=1, name="test", card=_card().to_json())
    CreditProfile.objects.create(entity=entity, model=model, score=600, grade="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditProfile.objects.create(entity=entity, model=model, score=610, grade="A")
    CreditProfile.objects.create(entity=entity, model=model, score=590, grade="A", is_latest=False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers with its write lock"
)
def test_two_scoring_runs_at_once_leave_one_latest_profile(entity):
    """The daily rescoring and a batch's at the same moment: the scoring lock orders them."""
    import threading

    from django.db import connections

    _activate(_card())
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            scoring_services.profiles_score(entity_ids=[entity.pk])
        except BaseException as exc:  # reported below: a failed run is the test's failure
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert CreditProfile.objects.filter(entity=entity, is_latest=True).count() == 1
    assert CreditProfile.objects.filter(entity=entity).count() == 1  # the second changed nothing
