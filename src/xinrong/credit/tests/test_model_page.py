"""The model page: figures in Chinese, bins as phrases, a drift warning, training from the page."""

from __future__ import annotations

import pytest

from xinrong.common.tests.plain_words import ALLOWED, problems, visible_text
from xinrong.credit.models import ModelEvent, ScoreModel, ScoringRun
from xinrong.credit.tests.test_scoring import _card

pytestmark = pytest.mark.django_db


@pytest.fixture
def model():
    return ScoreModel.objects.create(
        version=1,
        name="测试评分卡",
        status="active",
        card=_card().to_json(),
        metrics={"outcomes": "platform", "auc_train": 0.81, "auc_test": 0.78, "ks_test": 0.45},
        training={
            "data": "platform",
            "features_as_of": "month-end before disbursement",
            "split": "stratified 70/30",
            "bad_rate": 0.132,
            "seed": 20221,
        },
    )


def _run(model, psi, features):
    return ScoringRun.objects.create(
        model=model, full=True, entities=10, psi_score=psi, psi_features=features
    )


def test_metrics_training_and_bins_read_in_chinese(client, operator, model):
    client.force_login(operator)
    html = client.get("/credit/models/1/").content.decode()
    text = visible_text(html)
    assert "训练集 AUC" in text and "测试集 KS" in text and "平台贷款结果" in text
    assert "放款前一月末" in text and "分层抽样：70% 训练，30% 测试" in text
    assert "坏样本率 13%" in text and "随机种子 20221" in text
    # the tax grade's bins as letters, penalties as counts, never interval notation
    assert "为 C、D" in text and "为 B、M" in text and "为 A" in text
    assert "为 0次" in text and "不少于 1次" in text
    assert "C < 440" in text and "-inf" not in text
    assert problems(html, allowed=ALLOWED | {"English"}) == []


def test_drift_past_the_threshold_is_a_warning_naming_the_features(client, operator, model):
    _run(model, 0.05, {"tax_grade": 0.02})
    client.force_login(operator)
    assert 'id="drift-warning"' not in client.get("/credit/models/1/").content.decode()
    _run(model, 1.45, {"tax_grade": 4.8, "penalties_serious": 0.05})
    html = client.get("/credit/models/1/").content.decode()
    assert 'id="drift-warning"' in html
    text = visible_text(html)
    assert "信用分 PSI 1.45" in text and "纳税信用等级 4.80" in text
    assert "严重行政处罚数 0.05" not in text  # below the line: not drifted
    assert "去训练新版本" in text


def test_only_feature_drift_is_a_warning_too(client, operator, model):
    _run(model, 0.08, {"penalties_serious": 0.4})
    client.force_login(operator)
    text = visible_text(client.get("/credit/models/1/").content.decode())
    assert "严重行政处罚数 0.40" in text and "信用分 PSI" not in text


def test_training_from_the_page_is_offered_to_central_admins_only(
    client, operator, substation_operator, model
):
    client.force_login(substation_operator)
    page = client.get("/credit/models/")
    assert page.status_code == 200 and 'id="train-form"' not in page.content.decode()
    assert client.post("/credit/models/train/").status_code == 403
    client.force_login(operator)
    assert 'id="train-form"' in client.get("/credit/models/").content.decode()
    assert "xinrong model train" not in client.get("/credit/models/").content.decode()


def test_a_failed_training_tells_the_operator_why(
    client, operator, model, django_capture_on_commit_callbacks
):
    from xinrong.notifications.models import Notification

    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/credit/models/train/", {"name": ""}, follow=True)
    assert "训练任务已排入后台" in response.content.decode()
    note = Notification.objects.get(recipient=operator, kind="credit.model_train_failed")
    assert note.title == "评分模型训练失败" and "200" in note.body  # too few entities
    assert ScoreModel.objects.count() == 1


def test_a_finished_training_is_a_draft_through_the_model_workflow(
    client, operator, model, monkeypatch, django_capture_on_commit_callbacks
):
    from xinrong.credit.choices import ModelEventKind
    from xinrong.credit.services import scoring as scoring_services
    from xinrong.credit.workflows import MODEL
    from xinrong.notifications.models import Notification
    from xinrong.workflows.kernel import event_record

    def train(*, actor, name="", **kw):  # the real training needs 200 entities
        scoring_services._require_model_admin(actor)
        new = ScoreModel.objects.create(
            version=2, name=name, card=_card().to_json(), metrics={"auc_test": 0.8}
        )
        event_record(MODEL, new, ModelEventKind.TRAINED, actor=actor, created=True)
        return new

    monkeypatch.setattr(scoring_services, "model_train", train)
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/credit/models/train/", {"name": "春季版"})
    new = ScoreModel.objects.get(version=2)
    assert (new.status, new.name) == ("draft", "春季版")
    assert ModelEvent.objects.filter(model=new, kind="trained", actor=operator).exists()
    note = Notification.objects.get(recipient=operator, kind="credit.model_trained")
    assert "v2" in note.title and note.link == "/credit/models/2/"
    listing = visible_text(client.get("/credit/models/").content.decode())
    assert "春季版" in listing and "待启用" in listing


# the worker closes its database connection when it is done, as a real one does: the test runs
# outside a transaction so the next request simply opens a new one (PostgreSQL included)
@pytest.mark.django_db(transaction=True)
def test_the_page_shows_queued_and_finished_training_runs(client, operator, model, settings):
    from django.core.management import call_command

    from xinrong.credit import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    tasks.model_train_run.enqueue(operator.pk, "")
    client.force_login(operator)
    text = visible_text(client.get("/credit/models/").content.decode())
    assert "最近的训练任务" in text and "排队中" in text
    call_command("db_worker", batch=True, interval=0)
    text = visible_text(client.get("/credit/models/").content.decode())
    assert "失败" in text and "主体数量不足" in text
