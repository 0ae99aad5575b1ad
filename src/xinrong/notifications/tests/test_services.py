import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinrong.common.errors import ApplicationError, NotFoundError
from xinrong.notifications import channels, selectors, services
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_send_stores_one_row_per_distinct_recipient_in_one_insert(make_user):
    a = make_user("operator", ["operator_admin"])
    b = make_user("operator", ["operator_admin"])
    with CaptureQueriesContext(connection) as ctx:
        rows = services.notification_send(
            recipients=[a, b.pk, a], kind="test", title="标题", body="正文", link="/credit/"
        )
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert len(rows) == 2
    assert {n.recipient_id for n in Notification.objects.all()} == {a.pk, b.pk}
    assert selectors.notification_unread_count(user=a) == 1


def test_send_hands_rows_to_external_channels_after_commit(
    make_user, monkeypatch, django_capture_on_commit_callbacks
):
    user = make_user("operator", ["operator_admin"])
    seen = []
    monkeypatch.setattr(channels, "CHANNELS", [lambda rows: seen.extend(rows)])
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(recipients=[user], kind="test", title="你好")
    assert [n.title for n in seen] == ["你好"]


def test_a_failing_channel_does_not_lose_the_in_app_message(
    make_user, monkeypatch, django_capture_on_commit_callbacks
):
    user = make_user("operator", ["operator_admin"])

    def broken(rows):
        raise RuntimeError("SMS gateway down")

    monkeypatch.setattr(channels, "CHANNELS", [broken])
    with django_capture_on_commit_callbacks(execute=True):
        services.notification_send(recipients=[user], kind="test", title="你好")
    assert Notification.objects.filter(recipient=user).count() == 1


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"title": "  "}, "title"),
        ({"link": "https://evil.example/"}, "link"),
        ({"link": "//evil.example/"}, "link"),
        ({"link": "javascript:alert(1)"}, "link"),
    ],
)
def test_bad_input_names_the_field(make_user, kw, field):
    user = make_user("operator", ["operator_admin"])
    args = {"recipients": [user], "kind": "test", "title": "标题"} | kw
    with pytest.raises(ApplicationError) as exc:
        services.notification_send(**args)
    assert exc.value.extra["field"] == field


def test_read_marks_only_the_recipients_own(make_user):
    a = make_user("operator", ["operator_admin"])
    b = make_user("operator", ["operator_admin"])
    (note,) = services.notification_send(recipients=[a], kind="t", title="x")
    with pytest.raises(NotFoundError):
        services.notification_read(notification=note, user=b)
    services.notification_read(notification=note, user=a)
    first = Notification.objects.get().read_at
    services.notification_read(notification=note, user=a)
    assert Notification.objects.get().read_at == first
    assert selectors.notification_unread_count(user=a) == 0


def test_read_all_counts_and_clears_the_badge(make_user):
    a = make_user("operator", ["operator_admin"])
    services.notification_send(recipients=[a], kind="t", title="1")
    services.notification_send(recipients=[a], kind="t", title="2")
    assert services.notification_read_all(user=a) == 2
    assert selectors.notification_unread_count(user=a) == 0
    assert services.notification_read_all(user=a) == 0
