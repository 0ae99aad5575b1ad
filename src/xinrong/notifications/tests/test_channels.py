"""E-mail and SMS channels: who gets what, through which backend, and failures that lose nothing."""

from __future__ import annotations

import json
import logging

import pytest
from django.core import mail

from xinrong.notifications import channels, services, sms
from xinrong.notifications.models import Notification

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _clean_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def _send(recipients, **kw):
        kw.setdefault("kind", "credit.dispute_corrected")
        kw.setdefault("title", "您的异议已更正")
        with django_capture_on_commit_callbacks(execute=True):
            return services.notification_send(recipients=recipients, **kw)

    return _send


def test_email_goes_to_users_with_an_address_only(make_user, send, settings):
    settings.XINRONG_PUBLIC_URL = "https://xinrong.example.gov.cn"
    with_mail = make_user("bank", ["loan_officer"], email="officer@bank.example.cn")
    without = make_user("bank", ["loan_officer"])
    send([with_mail, without], body="纳税额已按税务部门数据更正。", link="/credit/disputes/7/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["officer@bank.example.cn"]
    assert message.subject == "【信融】您的异议已更正"
    assert "纳税额已按税务部门数据更正。" in message.body
    assert "https://xinrong.example.gov.cn/credit/disputes/7/" in message.body
    assert Notification.objects.count() == 2


def test_inactive_users_get_no_email_or_sms(make_user, send):
    user = make_user("bank", ["loan_officer"], email="a@bank.example.cn", phone=PHONE)
    user.is_active = False
    user.save(update_fields=["is_active"])
    send([user])
    assert mail.outbox == [] and sms.outbox == []


def test_email_file_backend_writes_under_the_configured_directory(
    make_user, send, settings, tmp_path
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    user = make_user("bank", ["loan_officer"], email="officer@bank.example.cn")
    send([user])
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1
    assert "officer@bank.example.cn" in files[0].read_text(encoding="utf-8")


def test_settings_choose_the_channels(make_user, send, settings):
    user = make_user("bank", ["loan_officer"], email="a@bank.example.cn", phone=PHONE)
    settings.XINRONG_NOTIFICATION_CHANNELS = ["sms"]
    send([user])
    assert mail.outbox == [] and len(sms.outbox) == 1
    settings.XINRONG_NOTIFICATION_CHANNELS = []
    send([user])
    assert mail.outbox == [] and len(sms.outbox) == 1
    assert Notification.objects.filter(recipient=user).count() == 2


def test_sms_goes_to_the_decrypted_mobile_number(make_user, send):
    user = make_user("enterprise", ["enterprise_owner"], phone="+86 138-1234-5678")
    send([user], body="详见平台。")
    assert [(m.phone, m.text) for m in sms.outbox] == [
        (PHONE, "【信融】您的异议已更正：详见平台。")
    ]


def test_sms_skips_users_without_a_mobile_number(make_user, send):
    landline = make_user("bank", ["loan_officer"], phone="0971-1234567")
    nothing = make_user("bank", ["loan_officer"])
    send([landline, nothing])
    assert sms.outbox == []


def test_sms_only_for_the_configured_kinds(make_user, send, settings):
    user = make_user("bank", ["loan_officer"], phone=PHONE)
    settings.XINRONG_SMS_KINDS = ["marketplace.", "credit.alert"]
    send([user], kind="credit.dispute_corrected")
    assert sms.outbox == []
    send([user], kind="marketplace.application_submitted")
    send([user], kind="credit.alert")
    assert len(sms.outbox) == 2


def test_a_long_message_is_cut_into_marked_segments_of_70_characters(make_user, send):
    user = make_user("bank", ["loan_officer"], phone=PHONE)
    send([user], body="贷款申请" * 75)
    texts = [m.text for m in sms.outbox]
    assert len(texts) == 3
    assert all(len(t) <= sms.SEGMENT_CHARS for t in texts)
    assert [t[:5] for t in texts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert texts[-1].endswith("…")  # 300 characters shortened to the 3-segment limit


@pytest.mark.parametrize("length", [1, 69, 70, 71, 130, 135, 200, 700])
def test_segments_never_exceed_the_limit_and_keep_the_text(length):
    text = "".join(chr(0x4E00 + i % 500) for i in range(length))
    parts = sms.sms_segments(text)
    assert all(len(p) <= 70 for p in parts)
    if length <= 70:
        assert parts == [text]
    else:
        n = len(parts)
        assert "".join(p[len(f"({i}/{n})") :] for i, p in enumerate(parts, 1)) == text


def test_segments_count_characters_outside_the_basic_plane_twice():
    text = "😀" * 40  # 80 UTF-16 units
    parts = sms.sms_segments(text)
    assert len(parts) == 2
    assert all(len(p.encode("utf-16-le")) // 2 <= 70 for p in parts)


def test_the_limit_on_segments_shortens_the_text():
    parts = sms.sms_segments("字" * 1000, max_segments=2)
    assert len(parts) == 2 and parts[-1].endswith("…")
    assert sms.sms_segments("字" * 1000, max_segments=1) == ["字" * 69 + "…"]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", PHONE),
        ("+8613812345678", PHONE),
        ("138 1234 5678", PHONE),
        ("0971-1234567", ""),
        ("", ""),
    ],
)
def test_mobile_numbers_are_normalised(raw, normal):
    assert sms.mobile_normalise(raw) == normal


def test_the_file_backend_writes_the_number_masked(make_user, send, settings, tmp_path):
    settings.XINRONG_SMS_BACKEND = "xinrong.notifications.sms.FileBackend"
    settings.XINRONG_SMS_FILE_PATH = str(tmp_path / "sms")
    user = make_user("bank", ["loan_officer"], phone=PHONE)
    send([user])
    (day,) = list((tmp_path / "sms").iterdir())
    rows = [json.loads(line) for line in day.read_text(encoding="utf-8").splitlines()]
    assert [r["phone"] for r in rows] == ["138****5678"]
    assert rows[0]["text"] == "【信融】您的异议已更正"
    assert PHONE not in day.read_text(encoding="utf-8")


def test_the_console_backend_masks_the_number(capsys):
    sms.ConsoleBackend().send_messages([sms.SmsMessage(PHONE, "你好")])
    out = capsys.readouterr().out
    assert "138****5678" in out and PHONE not in out


class BrokenGateway(sms.BaseSmsBackend):
    def send_messages(self, messages):
        raise ConnectionError("gateway down")


def test_a_failing_gateway_loses_neither_the_inbox_nor_the_email(make_user, send, settings, caplog):
    settings.XINRONG_NOTIFICATION_CHANNELS = ["sms", "email"]
    settings.XINRONG_SMS_BACKEND = f"{__name__}.BrokenGateway"
    user = make_user("bank", ["loan_officer"], email="a@bank.example.cn", phone=PHONE)
    with caplog.at_level(logging.INFO, logger="xinrong.notifications.channels"):
        send([user])
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mail.outbox) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "138****5678" in logged and "SMS notification to" in logged


def test_a_mistyped_channel_loses_no_message(make_user, send, settings):
    settings.XINRONG_NOTIFICATION_CHANNELS = ["xinrong.notifications.nowhere.Channel"]
    user = make_user("bank", ["loan_officer"], email="a@bank.example.cn")
    send([user])
    assert Notification.objects.filter(recipient=user).count() == 1


def test_a_channel_may_be_named_by_class_path(make_user, send, settings):
    settings.XINRONG_NOTIFICATION_CHANNELS = [f"{__name__}.Recorder"]
    Recorder.seen.clear()
    user = make_user("bank", ["loan_officer"])
    send([user], title="到期提醒")
    assert Recorder.seen == ["到期提醒"]


class Recorder:
    seen: list[str] = []

    def __call__(self, notifications):
        Recorder.seen.extend(n.title for n in notifications)


def test_the_channels_are_the_builtin_ones_by_default(settings):
    assert [type(c) for c in channels.channels_configured()] == [
        channels.EmailChannel,
        channels.SmsChannel,
    ]
