import re

import pytest
from django.urls import reverse

from xinrong.notifications import services
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _badge(body: str) -> int:
    match = re.search(r'id="notification-badge" data-count="(\d+)"', body)
    return int(match.group(1)) if match else 0


def test_navbar_badge_shows_the_unread_count(client, operator):
    client.force_login(operator)
    assert _badge(client.get(reverse("web:home")).content.decode()) == 0
    for i in range(3):
        services.notification_send(recipients=[operator], kind="t", title=f"消息{i}")
    assert _badge(client.get(reverse("web:home")).content.decode()) == 3


def test_inbox_lists_only_own_messages_and_opens_the_link(client, operator, make_user):
    other = make_user("operator", ["operator_admin"])
    (mine,) = services.notification_send(
        recipients=[operator], kind="t", title="我的消息", link="/credit/disputes/"
    )
    services.notification_send(recipients=[other], kind="t", title="别人的消息")
    client.force_login(operator)
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "我的消息" in body and "别人的消息" not in body
    response = client.post(reverse("notifications:open", args=[mine.pk]), {"follow": "1"})
    assert response.status_code == 302 and response["Location"] == "/credit/disputes/"
    assert Notification.objects.get(pk=mine.pk).read_at is not None


def test_someone_elses_notification_is_not_found(client, operator, make_user):
    other = make_user("operator", ["operator_admin"])
    (theirs,) = services.notification_send(recipients=[other], kind="t", title="x")
    client.force_login(operator)
    response = client.post(reverse("notifications:open", args=[theirs.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_clears_the_badge(client, operator):
    services.notification_send(recipients=[operator], kind="t", title="1")
    services.notification_send(recipients=[operator], kind="t", title="2")
    client.force_login(operator)
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "已将 2 条通知标为已读" in response.content.decode()
    assert _badge(response.content.decode()) == 0


def test_inbox_needs_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_someone_elses_notification_shows_the_chinese_message(client, operator, make_user):
    other = make_user("operator", ["operator_admin"])
    (theirs,) = services.notification_send(recipients=[other], kind="t", title="x")
    client.force_login(operator)
    response = client.post(reverse("notifications:open", args=[theirs.pk]))
    assert "通知不存在" in response.content.decode()


def test_an_empty_inbox_says_so(client, operator):
    client.force_login(operator)
    body = client.get(reverse("notifications:inbox")).content.decode()
    assert "收件箱是空的" in body
    services.notification_send(recipients=[operator], kind="t", title="已读的消息")
    services.notification_read_all(user=operator)
    body = client.get(reverse("notifications:inbox") + "?unread=1").content.decode()
    assert "没有未读通知" in body and "已读的消息" not in body


def test_inbox_pages_keep_the_unread_filter(client, operator):
    for i in range(25):
        services.notification_send(recipients=[operator], kind="t", title=f"消息{i}")
    client.force_login(operator)
    body = client.get(reverse("notifications:inbox") + "?unread=1").content.decode()
    assert "unread=1&amp;page=2" in body
    body = client.get(reverse("notifications:inbox") + "?unread=1&page=99").content.decode()
    assert 'data-page="2"' in body and body.count('data-notification="') == 5
